// OPC UA: reports/s reflected to a subscribed client (ResultReady events and LastReport.Cycle
// changes) through the bridge, against node-opcua's raw setValueFromSource on one variable, in the
// same run; and latency from report to delivered change. Server and client share this process and
// the None policy on both sides, so the ratio is about the bridge's own work, not the cipher.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AttributeIds,
  constructEventFilter,
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
} from "node-opcua";
import { pino } from "pino";
import { Registry } from "prom-client";
import { OpcuaBridge } from "../dist/bridges/opcua/bridge.js";
import { OpcuaServer } from "../dist/bridges/opcua/server.js";
import { buildConfigSchema } from "../dist/config/schema.js";
import { EventBus } from "../dist/lib/event-bus.js";
import { syntheticReport } from "./mqtt.bench.mjs";

const REPORTS = 5_000;
const BATCH = 250;
const RUNS = 3;
const PACED_PER_SECOND = 500;
const PACED = 2_000;
const logger = pino({ level: "silent" });
const state = {
  id: "cam1",
  address: "127.0.0.1",
  serial: "SIM-1",
  availability: "online",
  status: "running",
  job: "job",
  inControl: "",
  counters: { inspections: 0, passed: 0, failed: 0 },
};

async function startServer(dir) {
  const port = 48_000 + Math.floor(Math.random() * 1_000);
  const config = buildConfigSchema().parse({
    opcua: {
      host: "127.0.0.1",
      hostname: "127.0.0.1",
      port,
      allowUnsecured: true,
      autoAcceptCertificates: true,
    },
  }).opcua;
  const server = new OpcuaServer({ config, stateDirectory: dir, version: "bench", logger });
  await server.start();
  return server;
}

/** A client on the None policy with its certificate store under dir: the benches measure the server, not the cipher. */
export function noneClient(dir) {
  return OPCUAClient.create({
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: join(dir, "client-pki"),
      automaticallyAcceptUnknownCertificate: true,
    }),
  });
}

