import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/process.js";

// The benchmarks are plain .mjs over the build and are not run in CI: this keeps `npm run bench`
// from rotting unseen when an export they use is renamed or moved.
const BENCH = join(ROOT, "bench");
const load = (file: string): Promise<Record<string, unknown>> =>
  import(pathToFileURL(join(BENCH, file)).href);

interface Figure {
  name: string;
  unit: string;
  samples: number[];
  baseline?: { name: string; samples: number[] };
}

describe("the benchmarks", () => {
  // Node itself, not the test runner's transform, so that a missing export fails to link as it would in `npm run bench`.
  it.each(readdirSync(BENCH).filter((f) => f.endsWith(".bench.mjs")))(
    "%s links against the build and exports run()",
    (file) => {
      const check = `const m = await import(${JSON.stringify(pathToFileURL(join(BENCH, file)).href)}); if (typeof m.run !== "function") throw new Error("no run()");`;
      const result = spawnSync(process.execPath, ["--input-type=module", "-e", check], {
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(result.status, result.stderr).toBe(0);
    },
  );

  it("the codec benchmark measures itself and its baseline", async () => {
    const { run } = (await load("codec.bench.mjs")) as { run: () => Promise<Figure[]> };
    const [figure] = await run();
    expect(figure?.unit).toBe("frames/s");
    expect(figure?.samples.length).toBeGreaterThan(0);
    for (const rate of [...(figure?.samples ?? []), ...(figure?.baseline?.samples ?? [])])
      expect(rate).toBeGreaterThan(0);
    expect(figure?.baseline?.samples.length).toBe(figure?.samples.length);
  });
});
