// Scale: simulated cameras at 10 reports/s each, lossless, through the daemon (its own process,
// MQTT and the OPC UA server on, as by default) and Mosquitto to a subscriber. The window opens
// once the daemon said READY and every camera is online, plus a settling time: the backlog of the
// start is not steady state, so start to READY and READY to caught up are figures of their own.
// In the window: daemon and simulator CPU apart, daemon RSS, CPU per report, p50/p99 latency from
// the camera's report time. After it the run waits (to a deadline) until every camera's stream is
// caught up, then accounts for every cycle of every camera: delivered live, recovered, in a gap
// event, or missing. Missing is a loss: the run says so and the bench exits non-zero. Session
// drops during the run come from the daemon's own counters: a drop under load is a finding.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import unixDgram from "unix-dgram";
import { fleetPorts } from "../dist/camera/simulator/fleet.js";
import { freePort, portFree, startBroker } from "./broker.mjs";
import { subscribe } from "./mqtt.bench.mjs";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const WINDOW_S = 10;
const SETTLE_S = 3;
/** Caught up: the first second after READY in which every report arrived within this. */
const CAUGHT_UP_MS = 100;
const TICKS = 100; // clock ticks per second in /proc/<pid>/stat

export function spawnCli(args, env = process.env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
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
/** Cameras per simulator process: more are split over several, so that the simulator is not the bottleneck. */
const CAMERAS_PER_SIMULATOR = 250;

/**
 * The next block of `size` free ports at or above `from`, below the ephemeral range: 1 000
 * cameras take 20 000 ports, so blocks are packed from the bottom up rather than placed at random.
 */
async function nextBlock(size, from) {
  for (let base = from; base + size < 32_000; base += 100) {
    let free = true;
    for (let port = base; port < base + size && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error(`no free block of ${size} ports from ${from} below 32000`);
}

/** Simulator processes for `cameras` cameras at 10 reports/s, each on a free block of ports. */
async function startSimulators(cameras) {
  const sims = [];
  const ports = [];
  let from = 4_000;
  try {
    for (let first = 0; first < cameras; first += CAMERAS_PER_SIMULATOR) {
      const count = Math.min(CAMERAS_PER_SIMULATOR, cameras - first);
      const last = `"sim-cam-${String(count).padStart(3, "0")}"`;
      // A port can be taken between the check and the bind: the simulator then exits, and the next block is tried.
      for (let attempt = 0; ; attempt++) {
        const basePort = await nextBlock(20 * count, from);
        from = basePort + 20 * count;
        const args = [
          "simulate",
          "--cameras",
          String(count),
          "--rate",
          "10",
          "--base-port",
          String(basePort),
        ];
        const sim = spawnCli([...args, "--no-announce", "--password", "pw", "--seed", String(5 + first)]);
        await until(() => sim.out().includes(last) || sim.hasExited(), 120_000, "the simulator");
        if (!sim.hasExited()) {
          sims.push(sim);
          for (let i = 0; i < count; i++) ports.push(fleetPorts(basePort, i));
          break;
        }
        if (attempt >= 5) throw new Error(`the simulator exited: ${sim.out().slice(-500)}`);
      }
    }
  } catch (error) {
    for (const sim of sims) sim.child.kill("SIGTERM");
    throw error;
  }
  return { sims, ports };
}

/** Simulators with `cameras` cameras, and a daemon config bridging them to url under base. */
export async function simulatorAndConfig(url, cameras, base, overrides = {}) {
  const { sims, ports } = await startSimulators(cameras);
  const dir = mkdtempSync(join(tmpdir(), "bench-daemon-"));
  const statics = ports.map(({ outputs, announce, ...own }, i) => ({
    id: `c${i}`,
    address: "127.0.0.1",
    serial: `S${i}`,
    password: "pw",
    control: "never",
    ports: own,
  }));
  const httpPort = await freePort();
  const file = join(dir, "config.json");
  writeFileSync(
    file,
    JSON.stringify({
      log: { level: "warn" },
      http: { host: "127.0.0.1", port: httpPort, ...overrides.http },
      daemon: { stateDirectory: join(dir, "state"), ...overrides.daemon },
      cameras: { discovery: { enabled: false }, static: statics },
      mqtt: { url, baseTopic: base, ...overrides.mqtt },
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
  const sim = {
    child: sims[0].child,
    pids: () => sims.map((one) => one.child.pid),
    exited: Promise.all(sims.map((one) => one.exited)),
    kill: () => {
      for (const one of sims) one.child.kill("SIGTERM");
    },
  };
  return { sim, file, httpPort };
}

/** Session drops and failed connects the daemon counted, from its /metrics. */
async function wireEvents(httpPort) {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const sum = (event) =>
    [
      ...text.matchAll(
        new RegExp(`^smartcam_camera_wire_events\\{[^}]*event="${event}"[^}]*\\} (\\d+)`, "gm"),
      ),
    ].reduce((total, match) => total + Number(match[1]), 0);
  return { drops: sum("drops"), connectFailures: sum("connectFailures") };
}

/**
 * Every cycle of one camera's inspection between the first and the last it delivered, accounted
 * for: delivered live, recovered from the part queue, in a gap event, or missing.
 */
function account(stream) {
  const delivered = [...stream.live, ...stream.recovered];
  if (delivered.length === 0) return { live: 0, recovered: 0, gap: 0, missing: 0 };
  const low = Math.min(...delivered);
  const high = Math.max(...delivered);
  let gap = 0;
  let missing = 0;
  for (let cycle = low; cycle <= high; cycle++) {
    if (stream.live.has(cycle) || stream.recovered.has(cycle)) continue;
    if (stream.gaps.some(([from, to]) => cycle >= from && (to === null || cycle <= to))) gap++;
    else missing++;
  }
  return { live: stream.live.size, recovered: stream.recovered.size, gap, missing };
}

export async function scaleRun(url, cameras, overrides = {}, env = process.env, timing = {}) {
  const windowS = timing.windowS ?? WINDOW_S;
  const settleS = timing.settleS ?? SETTLE_S;
  const catchUpDeadlineMs = timing.catchUpDeadlineMs ?? 120_000;
  const base = `scale${cameras}`;
  const { sim, file, httpPort } = await simulatorAndConfig(url, cameras, base, overrides);
  const online = new Set();
  const latencies = [];
  /** Per camera and inspection: cycles delivered live and recovered, gap ranges, the newest report time. */
  const streams = new Map();
  const stream = (camera, inspection) => {
    const key = `${camera}/${inspection}`;
    if (!streams.has(key)) streams.set(key, { live: new Set(), recovered: new Set(), gaps: [], newest: 0 });
    return streams.get(key);
  };
  /** The worst latency of each second since the daemon started, to see when it caught up. */
  const worst = new Map();
  let measuring = false;
  let windowReports = 0;
  const sub = await subscribe(url, `${base}/#`, (topic, payload) => {
    const [, camera, kind, inspection] = topic.split("/");
    if (kind === "availability") {
      if (payload.toString() === "online") online.add(camera);
      return;
    }
    if (kind === "gap") {
      const gap = JSON.parse(payload.toString());
      stream(camera, inspection).gaps.push([gap.fromCycle, gap.toCycle]);
      return;
    }
    if (kind !== "report") return;
    const report = JSON.parse(payload.toString());
    const now = Date.now();
    const time = Date.parse(report.time);
    const latency = now - time;
    const second = Math.floor(now / 1_000);
    worst.set(second, Math.max(worst.get(second) ?? 0, latency));
    const own = stream(camera, inspection);
    (report.recovered ? own.recovered : own.live).add(report.cycle);
    own.newest = Math.max(own.newest, time);
    if (measuring) {
      latencies.push(latency);
      windowReports++;
    }
  });
  const notify = notifySocket();
  const started = preciseNow();
  // SMARTCAM_BENCH_PROFILE=<dir>: the daemon writes a CPU profile there when it stops.
  const profile = env.SMARTCAM_BENCH_PROFILE;
  const nodeArgs = profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [];
  const daemon = spawnCli(["run", "--config", file], { ...env, NOTIFY_SOCKET: notify.path }, nodeArgs);
  const readyAt = await notify.ready;
  notify.close();
  await until(() => online.size === cameras, 120_000, `${cameras} cameras online`);
  await new Promise((r) => setTimeout(r, settleS * 1_000));
  measuring = true;
  const cpuOf = (pids) => pids.reduce((total, pid) => total + sample(pid).cpuTicks, 0);
  const samples = [sample(daemon.child.pid)];
  const simTicks = [cpuOf(sim.pids())];
  for (let s = 0; s < windowS; s++) {
    await new Promise((r) => setTimeout(r, 1_000));
    samples.push(sample(daemon.child.pid));
    simTicks.push(cpuOf(sim.pids()));
  }
  measuring = false;
  // Caught up: every stream's newest report is less than a second old, or the deadline passed.
  const caughtUpBy = Date.now() + catchUpDeadlineMs;
  const behind = () => [...streams.values()].filter((one) => Date.now() - one.newest > 1_000).length;
  while (behind() > 0 && Date.now() < caughtUpBy) await new Promise((r) => setTimeout(r, 100));
  const streamsBehind = behind();
  const wire = await wireEvents(httpPort);
  const rss = samples.map((s) => s.rss / 1e6);
  const cpu = samples
    .slice(1)
    .map((s, i) => ((((s.cpuTicks - samples[i].cpuTicks) / TICKS) * 1_000) / (s.at - samples[i].at)) * 100);
  const windowMs = samples.at(-1).at - samples[0].at;
  const simCpu = ((((simTicks.at(-1) - simTicks[0]) / TICKS) * 1_000) / windowMs) * 100;
  const daemonCpuMs = ((samples.at(-1).cpuTicks - samples[0].cpuTicks) / TICKS) * 1_000;
  const totals = { live: 0, recovered: 0, gap: 0, missing: 0 };
  const missingCameras = [];
  for (const [key, one] of streams) {
    const counted = account(one);
    for (const name of Object.keys(totals)) totals[name] += counted[name];
    if (counted.missing > 0) missingCameras.push(`${key}: ${counted.missing}`);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length * 0.5)] ?? Number.NaN;
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
  const calm = [...worst].filter(([second, ms]) => second * 1_000 >= readyAt && ms <= CAUGHT_UP_MS);
  const caughtUp = calm.length
    ? Math.max(0, Math.min(...calm.map(([second]) => second * 1_000)) - readyAt)
    : Number.NaN;
  daemon.child.kill("SIGTERM");
  sim.kill();
  await Promise.all([daemon.exited, sim.exited]);
  await sub.endAsync(true);
  if (totals.missing > 0) {
    console.error(
      `LOSS at ${cameras} cameras: ${totals.missing} cycles missing (${missingCameras.slice(0, 5).join(", ")})`,
    );
    process.exitCode = 1;
  }
  return {
    rss,
    cpu,
    simCpu,
    cpuMsPerReport: windowReports > 0 ? daemonCpuMs / windowReports : Number.NaN,
    p50,
    p99,
    ...totals,
    lost: totals.missing,
    received: totals.live + totals.recovered,
    streamsBehind,
    drops: wire.drops,
    ready: readyAt - started,
    caughtUp,
    reports: windowReports,
    camerasReporting: new Set([...streams.keys()].map((key) => key.split("/")[0])).size,
  };
}

/** The 200-camera run again with one setting changed, as the baseline that shows what it does. */
const VARIANTS = [
  {
    name: "tight heap margins (daemon.heap growthPercent 15, newSpaceGrowthFactor 1)",
    overrides: { daemon: { heap: { growthPercent: 15, newSpaceGrowthFactor: 1 } } },
  },
  { name: "no OPC UA server (MQTT only)", overrides: { opcua: { enabled: false } } },
];

/** Camera counts: SMARTCAM_SCALE_CAMERAS=200,500 runs only those. */
const COUNTS = (process.env.SMARTCAM_SCALE_CAMERAS ?? "200,500,1000").split(",").map(Number);

/**
 * mqtt.js's own CPU per QoS 1 message of a report's size, at 200 cameras' rate, in this process:
 * the baseline of the daemon's CPU per report.
 */
export async function rawCpuPerMessage(url, { perSecond = 2_000, seconds = 5, size = 700 } = {}) {
  const pub = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const payload = "x".repeat(size);
  const before = process.cpuUsage();
  const started = Date.now();
  let sent = 0;
  let acked = 0;
  while (Date.now() - started < seconds * 1_000) {
    const due = Math.floor(((Date.now() - started) / 1_000) * perSecond);
    for (; sent < due; sent++) pub.publish(`raw/${sent % 200}/report/0`, payload, { qos: 1 }, () => acked++);
    await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => acked >= sent, 30_000, "the raw acknowledgements");
  const used = process.cpuUsage(before);
  await pub.endAsync(true);
  return (used.user + used.system) / 1_000 / sent;
}

function figuresOf(label, r, baseline) {
  const against = (samples) => (baseline ? { baseline: { name: baseline.name, samples } } : {});
  return [
    { name: `${label}: daemon CPU`, unit: "% of a core", samples: r.cpu, goal: "< 100%" },
    {
      name: `${label}: daemon CPU per report`,
      unit: "ms",
      samples: [r.cpuMsPerReport],
      ...against(baseline?.cpuMsPerReport ?? []),
    },
    { name: `${label}: simulators' CPU (apart)`, unit: "% of a core", samples: [r.simCpu] },
    { name: `${label}: daemon RSS`, unit: "MB", samples: r.rss, goal: "< 500 MB" },
    { name: `${label}: p50 latency (ms clock)`, unit: "ms", samples: [r.p50] },
    { name: `${label}: p99 latency (ms clock)`, unit: "ms", samples: [r.p99], goal: "< 500 ms" },
    { name: `${label}: start to READY`, unit: "ms", samples: [r.ready] },
    {
      name: `${label}: READY to caught up (every report within ${CAUGHT_UP_MS} ms)`,
      unit: "ms",
      samples: [r.caughtUp],
    },
    {
      name: `${label}: cycles missing (of ${r.live} live, ${r.recovered} recovered, ${r.gap} in gaps; ${r.streamsBehind} streams behind at the deadline)`,
      unit: "cycles",
      samples: [r.missing],
      goal: "0",
    },
    { name: `${label}: session drops`, unit: "drops", samples: [r.drops], goal: "0" },
  ];
}

export async function run() {
  const broker = await startBroker();
  const figures = [];
  try {
    const raw = await rawCpuPerMessage(broker.url);
    const rawBaseline = { name: "raw mqtt.js, CPU per QoS 1 message", cpuMsPerReport: [raw] };
    let standard;
    for (const cameras of COUNTS) {
      const r = await scaleRun(broker.url, cameras);
      if (cameras === 200) standard = r;
      figures.push(...figuresOf(`${cameras} cameras at 10 reports/s`, r, rawBaseline));
    }
    for (const variant of VARIANTS) {
      const r = await scaleRun(broker.url, 200, variant.overrides);
      const label = `200 cameras, ${variant.name}`;
      figures.push(...figuresOf(label, r, rawBaseline));
      if (standard)
        figures.push({
          name: `${label}: daemon CPU against the default config`,
          unit: "% of a core",
          samples: r.cpu,
          baseline: { name: "200 cameras as configured", samples: standard.cpu },
        });
    }
  } finally {
    await broker.stop();
  }
  return figures;
}