async function connect(server, dir) {
  const client = noneClient(dir);
  await client.connect(server.endpointUrl);
  const session = await client.createSession();
  const subscription = await session.createSubscription2({
    requestedPublishingInterval: 10,
    requestedLifetimeCount: 6_000,
    requestedMaxKeepAliveCount: 100,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const monitor = async (nodeId, onValue) => {
    const item = await subscription.monitor(
      { nodeId, attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 10_000, discardOldest: false },
      TimestampsToReturn.Neither,
    );
    item.on("changed", (value) => onValue(value.value.value));
  };
  const mv = (await session.readNamespaceArray()).indexOf("http://opcfoundation.org/UA/MachineVision");
  const events = async (onEvent) => {
    const item = await subscription.monitor(
      { nodeId: "i=2253", attributeId: AttributeIds.EventNotifier },
      {
        samplingInterval: 0,
        queueSize: 10_000,
        discardOldest: false,
        filter: constructEventFilter([`${mv}:ResultId`]),
      },
      TimestampsToReturn.Neither,
    );
    item.on("changed", (fields) => {
      if (fields[0]?.dataType === DataType.ExtensionObject) onEvent(fields[0].value);
    });
  };
  return { monitor, events, close: () => client.disconnect() };
}

/** Emits `count` values in batches of BATCH per event-loop turn; resolves when the client has them all. */
async function flood(emit, received, count) {
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < count; sent += BATCH) {
    for (let i = sent; i < Math.min(count, sent + BATCH); i++) emit(i + 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
  while (received() < count) await new Promise((resolve) => setTimeout(resolve, 2));
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function withRig(work, cameras = 1) {
  const dir = mkdtempSync(join(tmpdir(), "smartcam-bench-opcua-"));
  const server = await startServer(dir);
  const events = new EventBus(() => {});
  const states = Array.from({ length: cameras }, (_, i) =>
    i === 0 ? state : { ...state, id: `cam${i + 1}` },
  );
  const hub = { events, cameras: states, io: () => [], command: async () => ({}) };
  const bridge = new OpcuaBridge({ server, hub, logger, metrics: new Registry() });
  await bridge.start();
  const client = await connect(server, dir);
  try {
    return await work({ server, events, client });
  } finally {
    await client.close();
    bridge.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bridged() {
  return withRig(async ({ events, client }) => {
    let changes = 0;
    let raised = 0;
    await client.monitor("ns=1;s=cam1.LastReport.Cycle", (cycle) => {
      if (cycle > 0) changes++;
    });
    await client.events(() => raised++);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return flood(
      (cycle) => events.emit({ type: "report", report: syntheticReport("cam1", cycle) }),
      () => Math.min(changes, raised),
      REPORTS,
    );
  });
}

const WIDE = 1_000;
const WATCHED = 5;

/**
 * 1 000 cameras' variables (built first, as the daemon does after READY), a subscriber on the Cycle of five of them and no event monitor:
 * reports round-robin over every camera, until the watched ones have their last cycle. What no
 * client monitors should cost next to nothing.
 */
async function wide() {
  return withRig(async ({ events, client }) => {
    const last = new Map();
    for (let i = 1; i <= WATCHED; i++)
      await client.monitor(`ns=1;s=cam${i}.LastReport.Cycle`, (cycle) => last.set(i, cycle));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rounds = REPORTS / WIDE;
    const count = REPORTS;
    return flood(
      (n) => {
        const camera = ((n - 1) % WIDE) + 1;
        const cycle = Math.floor((n - 1) / WIDE) + 1;
        events.emit({
          type: "report",
          report: syntheticReport(`cam${camera}`, cycle),
        });
      },
      () => ([...last.values()].filter((cycle) => cycle >= rounds).length === WATCHED ? count : 0),
      count,
    );
  }, WIDE);
}

async function raw() {
  return withRig(async ({ server, client }) => {
    const variable = server.own.addVariable({
      organizedBy: server.addressSpace.rootFolder.objects,
      browseName: "Raw",
      nodeId: "s=Raw",
      dataType: "UInt32",
      minimumSamplingInterval: 0,
    });
    let changes = 0;
    await client.monitor("ns=1;s=Raw", (value) => {
      if (value > 0) changes++;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    return flood(
      (value) => variable.setValueFromSource({ dataType: DataType.UInt32, value }),
      () => changes,
      REPORTS,
    );
  });
}

async function latency() {
  return withRig(async ({ events, client }) => {
    const sentAt = new Map();
    const delays = [];
    await client.monitor("ns=1;s=cam1.LastReport.Cycle", (cycle) => {
      const at = sentAt.get(cycle);
      if (at !== undefined) delays.push(Number(process.hrtime.bigint() - at) / 1e6);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let cycle = 1; cycle <= PACED; cycle++) {
      sentAt.set(cycle, process.hrtime.bigint());
      events.emit({ type: "report", report: syntheticReport("cam1", cycle) });
      await new Promise((resolve) => setTimeout(resolve, 1_000 / PACED_PER_SECOND));
    }
    while (delays.length < PACED) await new Promise((resolve) => setTimeout(resolve, 5));
    delays.sort((a, b) => a - b);
    return { p50: delays[Math.floor(PACED * 0.5)], p99: delays[Math.floor(PACED * 0.99)] };
  });
}

export async function run() {
  const through = [];
  const baseline = [];
  const p50 = [];
  const p99 = [];
  for (let i = 0; i < RUNS; i++) {
    baseline.push(await raw());
    through.push(await bridged());
    const paced = await latency();
    p50.push(paced.p50);
    p99.push(paced.p99);
  }
  // Once: building 1 000 cameras' nodes takes most of a minute.
  const wideRuns = [await wide()];
  return [
    {
      name: `OPC UA: reports over ${WIDE} cameras' variables, ${WATCHED} Cycle variables monitored, no event monitor`,
      unit: "reports/s",
      samples: wideRuns,
      baseline: { name: "raw setValueFromSource, one variable", samples: baseline },
    },
    {
      name: "OPC UA: reports as ResultReady events and value changes to a subscriber",
      unit: "reports/s",
      samples: through,
      baseline: { name: "raw setValueFromSource, one variable", samples: baseline },
    },
    { name: `OPC UA latency p50 at ${PACED_PER_SECOND} reports/s`, unit: "ms", samples: p50 },
    { name: `OPC UA latency p99 at ${PACED_PER_SECOND} reports/s`, unit: "ms", samples: p99 },
  ];
}
