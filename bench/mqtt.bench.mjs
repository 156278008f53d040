// Reports/s through the bridge (journal with fsync, outbox) and Mosquitto to a subscriber, and
// latency at 1 000 reports/s; each against a raw mqtt.js publisher sending payloads of the same
// size in the same run. The bridge's capacity is measured with reports fed to its input (the
// camera layer's keeper and event bus) as fast as windows of 64 allow; a second figure runs the
// whole path from simulated cameras, which their timers limit.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import { Registry } from "prom-client";
import { MqttBridge } from "../dist/bridges/mqtt/bridge.js";
import { CameraHub } from "../dist/camera/hub.js";
import { fleetPorts, SimulatorFleet } from "../dist/camera/simulator/fleet.js";
import { vsCodec } from "../dist/camera/wire/index.js";
import { buildConfigSchema } from "../dist/config/schema.js";
import { Journal, keepInJournal, reportRecord } from "../dist/journal/index.js";
import { systemClock } from "../dist/lib/clock.js";
import { EventBus } from "../dist/lib/event-bus.js";
import { startBroker } from "./broker.mjs";

const RUNS = 3;
const SECONDS = 3;
const logger = pino({ level: "silent" });

/** The daemon's journal as its defaults make it, with the MQTT output alone. */
export function openJournal(fsync) {
  const path = join(mkdtempSync(join(tmpdir(), "bench-journal-")), "j.sqlite");
  const { groupCommitMs } = buildConfigSchema().parse({}).mqtt.journal;
  const journal = new Journal({
    path,
    maxBytes: 1 << 30,
    policy: "block",
    fsync,
    groupCommitMs,
    logger,
    outputs: ["mqtt"],
  });
  journal.open();
  return journal;
}

export function startBridge(config, url, hub, journal) {
  const metrics = new Registry();
  const bridge = new MqttBridge({
    config,
    url,
    version: "bench",
    hub,
    journal,
    clock: systemClock,
    random: Math.random,
    logger,
    metrics,
    health: () => ({}),
    statusChanged: () => {},
  });
  bridge.start();
  return bridge;
}

export async function subscribe(url, filter, onMessage) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
  client.on("message", onMessage);
  await client.subscribeAsync(filter, { qos: 1 });
  return client;
}

/** The bridge with `cameras` simulated cameras at `rateHz` each, for `seconds`; returns reports/s received and latencies. */
async function bridgeRun(url, { cameras, rateHz, lossless, seconds }) {
  const basePort = 23_000 + Math.floor(Math.random() * 5_000);
  const fleet = new SimulatorFleet({
    count: cameras,
    seed: 1,
    rateHz,
    host: "127.0.0.1",
    basePort,
    password: "pw",
    codec: vsCodec,
    clock: systemClock,
  });
  await fleet.start();
  const base = `bench${Math.floor(Math.random() * 1e6)}`;
  const config = buildConfigSchema().parse({
    cameras: {
      discovery: { enabled: false },
      defaults: { reports: [{ inspection: 0, lossless, window: 64 }] },
    },
    mqtt: { url, baseTopic: base, journal: { fsync: true } },
  });
  const endpoints = Array.from({ length: cameras }, (_, i) => {
    const { outputs, announce, ...ports } = fleetPorts(basePort, i);
    return {
      id: `c${i}`,
      address: "127.0.0.1",
      serial: `S${i}`,
      ports,
      user: "admin",
      password: undefined,
      control: "never",
      reports: config.cameras.defaults.reports,
    };
  });
  const journal = openJournal(true);
  const hub = new CameraHub({
    config: config.cameras,
    endpoints,
    codec: vsCodec,
    clock: systemClock,
    random: Math.random,
    logger,
    clientName: "bench",
  });
  keepInJournal(hub, journal, logger);
  const latencies = [];
  let received = 0;
  let counting = false;
  const sub = await subscribe(url, `${base}/+/report/0`, (_topic, payload) => {
    if (!counting) return;
    received++;
    latencies.push(Date.now() - Date.parse(JSON.parse(payload.toString()).time));
  });
  const bridge = startBridge(config.mqtt, url, hub, journal);
  await hub.start();
  while (hub.cameras.some((c) => c.availability !== "online")) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  counting = true;
  const started = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  counting = false;
  const rate = received / ((Date.now() - started) / 1_000);
  await bridge.stop();
  await hub.stop();
  await fleet.stop();
  journal.close();
  await sub.endAsync(true);
  return { rate, latencies };
}

