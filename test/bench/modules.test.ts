import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/process.js";

// The benchmarks are plain .mjs over the build and are not run in CI: this keeps `npm run bench`
// from rotting unseen when an export they use is renamed or moved.
const BENCH = join(ROOT, "bench");

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

  // The quick ones run whole, so that a pipeline that loses data fails here instead of in a bench run.
  it.each(["codec.bench.mjs", "serial.bench.mjs"])(
    "%s runs and measures itself and its baseline",
    (file) => {
      const script = `const m = await import(${JSON.stringify(pathToFileURL(join(BENCH, file)).href)}); console.log(JSON.stringify(await m.run()));`;
      const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        timeout: 100_000,
      });
      expect(result.status, result.stderr).toBe(0);
      const figures = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "[]") as Figure[];
      expect(figures.length).toBeGreaterThan(0);
      for (const figure of figures) {
        expect(figure.samples.length, figure.name).toBeGreaterThan(0);
        expect(figure.baseline?.samples.length, figure.name).toBe(figure.samples.length);
        for (const rate of [...figure.samples, ...(figure.baseline?.samples ?? [])])
          expect(rate).toBeGreaterThan(0);
      }
    },
    120_000,
  );

  // The scale run as configured by default (MQTT and OPC UA on), at 200 cameras for a few seconds:
  // what it accounts for must add up, with no cycle missing.
  it("scale.bench.mjs runs 200 cameras for a few seconds and misses no cycle", () => {
    const script = `
        const { scaleRun } = await import(${JSON.stringify(pathToFileURL(join(BENCH, "scale.bench.mjs")).href)});
        const { startBroker } = await import(${JSON.stringify(pathToFileURL(join(BENCH, "broker.mjs")).href)});
        const broker = await startBroker();
        try {
          const r = await scaleRun(broker.url, 200, {}, process.env, { windowS: 3, settleS: 1, catchUpDeadlineMs: 60000 });
          console.log(JSON.stringify({ missing: r.missing, live: r.live, recovered: r.recovered, gap: r.gap, drops: r.drops, cameras: r.camerasReporting, reports: r.reports }));
        } finally { await broker.stop(); }`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 280_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, number>;
    console.log(`[scale] 200 cameras: ${JSON.stringify(run)}`);
    expect(run.cameras).toBe(200);
    expect(run.reports).toBeGreaterThan(0);
    expect(run.missing).toBe(0);
  }, 300_000);
});
