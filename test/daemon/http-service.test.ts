import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { HttpService } from "../../src/daemon/http-service.js";
import type { HealthReport } from "../../src/daemon/service.js";
import { systemClock } from "../../src/lib/clock.js";

function service(report: () => HealthReport) {
  return new HttpService({
    config: loadConfig({ env: {}, args: ["--http.port", "0"] }),
    logger: pino({ level: "silent" }),
    clock: systemClock,
    metrics: new Registry(),
    healthReport: report,
    statusChanged: () => undefined,
    lookup: () => undefined,
  });
}

describe("HttpService", () => {
  it("answers 503 on /healthz naming the service that is not healthy", async () => {
    const http = service(() => ({
      healthy: false,
      services: { http: { healthy: true }, mqtt: { healthy: false, detail: "broker unreachable" } },
    }));
    await http.start();
    try {
      const response = await fetch(`http://${http.address}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        healthy: false,
        services: { mqtt: { detail: "broker unreachable" } },
      });
      expect((await fetch(`http://${http.address}/nope`)).status).toBe(404);
      expect((await fetch(`http://${http.address}/healthz`, { method: "POST" })).status).toBe(405);
    } finally {
      await http.stop();
    }
    expect(http.health().healthy).toBe(false);
  });
});
