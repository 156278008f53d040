import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { buildConfigSchema } from "../../src/config/schema.js";
import { LoadService } from "../../src/daemon/load-service.js";
import { captureLog } from "../support/log.js";
import { ManualClock } from "../support/manual-clock.js";

describe("the load service", () => {
  it("says overloaded with the lag in /healthz, the status and a metric, and logs each change once", async () => {
    const clock = new ManualClock();
    const metrics = new Registry();
    const { logger, records } = captureLog();
    let statusChanges = 0;
    const delays = [12, 900, 950, 40, 35];
    const config = buildConfigSchema().parse({ daemon: { overload: { lagMs: 500, windowMs: 5_000 } } });
    const service = new LoadService(
      {
        config,
        logger,
        clock,
        metrics,
        healthReport: () => ({ healthy: true, services: {} }),
        statusChanged: () => statusChanges++,
        lookup: () => undefined,
      },
      () => delays.shift() ?? 0,
    );
    await service.start();
    const metric = async (name: string) =>
      Number(/ (\S+)$/.exec(await metrics.getSingleMetricAsString(name))?.[1]);

    await clock.advance(5_000);
    expect(service.health()).toEqual({ healthy: true, detail: "event loop p99 delay 12 ms" });
    expect(service.status()).toBeUndefined();
    expect(await metric("smartcam_overloaded")).toBe(0);

    await clock.advance(5_000);
    expect(service.health().detail).toBe("overloaded: event loop p99 delay 900 ms");
    expect(service.status()).toBe("overloaded (event loop lag 900 ms)");
    expect(await metric("smartcam_overloaded")).toBe(1);
    expect(await metric("smartcam_event_loop_delay_p99_seconds")).toBe(0.9);
    await clock.advance(5_000);
    expect(service.health().detail).toBe("overloaded: event loop p99 delay 950 ms");

    await clock.advance(5_000);
    expect(service.status()).toBeUndefined();
    await clock.advance(5_000);
    const said = records().map((record) => String(record.msg));
    expect(said.filter((msg) => msg.startsWith("overloaded"))).toHaveLength(1);
    expect(said.filter((msg) => msg === "no longer overloaded")).toHaveLength(1);
    expect(statusChanges).toBe(2);
    await service.stop();
    expect(clock.pending).toBe(0);
  });
});
