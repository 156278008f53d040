import type { Logger } from "pino";
import type { CameraHub } from "../../camera/index.js";
import type { Config } from "../../config/schema.js";
import { FirstOfKind } from "../../lib/first-of-kind.js";
import { allowedCommands } from "../allow-list.js";
import { COMMAND_METRICS } from "./device-metrics.js";
import type { Device } from "./devices.js";
import { type DecodedMetric, decodeCommand } from "./payload.js";

export interface DeviceCommandsOptions {
  readonly hub: CameraHub;
  readonly commands: Config["mqtt"]["commands"];
  readonly logger: Logger;
  readonly deviceOf: (id: string) => Device | undefined;
}

/**
 * DCMD writes, turned into camera commands through the same per-camera allow-list as MQTT
 * commands: writes to IO points (ioWrite) and to the command metrics. A metric the device's birth
 * did not name, or a value of the wrong type, asks nothing of the camera.
 */
export class DeviceCommands {
  readonly #options: DeviceCommandsOptions;
  readonly #once: FirstOfKind;
  readonly figures = { sent: 0, refused: 0, unknown: 0, malformed: 0, failed: 0 };

  constructor(options: DeviceCommandsOptions) {
    this.#options = options;
    this.#once = new FirstOfKind();
  }

  handle(cameraId: string, payload: Buffer): void {
    const device = this.#options.deviceOf(cameraId);
    let metrics: DecodedMetric[];
    try {
      metrics = decodeCommand(payload).metrics;
    } catch (error) {
      this.figures.malformed++;
      if (this.#once.first("malformed"))
        this.#options.logger.warn(
          { err: error, camera: cameraId },
          "DCMD that is not a Sparkplug payload; ignored (logged once)",
        );
      return;
    }
    for (const metric of metrics) {
      const name = metric.name ?? (metric.alias === undefined ? undefined : device?.nameOf(metric.alias));
      const command = device?.born && name ? this.#command(name, metric.value) : undefined;
      if (!command) {
        this.figures.unknown++;
        if (this.#once.first(`unknown:${cameraId}:${name ?? String(metric.alias)}`))
          this.#options.logger.warn(
            { camera: cameraId, metric: name ?? String(metric.alias) },
            "DCMD metric this device cannot take; ignored (logged once per metric)",
          );
        continue;
      }
      if (!allowedCommands(this.#options.commands, this.#options.hub, cameraId).includes(command.name)) {
        this.figures.refused++;
        this.#options.logger.warn(
          { camera: cameraId, command: command.name, metric: name },
          "DCMD refused: the camera's allow-list lacks the command",
        );
        continue;
      }
      this.figures.sent++;
      this.#options.hub
        .command(cameraId, command.name as "trigger", command.args as Record<string, never>)
        .catch((error: unknown) => {
          this.figures.failed++;
          this.#options.logger.warn(
            { err: error, camera: cameraId, command: command.name },
            "DCMD command failed",
          );
        });
    }
  }

  #command(name: string, value: DecodedMetric["value"]): { name: string; args: object } | undefined {
    if (name.startsWith("IO/")) {
      if (typeof value !== "boolean") return undefined;
      return { name: "ioWrite", args: { point: name.slice(3), value } };
    }
    const known = COMMAND_METRICS[name as keyof typeof COMMAND_METRICS];
    if (!known) return undefined;
    if (known.command === "selectJob") {
      const slot = typeof value === "bigint" ? Number(BigInt.asIntN(32, value)) : value;
      return typeof slot === "number" && Number.isInteger(slot)
        ? { name: "selectJob", args: { slot } }
        : undefined;
    }
    return value === true ? { name: known.command, args: {} } : undefined;
  }
}
