// Scale: 1, 50 and 200 simulated cameras at 10 reports/s each, lossless, through the daemon (its
// own process, with its OPC UA server on as by default) and Mosquitto to a subscriber. The window
// opens once the daemon said READY and every camera is online, plus a settling time: the backlog
// of the start (cameras report while the OPC UA server builds their nodes) is not steady state,
// so start to READY and the time to catch up are figures of their own. In the window: daemon RSS
// and CPU share each second, p99 latency from the camera's report time, and the cycles lost (none
// expected) over the whole run. The one-camera run is the baseline of the others.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import unixDgram from "unix-dgram";
import { fleetPorts } from "../dist/camera/simulator/fleet.js";
import { freeBlock, freePort, startBroker } from "./broker.mjs";
import { subscribe } from "./mqtt.bench.mjs";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const WINDOW_S = 10;
const SETTLE_S = 3;
/** Caught up: the first second after READY in which every report arrived within this. */
const CAUGHT_UP_MS = 100;
const TICKS = 100; // clock ticks per second in /proc/<pid>/stat

export function spawnCli(args, env = process.env) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  const keep = (chunk) => {
    out += chunk;
    if (out.length > 1e6) out = out.slice(-1e5);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let code;
  const exited = new Promise((resolve) => child.once("exit", resolve)).then((value) => {
    code = value;
    return value;
  });
  return { child, out: () => out, exited, hasExited: () => code !== undefined };
}

export function sample(pid) {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { rss, cpuTicks: Number(fields[11]) + Number(fields[12]), at: Date.now() };
}

