import type { Logger } from "pino";
import { systemClock } from "../../lib/clock.js";
import { vsCodec } from "../wire/index.js";
import { fleetPorts, SimulatorFleet } from "./fleet.js";

export interface SimulateOptions {
  readonly cameras: number;
  readonly seed: number;
  readonly rateHz: number;
  readonly host: string;
  readonly basePort: number;
  readonly password: string;
  readonly announce: { host: string; port: number } | undefined;
}

/** `smartcam-bridge simulate`: runs simulated cameras until SIGINT or SIGTERM. */
export async function runSimulator(options: SimulateOptions, logger: Logger): Promise<number> {
  const fleet = new SimulatorFleet({
    count: options.cameras,
    seed: options.seed,
    rateHz: options.rateHz,
    host: options.host,
    basePort: options.basePort,
    password: options.password,
    codec: vsCodec,
    clock: systemClock,
    announce: options.announce ? { ...options.announce, intervalMs: 1_000 } : undefined,
  });
  await fleet.start();
  fleet.cameras.forEach((camera, i) => {
    const { outputs, announce: _default, ...ports } = fleetPorts(options.basePort, i);
    logger.info(
      {
        name: camera.identity.name,
        serial: camera.identity.serial,
        address: options.host,
        ports,
        formattedOutputPorts: outputs,
        announceTo: options.announce ? `${options.announce.host}:${options.announce.port}` : "none",
      },
      "simulated camera up",
    );
  });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await fleet.stop();
  logger.info("simulator stopped");
  return 0;
}
