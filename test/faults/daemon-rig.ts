import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fleetPorts } from "../../src/camera/simulator/fleet.js";
import {
  freeBlock,
  retryOnCollision,
  type Spawned,
  spawnCli,
  stopChild,
  tempDir,
} from "../support/process.js";

/** A simulator process and daemon processes bridging its cameras to a broker, as in production. */
export async function startSimulator(cameras: number, rateHz: number) {
  return retryOnCollision(async () => {
    // Camera i takes basePort + 20*i and the eleven ports after it.
    const basePort = await freeBlock(20 * cameras);
    const sim = spawnCli([
      "simulate",
      "--cameras",
      String(cameras),
      "--rate",
      String(rateHz),
      "--base-port",
      String(basePort),
      "--no-announce",
      "--password",
      "pw",
      "--seed",
      "3",
    ]);
    try {
      await sim.waitFor(
        (r) => r.msg === "simulated camera up" && r.name === `sim-cam-${String(cameras).padStart(3, "0")}`,
      );
    } catch (error) {
      await stopChild(sim);
      throw error;
    }
    return { sim, basePort };
  });
}

export function daemonConfig(options: {
  brokerUrl: string;
  basePort: number;
  cameras: number;
  base: string;
  extra?: string;
}): { file: string; stateDir: string } {
  const dir = tempDir("daemon-");
  const stateDir = join(dir, "state");
  const statics = Array.from({ length: options.cameras }, (_, i) => {
    const { outputs, announce: _a, ...ports } = fleetPorts(options.basePort, i);
    const n = String(i + 1).padStart(3, "0");
    // Every camera's first formatted-output port, read as the simulator's job writes it.
    const text = JSON.stringify([
      { port: outputs[0], parse: { format: "%s,%d,%.3f,%s\\r\\n", names: ["result", "cycle", "ms", "lot"] } },
    ]);
    return `    - id: cam${i + 1}\n      address: 127.0.0.1\n      serial: SIM3-${n}\n      password: pw\n      ports: ${JSON.stringify(ports)}\n      formattedOutput: ${text}\n`;
  }).join("");
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    `http:\n  enabled: false\ndaemon:\n  stateDirectory: ${stateDir}\ncameras:\n  discovery:\n    enabled: false\n  reconnect:\n    initialMs: 100\n    maxMs: 1000\n  static:\n${statics}mqtt:\n  url: ${options.brokerUrl}\n  baseTopic: ${options.base}\n  reconnect:\n    initialMs: 100\n    maxMs: 1000\n  commands:\n    allow: [status, stop, start]\n${options.extra ?? ""}`,
  );
  return { file, stateDir };
}

export function startDaemon(file: string): Spawned {
  return spawnCli(["run", "--config", file], { env: { SMARTCAM_LOG_LEVEL: "info" } });
}

export { stopChild };