export async function until(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Now in ms since the epoch, to a fraction of a ms: Date.now() is too coarse for start-up times. */
export const preciseNow = () => performance.timeOrigin + performance.now();

/** A datagram socket that systemd would be: `ready` resolves on READY=1, with preciseNow(). */
export function notifySocket() {
  const path = join(mkdtempSync(join(tmpdir(), "bench-notify-")), "notify.sock");
  let ready;
  const isReady = new Promise((resolve) => {
    ready = resolve;
  });
  const socket = unixDgram.createSocket("unix_dgram", (message) => {
    if (/^READY=1$/m.test(message.toString())) ready(preciseNow());
  });
  socket.bind(path);
  return { path, ready: isReady, close: () => socket.close() };
}

/** A simulator process with `cameras` cameras at 10 reports/s, and a daemon config bridging them to url under base. */
export async function simulatorAndConfig(url, cameras, base, overrides = {}) {
  const last = `"sim-cam-${String(cameras).padStart(3, "0")}"`;
  let sim;
  let basePort;
  // A random block of ports may hold one that is taken: the simulator then exits, and another block is tried.
  for (let attempt = 0; ; attempt++) {
    basePort = await freeBlock(20 * cameras);
    const port = String(basePort);
    const args = ["simulate", "--cameras", String(cameras), "--rate", "10", "--base-port", port];
    sim = spawnCli([...args, "--no-announce", "--password", "pw", "--seed", "5"]);
    await until(() => sim.out().includes(last) || sim.hasExited(), 60_000, "the simulator");
    if (!sim.hasExited()) break;
    if (attempt >= 5) throw new Error(`the simulator exited: ${sim.out().slice(-500)}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-daemon-"));
  const statics = Array.from({ length: cameras }, (_, i) => {
    const { outputs, announce, ...ports } = fleetPorts(basePort, i);
    return { id: `c${i}`, address: "127.0.0.1", serial: `S${i}`, password: "pw", control: "never", ports };
  });
  const file = join(dir, "config.json");
  writeFileSync(
    file,
    JSON.stringify({
      log: { level: "warn" },
      http: { enabled: false, ...overrides.http },
      daemon: { stateDirectory: join(dir, "state"), ...overrides.daemon },
      cameras: { discovery: { enabled: false }, static: statics },
      mqtt: { url, baseTopic: base },
      // The daemon's full job: the OPC UA server (on by default) holds and updates every camera too.
      opcua: {
        enabled: true,
        host: "127.0.0.1",
        hostname: "127.0.0.1",
        port: await freePort(),
        ...overrides.opcua,
      },
    }),
  );
  return { sim, file };
}

export async function scaleRun(url, cameras, overrides = {}, env = process.env) {
  const base = `scale${cameras}`;
  const { sim, file } = await simulatorAndConfig(url, cameras, base, overrides);
  const online = new Set();
  const latencies = [];
  const cycles = new Map();
  /** The worst latency of each second since the daemon started, to see when it caught up. */
  const worst = new Map();
  let measuring = false;
  const sub = await subscribe(url, `${base}/#`, (topic, payload) => {
    const [, camera, kind] = topic.split("/");
    if (kind === "availability") {
      if (payload.toString() === "online") online.add(camera);
      return;
    }
    if (kind !== "report") return;
    const report = JSON.parse(payload.toString());
    const now = Date.now();
    const latency = now - Date.parse(report.time);
    const second = Math.floor(now / 1_000);
    worst.set(second, Math.max(worst.get(second) ?? 0, latency));
    if (!cycles.has(camera)) cycles.set(camera, new Set());
    cycles.get(camera).add(report.cycle);
    if (measuring) latencies.push(latency);
  });
  const notify = notifySocket();
  const started = preciseNow();
  const daemon = spawnCli(["run", "--config", file], { ...env, NOTIFY_SOCKET: notify.path });
  const readyAt = await notify.ready;
  notify.close();
  await until(() => online.size === cameras, 60_000, `${cameras} cameras online`);
  await new Promise((r) => setTimeout(r, SETTLE_S * 1_000));
  measuring = true;
  const samples = [sample(daemon.child.pid)];
  for (let s = 0; s < WINDOW_S; s++) {
    await new Promise((r) => setTimeout(r, 1_000));
    samples.push(sample(daemon.child.pid));
  }
  measuring = false;
  await new Promise((r) => setTimeout(r, 500));
  const rss = samples.map((s) => s.rss / 1e6);
  const cpu = samples
    .slice(1)
    .map((s, i) => ((((s.cpuTicks - samples[i].cpuTicks) / TICKS) * 1_000) / (s.at - samples[i].at)) * 100);
  let lost = 0;
  let received = 0;
  for (const set of cycles.values()) {
    const list = [...set].sort((a, b) => a - b);
    received += list.length;
    lost += list[list.length - 1] - list[0] + 1 - list.length;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
  const calm = [...worst].filter(([second, ms]) => second * 1_000 >= readyAt && ms <= CAUGHT_UP_MS);
  const caughtUp = calm.length
    ? Math.max(0, Math.min(...calm.map(([second]) => second * 1_000)) - readyAt)
    : Number.NaN;
  daemon.child.kill("SIGTERM");
  sim.child.kill("SIGTERM");
  await Promise.all([daemon.exited, sim.exited]);
  await sub.endAsync(true);
  return {
    rss,
    cpu,
    p99,
    lost,
    received,
    ready: readyAt - started,
    caughtUp,
    reports: latencies.length,
    camerasReporting: cycles.size,
  };
}

/** The 200-camera run again with one setting changed, as the baseline that shows what it does. */
const VARIANTS = [
  {
    name: "V8's own heap sizing (daemon.heap growthPercent 0, newSpaceGrowthFactor 2)",
    overrides: { daemon: { heap: { growthPercent: 0, newSpaceGrowthFactor: 2 } } },
  },
  {
    name: "V8's own young generation (daemon.heap.newSpaceGrowthFactor 2)",
    overrides: { daemon: { heap: { newSpaceGrowthFactor: 2 } } },
  },
  { name: "no OPC UA server (MQTT only)", overrides: { opcua: { enabled: false } } },
];

export async function run() {
  const broker = await startBroker();
  const results = new Map();
  const variants = [];
  try {
    for (const cameras of [1, 50, 200]) results.set(cameras, await scaleRun(broker.url, cameras));
    for (const variant of VARIANTS)
      variants.push({ ...variant, result: await scaleRun(broker.url, 200, variant.overrides) });
  } finally {
    await broker.stop();
  }
  const one = results.get(1);
  const figures = [];
  for (const [cameras, r] of results) {
    const label = `${cameras} camera${cameras === 1 ? "" : "s"} at 10 reports/s`;
    const baseline = cameras === 1 ? undefined : one;
    figures.push({
      name: `${label}: daemon RSS`,
      unit: "MB",
      samples: r.rss,
      ...(baseline ? { baseline: { name: "1 camera", samples: baseline.rss } } : {}),
      ...(cameras === 200 ? { goal: "< 250 MB" } : {}),
    });
    figures.push({
      name: `${label}: daemon CPU`,
      unit: "% of a core",
      samples: r.cpu,
      ...(baseline ? { baseline: { name: "1 camera", samples: baseline.cpu } } : {}),
      ...(cameras === 200 ? { goal: "< 100%" } : {}),
    });
    figures.push({ name: `${label}: p99 latency (ms clock)`, unit: "ms", samples: [r.p99] });
    figures.push({ name: `${label}: start to READY`, unit: "ms", samples: [r.ready] });
    figures.push({
      name: `${label}: READY to caught up (a second with every report within ${CAUGHT_UP_MS} ms)`,
      unit: "ms",
      samples: [r.caughtUp],
    });
    figures.push({
      name: `${label}: cycles lost of ${r.received} received from ${r.camerasReporting} cameras`,
      unit: "cycles",
      samples: [r.lost],
      goal: "0",
    });
  }
  // Each variant against the default 200-camera run: the ratio is what the default costs or saves.
  const standard = results.get(200);
  for (const { name, result } of variants) {
    const label = `200 cameras, ${name}`;
    const baseline = (samples) => ({ baseline: { name: "200 cameras as configured", samples } });
    figures.push({
      name: `${label}: daemon RSS`,
      unit: "MB",
      samples: result.rss,
      ...baseline(standard.rss),
    });
    figures.push({
      name: `${label}: daemon CPU`,
      unit: "% of a core",
      samples: result.cpu,
      ...baseline(standard.cpu),
    });
    figures.push({ name: `${label}: p99 latency (ms clock)`, unit: "ms", samples: [result.p99] });
    figures.push({
      name: `${label}: cycles lost of ${result.received} received`,
      unit: "cycles",
      samples: [result.lost],
      goal: "0",
    });
  }
  return figures;
}
