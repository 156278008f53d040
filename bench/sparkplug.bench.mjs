// Sparkplug reports/s: lossless reports kept in the journal, sent by the edge node as one DDATA
// each through Mosquitto to a host that counts them, against raw mqtt.js publishing the same
// protobuf bytes at QoS 0 (as DDATA goes) in the same run.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import { BdSeqStore } from "../dist/bridges/sparkplug/bdseq.js";
import { recordMetrics } from "../dist/bridges/sparkplug/device-metrics.js";
import { EdgeNode, SPARKPLUG_OUTPUT } from "../dist/bridges/sparkplug/edge-node.js";
import { encodePayload } from "../dist/bridges/sparkplug/payload.js";
import { buildConfigSchema } from "../dist/config/schema.js";
import { Journal, reportRecord } from "../dist/journal/index.js";
import { systemClock } from "../dist/lib/clock.js";
import { EventBus } from "../dist/lib/event-bus.js";
import { startBroker } from "./broker.mjs";
import { syntheticReport } from "./mqtt.bench.mjs";

const SECONDS = 3;
const RUNS = 3;
const logger = pino({ level: "silent" });

async function host(url, topic) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
  let received = 0;
  client.on("message", () => received++);
  await client.subscribeAsync(topic, { qos: 0 });
  return { client, received: () => received };
}

/** The edge node fed by four sources, each with a window of 64 lossless reports awaiting the journal. */
async function edgeNodeRun(url) {
  const dir = mkdtempSync(join(tmpdir(), "bench-sparkplug-"));
  const config = buildConfigSchema().parse({ sparkplug: { enabled: true, servers: [url], nodeId: "bench" } });
  const journal = new Journal({
    path: join(dir, "journal.sqlite"),
    maxBytes: 1 << 30,
    policy: "block",
    fsync: true,
    groupCommitMs: config.mqtt.journal.groupCommitMs,
    logger,
    outputs: [SPARKPLUG_OUTPUT],
  });
  journal.open();
  const cameras = [0, 1, 2, 3].map((c) => ({
    id: `c${c}`,
    availability: "online",
    status: "running",
    job: "j",
    inControl: "",
    address: "127.0.0.1",
    counters: { inspections: 0, passed: 0, failed: 0 },
  }));
  const hub = {
    events: new EventBus(() => {}),
    cameras,
    io: () => [],
    command: async () => ({}),
    commandsOf: () => undefined,
  };
  const node = new EdgeNode({
    config: config.sparkplug,
    servers: [url],
    hub,
    journal: journal.output(SPARKPLUG_OUTPUT),
    journalEnd: () => journal.lastSeq,
    commands: config.mqtt.commands,
    bdSeq: new BdSeqStore(join(dir, "bdseq.json")),
    clock: systemClock,
    random: Math.random,
    logger,
    version: "bench",
    statusChanged: () => undefined,
  });
  const sub = await host(url, "spBv1.0/smartcam/DDATA/bench/+");
  node.start();
  while (!node.born) await new Promise((r) => setTimeout(r, 10));
  const before = sub.received();
  const started = Date.now();
  const end = started + SECONDS * 1_000;
  let cycle = 0;
  await Promise.all(
    cameras.map(async ({ id }) => {
      const window = new Set();
      while (Date.now() < end) {
        while (window.size < 64) {
          const p = journal.append(reportRecord(syntheticReport(id, ++cycle))).then(() => window.delete(p));
          window.add(p);
        }
        await Promise.race(window);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 200));
  const rate = (sub.received() - before) / ((Date.now() - started) / 1_000);
  await node.stop();
  journal.close();
  await sub.client.endAsync(true);
  return rate;
}

/** mqtt.js publishing one report's DDATA bytes at QoS 0, as fast as the socket takes them. */
async function rawRun(url) {
  const { metrics } = recordMetrics(reportRecord(syntheticReport("c0", 1)), Date.now());
  const bytes = encodePayload({
    timestamp: Date.now(),
    seq: 1,
    metrics: metrics.map((m, i) => ({
      alias: i + 10,
      timestamp: m.timestamp,
      datatype: m.datatype,
      value: m.value,
    })),
  });
  const sub = await host(url, "spBv1.0/raw/DDATA/bench/+");
  const pub = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const before = sub.received();
  const started = Date.now();
  const end = started + SECONDS * 1_000;
  while (Date.now() < end) {
    for (let i = 0; i < 64; i++) pub.publish("spBv1.0/raw/DDATA/bench/c0", bytes, { qos: 0 });
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200));
  const rate = (sub.received() - before) / ((Date.now() - started) / 1_000);
  await pub.endAsync(true);
  await sub.client.endAsync(true);
  return rate;
}

export async function run() {
  const broker = await startBroker();
  const node = [];
  const raw = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      node.push(await edgeNodeRun(broker.url));
      raw.push(await rawRun(broker.url));
    }
  } finally {
    await broker.stop();
  }
  return [
    {
      name: "Sparkplug: lossless reports as DDATA through the edge node (journal fsync)",
      unit: "reports/s",
      samples: node,
      baseline: { name: "raw mqtt.js, the same DDATA bytes at QoS 0", samples: raw },
    },
  ];
}
