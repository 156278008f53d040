import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { buildConfigSchema } from "../../src/config/schema.js";
import { JournalService, journalOutputs } from "../../src/daemon/mqtt-services.js";
import { serviceSpecs } from "../../src/daemon/services.js";
import { systemClock } from "../../src/lib/clock.js";
import { tempDir } from "../support/process.js";

const services: JournalService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

function journalService() {
  const config = buildConfigSchema().parse({
    daemon: { stateDirectory: tempDir("journal-service-") },
    mqtt: {
      url: "mqtt://127.0.0.1:1",
      baseTopic: "plant",
      journal: { maxBytes: 65_536, policy: "dropOldest" },
    },
  });
  const service = new JournalService({
    config,
    logger: pino({ level: "silent" }),
    clock: systemClock,
    metrics: new Registry(),
    healthReport: () => ({ healthy: true, services: {} }),
    statusChanged: () => undefined,
    lookup: () => undefined,
  });
  services.push(service);
  return service;
}

describe("the journal service", () => {
  // Cameras start, and journal their reports, before the MQTT bridge exists: a drop then must still be told.
  it("tells of reports its dropOldest policy drops in a gap record, with no MQTT bridge running", async () => {
    const service = journalService();
    await service.start();
    const { journal } = service;
    for (let cycle = 1; cycle <= 100; cycle++)
      await journal.append({
        type: "report",
        report: {
          cameraId: "cam1",
          id: `r${cycle}`,
          serial: "S1",
          bootTime: 7_000,
          inspection: 0,
          cycle,
          time: cycle,
          passed: true,
          stats: { cycleTimeMs: 1, processTimeMs: 1, passedCount: 1, failedCount: 0, dropped: 0 },
          results: { text: { type: "text", value: "x".repeat(1_000) } },
          images: [],
          lossless: true,
          recovered: false,
        },
      });
    expect(journal.dropped).toBeGreaterThan(0);
    const gaps = journal
      .output("mqtt")
      .range(0, Number.MAX_SAFE_INTEGER, 1_000)
      .flatMap((e) => (e.record.type === "gap" ? [e.record] : []));
    expect(gaps).toEqual([
      expect.objectContaining({
        cameraId: "cam1",
        inspection: 0,
        fromCycle: 1,
        toCycle: journal.dropped,
        reason: expect.stringContaining("dropOldest"),
      }),
    ]);
  });
});

describe("which outputs the journal keeps records for", () => {
  const enabled = (input: Record<string, unknown>) => {
    const config = buildConfigSchema().parse(input);
    return {
      outputs: journalOutputs(config),
      services: serviceSpecs()
        .filter((spec) => spec.enabled?.(config) ?? true)
        .map((spec) => spec.name)
        .filter((name) => ["broker", "journal", "mqtt", "sparkplug"].includes(name)),
    };
  };

  it("is the JSON API, Sparkplug, both, or none, as configured; Sparkplug runs alone on the embedded broker", () => {
    expect(enabled({ mqtt: { url: "mqtt://127.0.0.1:1" } })).toEqual({
      outputs: ["mqtt"],
      services: ["journal", "mqtt"],
    });
    expect(
      enabled({ mqtt: { enabled: false, embedded: { enabled: true } }, sparkplug: { enabled: true } }),
    ).toEqual({ outputs: ["sparkplug"], services: ["broker", "journal", "sparkplug"] });
    expect(
      enabled({
        mqtt: { url: "mqtt://127.0.0.1:1" },
        sparkplug: { enabled: true, servers: ["mqtt://127.0.0.1:2"] },
      }),
    ).toEqual({ outputs: ["mqtt", "sparkplug"], services: ["journal", "mqtt", "sparkplug"] });
    // Sparkplug with no server and no embedded broker has nowhere to go: it stays off, and so does the journal.
    expect(enabled({ mqtt: { enabled: false }, sparkplug: { enabled: true } })).toEqual({
      outputs: [],
      services: [],
    });
  });
});
