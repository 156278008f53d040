import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { buildConfigSchema } from "../../src/config/schema.js";
import { Daemon } from "../../src/daemon/daemon.js";

const notifier = { enabled: false, send: () => undefined, close: () => undefined };

function daemonWith(daemon: Record<string, unknown>, flags: string[]) {
  const config = buildConfigSchema().parse({ daemon });
  return new Daemon({
    config,
    logger: pino({ level: "silent" }),
    notifier,
    specs: [],
    env: {},
    setV8Flags: (value) => flags.push(value),
  });
}

describe("the heap settings", () => {
  it("set V8's heap sizing at start (V8's own, 0 and factor 2, unless configured) and again on a reload, without a restart", async () => {
    const flags: string[] = [];
    const daemon = daemonWith({}, flags);
    await daemon.start();
    expect(flags).toEqual(["--heap-growing-percent=0", "--semi-space-growth-factor=2"]);
    const next = buildConfigSchema().parse({
      daemon: { heap: { growthPercent: 15, newSpaceGrowthFactor: 1 } },
    });
    const outcome = await daemon.reload(next);
    expect(outcome.needRestart).toEqual([]);
    expect(flags.slice(2)).toEqual(["--heap-growing-percent=15", "--semi-space-growth-factor=1"]);
    await daemon.stop();
  });

  it("refuse values out of range, naming the key", () => {
    const percent = buildConfigSchema().safeParse({ daemon: { heap: { growthPercent: 1_000 } } });
    expect(percent.error?.issues[0]?.path).toEqual(["daemon", "heap", "growthPercent"]);
    const factor = buildConfigSchema().safeParse({ daemon: { heap: { newSpaceGrowthFactor: 0 } } });
    expect(factor.error?.issues[0]?.path).toEqual(["daemon", "heap", "newSpaceGrowthFactor"]);
  });
});
