import { Gauge } from "prom-client";
import { CameraHub } from "../camera/hub.js";
import type { CameraEndpoint } from "../camera/session.js";
import { fleetPorts, SimulatorFleet } from "../camera/simulator/fleet.js";
import { vsCodec } from "../camera/wire/index.js";
import type { Config } from "../config/schema.js";
import { keepInJournal } from "../journal/index.js";
import type { JournalService } from "./mqtt-services.js";
import type { Service, ServiceContext, ServiceSpec } from "./service.js";

/** The simulated cameras the config's simulator section asks for, as the hub should reach them. */
export function simulatorEndpoints(config: Config): CameraEndpoint[] {
  const sim = config.simulator;
  if (!sim.enabled) return [];
  const defaults = config.cameras.defaults;
  return Array.from({ length: sim.cameras }, (_, i) => {
    const n = String(i + 1).padStart(3, "0");
    const { outputs, ...ports } = fleetPorts(sim.basePort, i);
    return {
      id: `sim-cam-${n}`,
      address: sim.host,
      serial: `SIM${sim.seed}-${n}`,
      ports,
      user: defaults.user,
      password: { reveal: () => sim.password },
      control: defaults.control,
      reports: defaults.reports,
      firstContact: defaults.firstContact,
      // The simulator writes "%s,%d,%.3f,%s\r\n" on its formatted-output ports, as a job would; the
      // demo reads the first.
      formattedOutput: [
        {
          port: outputs[0] ?? 0,
          framing: { terminator: "\\r\\n" },
          maxLineLength: 4_096,
          encoding: "latin1" as const,
          parse: { format: "%s,%d,%.3f,%s\\r\\n", names: ["result", "cycle", "cycleTimeMs", "lot"] },
        },
      ],
    };
  });
}

class SimulatorService implements Service {
  readonly #fleet: SimulatorFleet;
  #running = false;

  constructor(context: ServiceContext) {
    const { simulator: sim, cameras } = context.config;
    this.#fleet = new SimulatorFleet({
      count: sim.cameras,
      seed: sim.seed,
      rateHz: sim.rateHz,
      host: sim.host,
      basePort: sim.basePort,
      password: sim.password,
      codec: vsCodec,
      clock: context.clock,
      announce: cameras.discovery.enabled
        ? { host: "127.0.0.1", port: cameras.discovery.port, intervalMs: 1_000 }
        : undefined,
    });
  }

  async start(): Promise<void> {
    await this.#fleet.start();
    this.#running = true;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#fleet.stop();
  }

  health() {
    return { healthy: this.#running, detail: `${this.#fleet.cameras.length} simulated cameras` };
  }
}

export class CamerasService implements Service {
  readonly hub: CameraHub;
  readonly #context: ServiceContext;
  #started = false;

  constructor(context: ServiceContext) {
    this.#context = context;
    this.hub = new CameraHub({
      config: context.config.cameras,
      // Read when a session is made, not once at start: a camera adopted again, or one that
      // appears later, resumes where the journal stands for it now.
      resume: (camera, inspection) => {
        const position = context.lookup<JournalService>("journal")?.journal.position(camera, inspection);
        return position && { bootTime: position.bootTime, cycle: position.cycle };
      },
      endpoints: simulatorEndpoints(context.config),
      codec: vsCodec,
      clock: context.clock,
      random: Math.random,
      logger: context.logger,
      clientName: "smartcam-bridge",
    });
    this.hub.events.subscribe((event) => {
      if (
        event.type === "online" ||
        event.type === "offline" ||
        event.type === "discovered" ||
        event.type === "lost"
      )
        context.statusChanged();
    });
  }

  async start(): Promise<void> {
    const hub = this.hub;
    new Gauge({
      name: "smartcam_cameras",
      help: "Cameras by availability",
      labelNames: ["availability"],
      registers: [this.#context.metrics],
      collect() {
        this.reset();
        for (const availability of ["connecting", "online", "offline"] as const) {
          this.set({ availability }, hub.cameras.filter((c) => c.availability === availability).length);
        }
      },
    });
    new Gauge({
      name: "smartcam_camera_wire_events",
      help: "Per camera since start: connects (sessions established), drops (established sessions lost), connectFailures (attempts that failed before online), malformed frames",
      labelNames: ["camera", "event"],
      registers: [this.#context.metrics],
      collect() {
        this.reset();
        for (const state of hub.cameras) {
          const counters = hub.session(state.id)?.counters;
          if (!counters) continue;
          for (const [event, value] of Object.entries(counters)) this.set({ camera: state.id, event }, value);
        }
      },
    });
    new Gauge({
      name: "smartcam_formatted_output",
      help: "Per camera and formatted-output port: lines, bytes, parseErrors, overlong, reconnects, pending (not yet journaled), keepErrors",
      labelNames: ["camera", "port", "figure"],
      registers: [this.#context.metrics],
      collect() {
        this.reset();
        for (const { cameraId, port, counters } of hub.serial.counters()) {
          for (const [figure, value] of Object.entries(counters))
            this.set({ camera: cameraId, port: String(port), figure }, value);
        }
      },
    });
    new Gauge({
      name: "smartcam_io_transitions",
      help: "IO transitions: kept (journaled), pending (not yet), dropped (past the bound of unkept ones), keepErrors",
      labelNames: ["figure"],
      registers: [this.#context.metrics],
      collect() {
        this.reset();
        for (const [figure, value] of Object.entries(hub.ioFigures)) this.set({ figure }, value);
      },
    });
    new Gauge({
      name: "smartcam_discovery",
      help: "Discovery: cameras announcing, malformed datagrams, announces refused with the registry full",
      labelNames: ["figure"],
      registers: [this.#context.metrics],
      collect() {
        this.reset();
        const discovery = hub.discovery;
        if (!discovery) return;
        this.set({ figure: "cameras" }, discovery.cameras.length);
        this.set({ figure: "malformed" }, discovery.malformed);
        this.set({ figure: "refused" }, discovery.refused);
      },
    });
    // Lossless reports are acknowledged to cameras, and formatted-output ports read on, only once the journal has them.
    const journal = this.#context.lookup<JournalService>("journal")?.journal;
    if (journal) {
      keepInJournal(this.hub, journal, this.#context.logger);
    }
    await this.hub.start();
    this.#started = true;
  }

  async stop(): Promise<void> {
    this.#started = false;
    await this.hub.stop();
    this.#context.metrics.removeSingleMetric("smartcam_cameras");
    this.#context.metrics.removeSingleMetric("smartcam_camera_wire_events");
    this.#context.metrics.removeSingleMetric("smartcam_formatted_output");
    this.#context.metrics.removeSingleMetric("smartcam_discovery");
    this.#context.metrics.removeSingleMetric("smartcam_io_transitions");
  }

  /** Cameras being offline is the cameras' state, not the daemon's ill health: /healthz stays 200. */
  health() {
    return { healthy: this.#started, detail: this.status() };
  }

  status(): string {
    const cameras = this.hub.cameras;
    const online = cameras.filter((c) => c.availability === "online").length;
    return `${cameras.length} camera${cameras.length === 1 ? "" : "s"}, ${online} online`;
  }
}

export const simulatorServiceSpec: ServiceSpec = {
  name: "simulator",
  configKeys: ["simulator"],
  enabled: (config) => config.simulator.enabled,
  create: (context) => new SimulatorService(context),
};

export const camerasServiceSpec: ServiceSpec = {
  name: "cameras",
  dependsOn: ["simulator", "journal"],
  configKeys: ["cameras", "simulator"],
  create: (context) => new CamerasService(context),
};
