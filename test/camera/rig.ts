import { pino } from "pino";
import { CameraHub } from "../../src/camera/hub.js";
import type { CameraEvent } from "../../src/camera/index.js";
import { SimulatedCamera } from "../../src/camera/simulator/camera.js";
import { vsCodec } from "../../src/camera/wire/index.js";
import { buildConfigSchema } from "../../src/config/schema.js";
import { systemClock } from "../../src/lib/clock.js";
import { seededRandom } from "../../src/lib/random.js";
import { freePort, freeUdpPort, retryOnCollision } from "../support/process.js";

export interface RigOptions {
  readonly rateHz?: number;
  readonly queueCapacity?: number;
  readonly reports?: readonly Record<string, unknown>[];
  readonly control?: "never" | "onDemand" | "hold";
  readonly password?: string;
  readonly cameraPassword?: string;
  readonly discovery?: boolean;
  readonly timeoutMs?: number;
  readonly heartbeatMs?: number;
  readonly allowSetNetwork?: boolean;
  /** Also read the simulator's formatted-output port, parsed with the job's format. */
  readonly formattedOutput?: boolean;
  /** Cycles from before first contact: recovered from the part queue (the default) or not. */
  readonly firstContact?: "recover" | "live";
  /** Runs on the hub before it starts (keepers, say). */
  readonly beforeStart?: (hub: CameraHub) => void;
  /** The camera's ports are taken, then freed: the hub starts with the camera down until camera.start(). */
  readonly cameraDown?: boolean;
  /** More settings of the camera's static entry (manufacturer, say). */
  readonly camera?: Record<string, unknown>;
}

export type Rig = Awaited<ReturnType<typeof startRig>>;

/** A free port for each of a camera's services (login is UDP). */
export async function freeServicePorts() {
  return {
    login: await freeUdpPort(),
    monitor: await freePort(),
    io: await freePort(),
    acquire: await freePort(),
    rpc: await freePort(),
    reports: await freePort(),
    queue: await freePort(),
    reportControl: await freePort(),
  };
}

/**
 * Starts a simulated camera on ports from `freshPorts`: something outside the suite may take a free
 * port between the check and the bind, so on EADDRINUSE it is tried again on new ones.
 */
export async function startOnFreePorts<P>(
  freshPorts: () => Promise<P>,
  make: (ports: P) => SimulatedCamera,
): Promise<{ camera: SimulatedCamera; ports: P }> {
  return retryOnCollision(async () => {
    const ports = await freshPorts();
    const camera = make(ports);
    try {
      await camera.start();
    } catch (error) {
      await camera.stop();
      throw error;
    }
    return { camera, ports };
  });
}

/** One simulated camera on free loopback ports and a hub running it, with every event recorded. */
export async function startRig(options: RigOptions = {}) {
  const heartbeatMs = options.heartbeatMs ?? 100;
  const timeoutMs = options.timeoutMs ?? 300;
  const freshPorts = async () => ({
    ...(await freeServicePorts()),
    outputs: [await freePort()],
    announce: await freeUdpPort(),
  });
  const makeCamera = (ports: Awaited<ReturnType<typeof freshPorts>>) =>
    new SimulatedCamera({
      host: "127.0.0.1",
      ports,
      identity: {
        name: "line1-cam",
        model: "VS-SIM-100",
        serial: "SIM-0001",
        mac: "02:00:00:00:00:01",
        ip: "127.0.0.1",
        version: "1.0.0-sim",
      },
      password: options.cameraPassword ?? "pw-camera",
      codec: vsCodec,
      clock: systemClock,
      seed: 7,
      announce: options.discovery ? { host: "127.0.0.1", port: ports.announce, intervalMs: 100 } : undefined,
      heartbeatMs,
      timeoutMs,
      rateHz: options.rateHz ?? 0,
      queueCapacity: options.queueCapacity ?? 32,
    });
  const { camera, ports } = await startOnFreePorts(freshPorts, makeCamera);
  if (options.cameraDown) await camera.stop();
  const { announce: _announce, outputs: _outputs, ...cameraPorts } = ports;
  const config = buildConfigSchema().parse({
    cameras: {
      static: [
        {
          id: "cam1",
          address: "127.0.0.1",
          ports: cameraPorts,
          password: options.password ?? "pw-camera",
          control: options.control ?? "onDemand",
          ...(options.reports ? { reports: options.reports } : {}),
          ...(options.firstContact ? { firstContact: options.firstContact } : {}),
          ...options.camera,
          ...(options.formattedOutput
            ? {
                formattedOutput: [
                  {
                    port: ports.outputs[0],
                    parse: { format: "%s,%d,%.3f,%s\\r\\n", names: ["result", "cycle", "cycleTime", "lot"] },
                  },
                ],
              }
            : {}),
        },
      ],
      discovery: { enabled: options.discovery ?? false, bindAddress: "127.0.0.1", port: ports.announce },
      reconnect: { initialMs: 50, maxMs: 200 },
      requestTimeoutMs: 1_000,
      connectTimeoutMs: 1_000,
      allowSetNetwork: options.allowSetNetwork ?? false,
    },
  }).cameras;
  const hub = new CameraHub({
    config,
    codec: vsCodec,
    clock: systemClock,
    random: seededRandom(3),
    logger: pino({ level: process.env.RIG_LOG ?? "silent" }),
    clientName: "rig",
  });
  const events: CameraEvent[] = [];
  hub.events.subscribe((event) => events.push(event));
  options.beforeStart?.(hub);
  await hub.start();

  async function waitFor<T extends CameraEvent>(
    predicate: (event: CameraEvent) => event is T,
    timeoutMs?: number,
    after?: number,
  ): Promise<T>;
  async function waitFor(
    predicate: (event: CameraEvent) => boolean,
    timeoutMs?: number,
    after?: number,
  ): Promise<CameraEvent>;
  async function waitFor(
    predicate: (event: CameraEvent) => boolean,
    timeoutMs = 5_000,
    after = 0,
  ): Promise<CameraEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.slice(after).find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `event not seen; last events: ${JSON.stringify(events.slice(-5).map((e) => e.type))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  return {
    camera,
    hub,
    events,
    ports,
    heartbeatMs,
    timeoutMs,
    waitFor,
    online: (after = 0) => waitFor((e) => e.type === "online", 5_000, after),
    reports: () => events.flatMap((e) => (e.type === "report" ? [e.report] : [])),
    async stop() {
      await hub.stop();
      await camera.stop();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
