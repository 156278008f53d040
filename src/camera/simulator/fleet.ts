import type { Clock } from "../../lib/clock.js";
import type { FrameCodec } from "../wire/types.js";
import { type SimPorts, SimulatedCamera } from "./camera.js";

export interface FleetOptions {
  readonly count: number;
  readonly seed: number;
  readonly rateHz: number;
  readonly host: string;
  /** Camera i takes basePort + 20*i and the eleven ports after it (four of formatted output). */
  readonly basePort: number;
  readonly password: string;
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly announce?:
    | { readonly host: string; readonly port: number; readonly intervalMs: number }
    | undefined;
  readonly heartbeatMs?: number;
  readonly timeoutMs?: number;
  readonly queueCapacity?: number;
}

export function fleetPorts(basePort: number, index: number): SimPorts {
  const base = basePort + 20 * index;
  return {
    login: base,
    monitor: base + 1,
    io: base + 2,
    acquire: base + 3,
    rpc: base + 4,
    reports: base + 5,
    queue: base + 6,
    reportControl: base + 7,
    outputs: [base + 8, base + 9, base + 10, base + 11],
    announce: 49495,
  };
}

/** Several simulated cameras on one address, each on its own block of ports. */
export class SimulatorFleet {
  readonly cameras: SimulatedCamera[];

  constructor(options: FleetOptions) {
    this.cameras = Array.from({ length: options.count }, (_, i) => {
      const n = String(i + 1).padStart(3, "0");
      return new SimulatedCamera({
        host: options.host,
        ports: fleetPorts(options.basePort, i),
        identity: {
          name: `sim-cam-${n}`,
          model: "VS-SIM-100",
          serial: `SIM${options.seed}-${n}`,
          mac: `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`,
          ip: options.host,
          version: "1.0.0-sim",
        },
        password: options.password,
        codec: options.codec,
        clock: options.clock,
        seed: options.seed * 1_000 + i,
        announce: options.announce,
        heartbeatMs: options.heartbeatMs,
        timeoutMs: options.timeoutMs,
        rateHz: options.rateHz,
        queueCapacity: options.queueCapacity,
      });
    });
  }

  async start(): Promise<void> {
    for (const camera of this.cameras) await camera.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.cameras.map((camera) => camera.stop()));
  }
}
