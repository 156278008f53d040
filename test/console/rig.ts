import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { fleetPorts } from "../../src/camera/simulator/fleet.js";
import { hashPassword } from "../../src/lib/passwords.js";
import { startSimulator } from "../faults/daemon-rig.js";
import {
  freePort,
  retryOnCollision,
  type Spawned,
  spawnCli,
  stopChild,
  tempDir,
} from "../support/process.js";

/** Debian's Chromium, as .ci/run installs it; CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  // As root (CI containers) Chromium runs only without its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

export const PASSWORD = "pw-operator-1";

export interface ConsoleRig {
  readonly url: string;
  readonly port: number;
  readonly daemon: Spawned;
  readonly sim: Spawned;
  stop(): Promise<void>;
}

/**
 * A simulator process with `cameras` cameras and a daemon bridging them to `brokerUrl`, with the
 * console on a free port: users (operator "ops", observer "eve") unless read-only.
 */
export async function startConsoleRig(options: {
  brokerUrl: string;
  base: string;
  cameras: number;
  rateHz: number;
  readOnly?: boolean;
  allow?: readonly string[];
}): Promise<ConsoleRig> {
  const { sim, basePort } = await startSimulator(options.cameras, options.rateHz);
  const dir = tempDir("console-");
  const statics = Array.from({ length: options.cameras }, (_, i) => {
    const { outputs, announce: _a, ...ports } = fleetPorts(basePort, i);
    const text = JSON.stringify([
      { port: outputs[0], parse: { format: "%s,%d,%.3f,%s\\r\\n", names: ["r", "cycle", "ms", "lot"] } },
    ]);
    return `    - id: cam${i + 1}\n      address: 127.0.0.1\n      password: pw\n      ports: ${JSON.stringify(ports)}\n      formattedOutput: ${text}\n`;
  }).join("");
  const users = options.readOnly
    ? "[]"
    : JSON.stringify([
        { name: "ops", passwordHash: await hashPassword(PASSWORD), role: "operator" },
        { name: "eve", passwordHash: await hashPassword(PASSWORD), role: "observer" },
      ]);
  const allow = JSON.stringify(options.allow ?? ["status", "trigger", "snap"]);
  const { daemon, port } = await retryOnCollision(async () => {
    const port = await freePort();
    const file = join(dir, `config-${port}.yaml`);
    writeFileSync(
      file,
      `http:\n  port: ${port}\n  console:\n    users: ${users}\ndaemon:\n  stateDirectory: ${join(dir, "state")}\ncameras:\n  discovery:\n    enabled: false\n  reconnect:\n    initialMs: 100\n    maxMs: 500\n  static:\n${statics}mqtt:\n  url: ${options.brokerUrl}\n  baseTopic: ${options.base}\n  commands:\n    allow: ${allow}\n`,
    );
    const daemon = spawnCli(["run", "--config", file], { env: { SMARTCAM_LOG_LEVEL: "info" } });
    try {
      await daemon.waitFor((r) => r.msg === "ready", 20_000);
    } catch (error) {
      await stopChild(daemon);
      throw error;
    }
    return { daemon, port };
  });
  return {
    url: `http://127.0.0.1:${port}/console/`,
    port,
    daemon,
    sim,
    async stop() {
      await stopChild(daemon);
      await stopChild(sim);
    },
  };
}
