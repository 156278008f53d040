import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import type { Service, ServiceSpec } from "../../src/daemon/service.js";
import { Supervisor, startOrder } from "../../src/daemon/supervisor.js";
import { ManualClock } from "../support/manual-clock.js";

interface Recorder {
  events: string[];
}

function spec(
  name: string,
  recorder: Recorder,
  extra: Partial<ServiceSpec> & { stop?: () => Promise<void> } = {},
): ServiceSpec {
  return {
    name,
    configKeys: [],
    ...extra,
    create: ({ config }): Service => ({
      start: async () => {
        recorder.events.push(`start ${name} port=${config.http.port}`);
      },
      stop: extra.stop ?? (async () => void recorder.events.push(`stop ${name}`)),
      health: () => ({ healthy: true }),
      status: () => `${name} ok`,
    }),
  };
}

function supervisor(specs: ServiceSpec[], clock = new ManualClock()) {
  return new Supervisor({
    specs,
    logger: pino({ level: "silent" }),
    clock,
    context: { clock, metrics: new Registry(), statusChanged: () => undefined },
  });
}

const config = (args: string[] = []): Config => loadConfig({ env: {}, args });

describe("startOrder", () => {
  it("puts every service after its dependencies", () => {
    const r: Recorder = { events: [] };
    const order = startOrder([
      spec("bridge", r, { dependsOn: ["cameras", "mqtt"] }),
      spec("mqtt", r),
      spec("cameras", r, { dependsOn: ["mqtt"] }),
    ]).map((s) => s.name);
    expect(order).toEqual(["mqtt", "cameras", "bridge"]);
  });

  it("rejects cycles and unknown dependencies", () => {
    const r: Recorder = { events: [] };
    expect(() =>
      startOrder([spec("a", r, { dependsOn: ["b"] }), spec("b", r, { dependsOn: ["a"] })]),
    ).toThrow(/cycle: a -> b -> a/);
    expect(() => startOrder([spec("a", r, { dependsOn: ["zz"] })])).toThrow(/unknown service zz/);
  });
});

describe("Supervisor", () => {
  it("starts in dependency order and stops in reverse", async () => {
    const r: Recorder = { events: [] };
    const s = supervisor([
      spec("c", r, { dependsOn: ["b"] }),
      spec("a", r),
      spec("b", r, { dependsOn: ["a"] }),
    ]);
    await s.start(config());
    expect(s.statusPhrases()).toEqual(["a ok", "b ok", "c ok"]);
    const result = await s.stop(1_000);
    expect(result).toEqual({ timedOut: [], failed: [] });
    expect(r.events).toEqual([
      "start a port=9180",
      "start b port=9180",
      "start c port=9180",
      "stop c",
      "stop b",
      "stop a",
    ]);
    expect(s.running).toEqual([]);
  });

  it("skips services the config does not enable, and reports the rest in health", async () => {
    const r: Recorder = { events: [] };
    const s = supervisor([spec("a", r), spec("off", r, { enabled: () => false })]);
    await s.start(config());
    expect(s.running).toEqual(["a"]);
    expect(s.health()).toEqual({ healthy: true, services: { a: { healthy: true } } });
  });

  it("gives up on a service that overruns the stop deadline and still stops the others", async () => {
    const r: Recorder = { events: [] };
    const clock = new ManualClock();
    const hang = () => new Promise<void>(() => undefined);
    const s = supervisor([spec("a", r), spec("stuck", r, { dependsOn: ["a"], stop: hang })], clock);
    await s.start(config());
    const stopping = s.stop(5_000);
    await clock.advance(4_999);
    expect(r.events).not.toContain("stop a");
    await clock.advance(1);
    expect(await stopping).toEqual({ timedOut: ["stuck"], failed: [] });
    expect(r.events.at(-1)).toBe("stop a");
    expect(clock.pending).toBe(0);
  });

  it("reports a service whose stop throws, and goes on", async () => {
    const r: Recorder = { events: [] };
    const s = supervisor([spec("a", r), spec("bad", r, { stop: () => Promise.reject(new Error("boom")) })]);
    await s.start(config());
    expect(await s.stop(1_000)).toEqual({ timedOut: [], failed: ["bad"] });
    expect(r.events.at(-1)).toBe("stop a");
  });

  it("stops what it started when a later service fails to start", async () => {
    const r: Recorder = { events: [] };
    const broken: ServiceSpec = {
      name: "broken",
      configKeys: [],
      dependsOn: ["a"],
      create: () => ({
        start: () => Promise.reject(new Error("port in use")),
        stop: async () => undefined,
        health: () => ({ healthy: false }),
      }),
    };
    const s = supervisor([spec("a", r), broken]);
    await expect(s.start(config())).rejects.toThrow("port in use");
    expect(r.events).toEqual(["start a port=9180", "stop a"]);
  });

  it("on reload restarts only services whose keys changed, and their dependents", async () => {
    const r: Recorder = { events: [] };
    const s = supervisor([
      spec("web", r, { configKeys: ["http"] }),
      spec("user", r, { dependsOn: ["web"] }),
      spec("other", r, { configKeys: ["log"] }),
    ]);
    await s.start(config());
    r.events.length = 0;
    const outcome = await s.reload(config(["--http.port", "9999"]), ["http.port", "daemon.stateDirectory"]);
    expect(outcome).toEqual({ restarted: ["web", "user"], unclaimed: ["daemon.stateDirectory"] });
    expect(r.events).toEqual(["stop user", "stop web", "start web port=9999", "start user port=9999"]);
  });
});
