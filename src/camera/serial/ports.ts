import type { Logger } from "pino";
import type { FormattedOutputConfig } from "../../config/cameras-schema.js";
import type { Clock } from "../../lib/clock.js";
import type { Random } from "../../lib/random.js";
import type { CameraEvent, CameraState, SerialLineEvent } from "../domain.js";
import { FormattedOutputClient, type SerialCounters } from "./client.js";

export interface SerialPortsOptions {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly emit: (event: CameraEvent) => void;
  readonly keep: (line: SerialLineEvent) => Promise<void>;
}

/**
 * Every formatted-output client of every camera. A camera with no binary session is a full
 * citizen here: online while any of its ports is connected, offline when none is.
 */
export class SerialPorts {
  readonly #options: SerialPortsOptions;
  readonly #clients = new Map<string, FormattedOutputClient[]>();
  readonly #standalone = new Map<string, CameraState>();

  constructor(options: SerialPortsOptions) {
    this.#options = options;
  }

  /** Cameras that have formatted output only, with their state. */
  get standalone(): CameraState[] {
    return [...this.#standalone.values()];
  }

  isStandalone(cameraId: string): boolean {
    return this.#standalone.has(cameraId);
  }

  add(cameraId: string, host: string, configs: readonly FormattedOutputConfig[], standalone: boolean): void {
    const { clock, random, logger, reconnect, emit, keep } = this.#options;
    this.remove(cameraId);
    if (standalone) {
      this.#standalone.set(cameraId, {
        id: cameraId,
        address: host,
        availability: "connecting",
        status: "unknown",
        job: "",
        inControl: "",
        counters: { inspections: 0, passed: 0, failed: 0 },
      });
    }
    const clients = configs.map(
      (config, index) =>
        new FormattedOutputClient({
          cameraId,
          output: config.name ?? `Output${index + 1}`,
          host,
          config,
          clock,
          random,
          reconnect,
          logger: logger.child({ camera: cameraId }),
          emit,
          keep,
          onConnection: () => {
            if (standalone) this.#availability(cameraId);
          },
        }),
    );
    this.#clients.set(cameraId, clients);
    for (const client of clients) client.start();
  }

  #availability(cameraId: string): void {
    const state = this.#standalone.get(cameraId);
    if (!state) return;
    const online = (this.#clients.get(cameraId) ?? []).some((client) => client.connected);
    const availability = online ? "online" : "offline";
    if (state.availability === availability) return;
    const next: CameraState = {
      ...state,
      availability,
      ...(online ? { lastSeen: this.#options.clock.now() } : {}),
    };
    this.#standalone.set(cameraId, next);
    const emit = this.#options.emit;
    if (online) emit({ type: "online", cameraId, state: next });
    else emit({ type: "offline", cameraId, reason: "no formatted-output port connected", state: next });
  }

  /** The camera is no longer run (an adopted camera that went away): its ports close for good. */
  remove(cameraId: string): void {
    for (const client of this.#clients.get(cameraId) ?? []) client.stop();
    this.#clients.delete(cameraId);
    this.#standalone.delete(cameraId);
  }

  counters(): { cameraId: string; port: number; counters: SerialCounters }[] {
    return [...this.#clients].flatMap(([cameraId, clients]) =>
      clients.map((client) => ({ cameraId, port: client.port, counters: client.counters })),
    );
  }

  stop(): void {
    for (const clients of this.#clients.values()) for (const client of clients) client.stop();
    this.#clients.clear();
    this.#standalone.clear();
  }
}
