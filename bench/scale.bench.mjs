// Scale: 1, 50 and 200 simulated cameras at 10 reports/s each, lossless, through the daemon (its
// own process) and Mosquitto to a subscriber. Daemon RSS and CPU share sampled each second, p99
// latency from the camera's report time, and the cycles lost (none expected). The one-camera run
// is the baseline of the others.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fleetPorts } from "../dist/camera/simulator/fleet.js";
import { startBroker } from "./broker.mjs";
import { subscribe } from "./mqtt.bench.mjs";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const WINDOW_S = 10;
const TICKS = 100; // clock ticks per second in /proc/<pid>/stat

export function spawnCli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
    if (out.length > 1e6) out = out.slice(-1e5);
  });
  return { child, out: () => out, exited: new Promise((resolve) => child.once("exit", resolve)) };
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

/** A simulator process with `cameras` cameras at 10 reports/s, and a daemon config bridging them to url under base. */
export async function simulatorAndConfig(url, cameras, base) {
  const basePort = 20_000 + Math.floor(Math.random() * 3_000);
  const sim = spawnCli([
    "simulate",
    "--cameras",
    String(cameras),
    "--rate",
    "10",
    "--base-port",
    String(basePort),
    "--no-announce",
    "--password",
    "pw",
    "--seed",
    "5",
  ]);
  await until(
    () => sim.out().includes(`"sim-cam-${String(cameras).padStart(3, "0")}"`),
    60_000,
    "the simulator",
  );
  const dir = mkdtempSync(join(tmpdir(), "bench-daemon-"));
  const statics = Array.from({ length: cameras }, (_, i) => {
    const { output, announce, ...ports } = fleetPorts(basePort, i);
    return { id: `c${i}`, address: "127.0.0.1", serial: `S${i}`, password: "pw", control: "never", ports };
  });
  const file = join(dir, "config.json");
  writeFileSync(
    file,
    JSON.stringify({
      log: { level: "warn" },
      http: { enabled: false },
      daemon: { stateDirectory: join(dir, "state") },
      cameras: { discovery: { enabled: false }, static: statics },
      mqtt: { url, baseTopic: base },
    }),
  );
  return { sim, file };
}

async function scaleRun(url, cameras) {
  const base = `scale${cameras}`;
  const { sim, file } = await simulatorAndConfig(url, cameras, base);
  const online = new Set();
  const latencies = [];
  const cycles = new Map();
  let measuring = false;
  const sub = await subscribe(url, `${base}/#`, (topic, payload) => {
    const [, camera, kind] = topic.split("/");
    if (kind === "availability") {
      if (payload.toString() === "online") online.add(camera);
      return;
    }
    if (kind !== "report" || !measuring) return;
    const report = JSON.parse(payload.toString());
    latencies.push(Date.now() - Date.parse(report.time));
    if (!cycles.has(camera)) cycles.set(camera, new Set());
    cycles.get(camera).add(report.cycle);
  });
  const daemon = spawnCli(["run", "--config", file]);
  await until(() => online.size === cameras, 60_000, `${cameras} cameras online`);
  await new Promise((r) => setTimeout(r, 2_000));
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
  for (const set of cycles.values()) {
    const list = [...set].sort((a, b) => a - b);
    lost += list[list.length - 1] - list[0] + 1 - list.length;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
  daemon.child.kill("SIGTERM");
  sim.child.kill("SIGTERM");
  await Promise.all([daemon.exited, sim.exited]);
  await sub.endAsync(true);
  return { rss, cpu, p99, lost, reports: latencies.length, camerasReporting: cycles.size };
}

export async function run() {
  const broker = await startBroker();
  const results = new Map();
  try {
    for (const cameras of [1, 50, 200]) results.set(cameras, await scaleRun(broker.url, cameras));
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
    figures.push({
      name: `${label}: cycles lost of ${r.reports} received from ${r.camerasReporting} cameras`,
      unit: "cycles",
      samples: [r.lost],
      goal: "0",
    });
  }
  return figures;
}