export function syntheticReport(camera, cycle) {
  return {
    cameraId: camera,
    id: `S-${camera}-0-${cycle}`,
    serial: `S-${camera}`,
    bootTime: 0,
    inspection: 0,
    cycle,
    time: Date.now(),
    passed: cycle % 5 !== 0,
    stats: { cycleTimeMs: 21.5, processTimeMs: 9.25, passedCount: cycle, failedCount: 0, dropped: 0 },
    results: {
      "Snapshot1.Blob1.Count": { type: "int", value: 3 },
      "Snapshot1.Blob1.Area": { type: "float", value: 1234.5 },
      "Snapshot1.Code.Text": { type: "text", value: `LOT-${cycle}` },
      "Snapshot1.Tool.Passed": { type: "bool", value: true },
      "Snapshot1.Time": { type: "time", value: Date.now() },
      "Snapshot1.Code.Raw": { type: "bytes", value: Uint8Array.of(1, 2, 3) },
      "Snapshot1.Blob1.Centers": {
        type: "list",
        value: [
          { type: "float", value: 12.5 },
          { type: "float", value: 40.25 },
        ],
      },
      "Snapshot1.Tool.Box": {
        type: "record",
        value: {
          x: { type: "int", value: 10 },
          y: { type: "int", value: 5 },
          w: { type: "int", value: 40 },
          h: { type: "int", value: 30 },
        },
      },
    },
    images: [],
    lossless: true,
    recovered: false,
  };
}

/**
 * The bridge fed directly: `cameras` sources each keep up to 64 lossless reports unkept (a camera's
 * window), or emit lossy ones at `ratePerSecond` in all. Latency is from hand-over to receipt.
 */
