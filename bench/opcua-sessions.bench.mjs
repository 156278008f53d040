// OPC UA: the daemon's resident memory with 100 client sessions of 100 monitored items each,
// against the same daemon with none, in the same run. The daemon runs the demo config (three
// simulated cameras reporting at 2 Hz) in a process of its own; the clients run here, on the
// None policy, so that their memory and the cipher are not the daemon's figure.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AttributeIds, BrowseDirection, NodeClass, TimestampsToReturn } from "node-opcua";
import { freeBlock } from "./broker.mjs";
import { noneClient } from "./opcua.bench.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const CLIENTS = 10;
const SESSIONS_PER_CLIENT = 10;
const ITEMS = 100;
const RUNS = 2;
const SETTLE_MS = 5_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function rssMegabytes(httpPort) {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1]) / 2 ** 20;
}

async function startDaemon(dir) {
  // Three ports of the daemon's, then the simulated cameras: 20 each.
  const base = await freeBlock(80);
  const [http, opcua, mqtt, cameras] = [base, base + 1, base + 2, base + 10];
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "dist/cli.js"),
      "run",
      "--config",
      join(ROOT, "config/demo.yaml"),
      "--http.port",
      String(http),
      "--opcua.port",
      String(opcua),
      "--mqtt.embedded.port",
      String(mqtt),
      "--simulator.basePort",
      String(cameras),
      "--daemon.stateDirectory",
      dir,
      "--log.level",
      "warn",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      const health = await fetch(`http://127.0.0.1:${http}/healthz`);
      if (health.ok) return { child, http, endpoint: `opc.tcp://127.0.0.1:${opcua}` };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error("the daemon did not become healthy");
}

async function variablesOfFirstCamera(session) {
  const cameras = await session.browse("ns=1;s=Cameras");
  const camera = cameras.references?.find((ref) => ref.nodeClass === NodeClass.Object);
  const found = [];
  const queue = [camera.nodeId.toString()];
  while (queue.length > 0) {
    const result = await session.browse({
      nodeId: queue.shift(),
      browseDirection: BrowseDirection.Forward,
      referenceTypeId: "HierarchicalReferences",
      includeSubtypes: true,
      nodeClassMask: NodeClass.Object | NodeClass.Variable,
      resultMask: 63,
    });
    for (const ref of result.references ?? []) {
      if (ref.nodeId.namespace !== 1) continue;
      queue.push(ref.nodeId.toString());
      if (ref.nodeClass === NodeClass.Variable) found.push(ref.nodeId.toString());
    }
  }
  return Array.from({ length: ITEMS }, (_, i) => found[i % found.length]);
}

async function once() {
  const dir = mkdtempSync(join(tmpdir(), "smartcam-bench-sessions-"));
  const daemon = await startDaemon(dir);
  const clients = [];
  try {
    await sleep(SETTLE_MS);
    const idle = await rssMegabytes(daemon.http);
    let items;
    for (let c = 0; c < CLIENTS; c++) {
      const client = noneClient(dir);
      await client.connect(daemon.endpoint);
      clients.push(client);
      for (let s = 0; s < SESSIONS_PER_CLIENT; s++) {
        const session = await client.createSession();
        items ??= await variablesOfFirstCamera(session);
        const subscription = await session.createSubscription2({
          requestedPublishingInterval: 100,
          requestedLifetimeCount: 600,
          requestedMaxKeepAliveCount: 20,
          maxNotificationsPerPublish: 0,
          publishingEnabled: true,
        });
        await subscription.monitorItems(
          items.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
          { samplingInterval: 0, queueSize: 100, discardOldest: true },
          TimestampsToReturn.Both,
        );
      }
    }
    await sleep(SETTLE_MS);
    return { idle, loaded: await rssMegabytes(daemon.http) };
  } finally {
    await Promise.all(clients.map((client) => client.disconnect()));
    daemon.child.kill("SIGTERM");
    await new Promise((resolve) => daemon.child.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const idle = [];
  const loaded = [];
  for (let i = 0; i < RUNS; i++) {
    const sample = await once();
    idle.push(sample.idle);
    loaded.push(sample.loaded);
  }
  return [
    {
      name: `daemon RSS with ${CLIENTS * SESSIONS_PER_CLIENT} OPC UA sessions x ${ITEMS} monitored items (demo, 3 cameras)`,
      unit: "MB",
      samples: loaded,
      baseline: { name: "the same daemon with no session", samples: idle },
    },
  ];
}
