// Soak (not in CI): npm run soak -- --minutes N [--cameras C] [--broker-restart-minutes M] [--sample-seconds S]
// Many simulated cameras through the daemon to a Mosquitto that restarts on a timer. The daemon's
// RSS and open file descriptors are sampled on a fixed interval and written to
// bench/results/soak.json, to show that nothing leaks.
import { readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startBroker } from "./broker.mjs";
import { sample, simulatorAndConfig, spawnCli } from "./scale.bench.mjs";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    cameras: { type: "string", default: "50" },
    "broker-restart-minutes": { type: "string", default: "2" },
    "sample-seconds": { type: "string", default: "60" },
  },
});
const minutes = Number(values.minutes);
const cameras = Number(values.cameras);
const restartEvery = Number(values["broker-restart-minutes"]) * 60_000;
const sampleEvery = Number(values["sample-seconds"]) * 1_000;
for (const [name, value] of Object.entries({ minutes, cameras, restartEvery, sampleEvery })) {
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`soak: --${name} must be a positive number`);
    process.exit(2);
  }
}

let broker = await startBroker();
const port = Number(broker.url.split(":").at(-1));
const { sim, file } = await simulatorAndConfig(`mqtt://127.0.0.1:${port}`, cameras, "soak");
const daemon = spawnCli(["run", "--config", file]);
const pid = daemon.child.pid;
const samples = [];
const started = Date.now();
let nextRestart = started + restartEvery;
let restarts = 0;
console.log(`soak: ${cameras} cameras for ${minutes} min, broker restart every ${restartEvery / 60_000} min`);
while (Date.now() - started < minutes * 60_000) {
  await new Promise((r) => setTimeout(r, Math.min(sampleEvery, 5_000)));
  if (Date.now() >= nextRestart) {
    await broker.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    broker = await startBroker(port);
    restarts++;
    nextRestart += restartEvery;
  }
  if (samples.length === 0 || Date.now() - samples.at(-1).at >= sampleEvery) {
    const s = sample(pid);
    const entry = {
      at: Date.now(),
      minute: (Date.now() - started) / 60_000,
      rssMB: s.rss / 1e6,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      cpuTicks: s.cpuTicks,
      brokerRestarts: restarts,
    };
    samples.push(entry);
    console.log(JSON.stringify(entry));
  }
}
daemon.child.kill("SIGTERM");
sim.kill();
await Promise.all([daemon.exited, sim.exited]);
await broker.stop();
const out = fileURLToPath(new URL("results/soak.json", import.meta.url));
writeFileSync(
  out,
  `${JSON.stringify({ cameras, minutes, restartEveryMinutes: restartEvery / 60_000, samples }, null, 2)}\n`,
);
console.log(`soak: ${samples.length} samples written to bench/results/soak.json`);
