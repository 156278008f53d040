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

describe("the heap growth setting", () => {
  it("sets V8's heap growth at start (30% unless configured) and again on a reload, without a restart", async () => {
    const flags: string[] = [];
    const daemon = daemonWith({}, flags);
    await daemon.start();
    expect(flags).toEqual(["--heap-growing-percent=30"]);
    const outcome = await daemon.reload(buildConfigSchema().parse({ daemon: { heapGrowthPercent: 0 } }));
    expect(outcome.needRestart).toEqual([]);
    expect(flags).toEqual(["--heap-growing-percent=30", "--heap-growing-percent=0"]);
    await daemon.stop();
  });

  it("refuses a value outside 0..400, naming the key", () => {
    const result = buildConfigSchema().safeParse({ daemon: { heapGrowthPercent: 1_000 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["daemon", "heapGrowthPercent"]);
  });
});