export async function bridgeCapacity(url, { lossless, seconds, ratePerSecond, fsync = true, attach }) {
  const base = `cap${Math.floor(Math.random() * 1e6)}`;
  const config = buildConfigSchema().parse({
    cameras: { discovery: { enabled: false } },
    mqtt: { url, baseTopic: base, journal: { fsync: true } },
  });
  const journal = openJournal(fsync);
  const events = new EventBus(() => {});
  const hub = { events, cameras: [], io: () => [], command: async () => ({}), session: () => undefined };
  // Another consumer of the same events (the console's bench), started before and stopped after.
  const detach = attach ? await attach(events) : undefined;
  const keep = (report) => journal.append(reportRecord(report));
  const sentAt = new Map();
  const latencies = [];
  let received = 0;
  let counting = false;
  const sub = await subscribe(url, `${base}/+/report/0`, (_topic, payload) => {
    if (!counting) return;
    received++;
    // Only latency runs look inside: a throughput run's subscriber does as little as the baseline's.
    if (!ratePerSecond) return;
    const id = JSON.parse(payload.toString()).id;
    const at = sentAt.get(id);
    if (at !== undefined) latencies.push(Number(process.hrtime.bigint() - at) / 1e6);
    sentAt.delete(id);
  });
  const bridge = startBridge(config.mqtt, url, hub, journal);
  while (!bridge.connection.connected) await new Promise((r) => setTimeout(r, 10));
  counting = true;
  const started = Date.now();
  const end = started + seconds * 1_000;
  let cycle = 0;
  const send = (camera) => {
    const report = { ...syntheticReport(camera, ++cycle), lossless };
    if (ratePerSecond) sentAt.set(report.id, process.hrtime.bigint());
    if (lossless) return keep(report);
    events.emit({ type: "report", report });
    return Promise.resolve();
  };
  if (ratePerSecond) {
    let sent = 0;
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - started) / 1_000) * ratePerSecond);
      while (sent < due) {
        void send("c0");
        sent++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  } else if (lossless) {
    // Four cameras, each with a window of 64 reports awaiting the journal.
    await Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        const window = new Set();
        while (Date.now() < end) {
          while (window.size < 64) {
            const p = send(`c${c}`).then(() => window.delete(p));
            window.add(p);
          }
          await Promise.race(window);
        }
      }),
    );
  } else {
    while (Date.now() < end) {
      for (let i = 0; i < 64; i++) void send("c0");
      await new Promise((r) => setImmediate(r));
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  counting = false;
  const rate = received / ((Date.now() - started) / 1_000);
  await bridge.stop();
  journal.close();
  await sub.endAsync(true);
  await detach?.();
  return { rate, latencies };
}

/** The baseline: mqtt.js publishing same-sized payloads at the same QoS, as fast as it can or at a set rate. */
async function rawRun(url, { qos, seconds, ratePerSecond, size }) {
  const topic = `raw${Math.floor(Math.random() * 1e6)}/report`;
  const latencies = [];
  let received = 0;
  const sub = await subscribe(url, topic, (_t, payload) => {
    received++;
    if (ratePerSecond)
      latencies.push(
        Number(process.hrtime.bigint() - BigInt(payload.subarray(0, 20).toString().trim())) / 1e6,
      );
  });
  const pub = await mqtt.connectAsync(url, { protocolVersion: 5 });
  pub.stream.setNoDelay(true);
  const filler = "x".repeat(size - 20);
  const stamp = () => String(process.hrtime.bigint()).padStart(20, " ");
  const started = Date.now();
  const end = started + seconds * 1_000;
  if (ratePerSecond) {
    let sent = 0;
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - started) / 1_000) * ratePerSecond);
      while (sent < due) {
        pub.publish(topic, `${stamp()}${filler}`, { qos });
        sent++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  } else {
    let inflight = 0;
    while (Date.now() < end) {
      while (inflight < 256) {
        inflight++;
        pub.publish(topic, `${stamp()}${filler}`, { qos }, () => inflight--);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  const rate = received / ((Date.now() - started) / 1_000);
  await pub.endAsync(true);
  await sub.endAsync(true);
  return { rate, latencies };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function run() {
  const broker = await startBroker();
  const size = 1_100;
  const out = {
    lossless: [],
    rawQos1: [],
    lossy: [],
    rawQos0: [],
    endToEnd: [],
    p50: [],
    p99: [],
    rawP50: [],
    rawP99: [],
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      out.lossless.push((await bridgeCapacity(broker.url, { lossless: true, seconds: SECONDS })).rate);
      out.rawQos1.push((await rawRun(broker.url, { qos: 1, seconds: SECONDS, size })).rate);
      out.lossy.push((await bridgeCapacity(broker.url, { lossless: false, seconds: SECONDS })).rate);
      out.rawQos0.push((await rawRun(broker.url, { qos: 0, seconds: SECONDS, size })).rate);
      const paced = await bridgeCapacity(broker.url, {
        lossless: true,
        seconds: SECONDS,
        ratePerSecond: 1_000,
      });
      out.p50.push(percentile(paced.latencies, 50));
      out.p99.push(percentile(paced.latencies, 99));
      const raw = await rawRun(broker.url, { qos: 1, seconds: SECONDS, ratePerSecond: 1_000, size });
      out.rawP50.push(percentile(raw.latencies, 50));
      out.rawP99.push(percentile(raw.latencies, 99));
      out.endToEnd.push(
        (await bridgeRun(broker.url, { cameras: 4, rateHz: 1_000, lossless: true, seconds: SECONDS })).rate,
      );
    }
  } finally {
    await broker.stop();
  }
  return [
    {
      name: "lossless reports (QoS 1, journal fsync) through the bridge",
      unit: "reports/s",
      samples: out.lossless,
      baseline: { name: "raw mqtt.js QoS 1", samples: out.rawQos1 },
      goal: ">= 0.5x",
    },
    {
      name: "lossy reports (QoS 0) through the bridge",
      unit: "reports/s",
      samples: out.lossy,
      baseline: { name: "raw mqtt.js QoS 0", samples: out.rawQos0 },
      goal: ">= 0.5x",
    },
    {
      name: "latency p50 at 1 000 reports/s (lossless)",
      unit: "ms",
      samples: out.p50,
      baseline: { name: "raw mqtt.js QoS 1 at 1 000/s", samples: out.rawP50 },
    },
    {
      name: "latency p99 at 1 000 reports/s (lossless)",
      unit: "ms",
      samples: out.p99,
      baseline: { name: "raw mqtt.js QoS 1 at 1 000/s", samples: out.rawP99 },
      goal: "<= 2 ms",
    },
    {
      name: "end to end: 4 simulated cameras at 1 kHz -> bridge -> subscriber",
      unit: "reports/s",
      samples: out.endToEnd,
    },
  ];
}
