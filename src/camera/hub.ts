import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { Clock } from "../lib/clock.js";
import { EventBus } from "../lib/event-bus.js";
import type { Random } from "../lib/random.js";
import { runCommand } from "./commands.js";
import { toImage } from "./convert.js";
import { Discovery } from "./discovery.js";
import type {
  Announce,
  CameraEvent,
  CameraState,
  CommandArgs,
  CommandName,
  CommandResult,
  IoEvent,
  Report,
  SerialLineEvent,
} from "./domain.js";
import { CameraError } from "./errors.js";
import { type Keeper, KeeperSet, type LineKeeper } from "./keepers.js";
import { SerialPorts } from "./serial/ports.js";
import { type CameraEndpoint, CameraSession } from "./session.js";
import { read } from "./wire/fields.js";
import { DEFAULT_PORTS, MessageType, type Ports } from "./wire/messages.js";
import type { FrameCodec } from "./wire/types.js";

export type CamerasConfig = Config["cameras"];

export interface CameraHubOptions {
  readonly config: CamerasConfig;
  /** Endpoints besides the configured ones (the embedded simulator's cameras). */
  readonly endpoints?: readonly CameraEndpoint[];
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly clientName: string;
  /** Where each inspection's reports stood when the daemon last kept one (a journal's positions). */
  readonly resume?:
    | ((cameraId: string, inspection: number) => { bootTime: number; cycle: number } | undefined)
    | undefined;
}

function inSubnet(ip: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const toInt = (a: string) => a.split(".").reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

export function sanitizeId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 64) || "camera";
}

/**
 * Runs the cameras: static ones from the config, announced ones that the adopt rules match, and
 * any extra endpoints. The one surface bridges use: events, keepers, states and commands.
 */
export class CameraHub {
  readonly events: EventBus<CameraEvent>;
  readonly #options: CameraHubOptions;
  readonly #sessions = new Map<string, CameraSession>();
  readonly #keepers = new KeeperSet<Report>();
  readonly #lineKeepers = new KeeperSet<SerialLineEvent>();
  readonly #adopted = new Set<string>();
  /** Each camera's IO as last heard, kinds kept from the point list: for bridges that start late. */
  readonly #io = new Map<string, Map<string, IoEvent>>();
  readonly serial: SerialPorts;
  #discovery: Discovery | undefined;

  constructor(options: CameraHubOptions) {
    this.#options = options;
    this.events = new EventBus((error) =>
      options.logger.error({ err: error }, "camera event listener failed"),
    );
    this.serial = new SerialPorts({
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      reconnect: options.config.reconnect,
      emit: (event) => this.events.emit(event),
      keep: (line) => this.#lineKeepers.keep(line),
    });
    // A camera's text ports go offline together with its session.
    this.events.subscribe((event) => {
      if (event.type === "offline" && this.#sessions.has(event.cameraId)) this.serial.drop(event.cameraId);
      if (event.type === "io") this.#remember(event);
    });
  }

  /** Registers a keeper; lossless reports are acknowledged only when every keeper has them. */
  addKeeper(keeper: Keeper): () => void {
    return this.#keepers.add(keeper);
  }

  /** Registers a line keeper: formatted-output lines it does not yet have hold back reading their port. */
  addLineKeeper(keeper: LineKeeper): () => void {
    return this.#lineKeepers.add(keeper);
  }

  get cameras(): CameraState[] {
    return [...[...this.#sessions.values()].map((session) => session.state), ...this.serial.standalone];
  }

  /** The camera's IO points as last heard, as the events that told of them. */
  io(cameraId: string): IoEvent[] {
    return [...(this.#io.get(cameraId)?.values() ?? [])];
  }

  #remember(event: IoEvent): void {
    const points = this.#io.get(event.cameraId) ?? new Map<string, IoEvent>();
    this.#io.set(event.cameraId, points);
    const kind = event.kind ?? points.get(event.point)?.kind;
    points.set(event.point, { ...event, kind });
  }

  session(id: string): CameraSession | undefined {
    return this.#sessions.get(id);
  }

  get discovery(): Discovery | undefined {
    return this.#discovery;
  }

  async start(): Promise<void> {
    const { config, codec, clock } = this.#options;
    for (const camera of config.static) {
      const settings = config.defaults;
      this.serial.add(camera.id, camera.address, camera.formattedOutput, !camera.binary);
      if (!camera.binary) continue;
      await this.#add({
        id: camera.id,
        address: camera.address,
        serial: camera.serial,
        ports: withOverrides(camera.ports ?? {}),
        user: camera.user ?? settings.user,
        password: camera.password ?? settings.password,
        control: camera.control ?? settings.control,
        reports: camera.reports ?? settings.reports,
      });
    }
    for (const endpoint of this.#options.endpoints ?? []) {
      this.serial.add(endpoint.id, endpoint.address, endpoint.formattedOutput ?? [], false);
      await this.#add(endpoint);
    }
    if (config.discovery.enabled) {
      const discovery = new Discovery({
        codec,
        clock,
        bindAddress: config.discovery.bindAddress,
        port: config.discovery.port,
        emit: (event) => this.#onDiscovery(event),
        onMalformed: (kind, detail) =>
          this.#options.logger.warn(
            { kind, detail },
            "malformed announce datagram (logged once per kind; all are counted)",
          ),
      });
      await discovery.start();
      this.#discovery = discovery;
    }
  }

  async stop(): Promise<void> {
    this.#discovery?.stop();
    this.#discovery = undefined;
    this.serial.stop();
    await Promise.all([...this.#sessions.values()].map((session) => session.stop()));
    this.#sessions.clear();
  }

  async command<N extends CommandName>(
    cameraId: string,
    name: N,
    args: CommandArgs<N>,
  ): Promise<CommandResult<N>> {
    const session = this.#sessions.get(cameraId);
    if (!session && this.serial.isStandalone(cameraId)) {
      throw new CameraError(
        "NOT_ALLOWED",
        `camera ${cameraId} has formatted output only: it takes no commands`,
      );
    }
    if (!session) throw new CameraError("NOT_FOUND", `no camera ${cameraId}`);
    const result = await runCommand(session, name, args, {
      allowSetNetwork: this.#options.config.allowSetNetwork,
    });
    if (name === "snap" && "image" in result)
      this.events.emit({
        type: "image",
        cameraId,
        image: (result as CommandResult<"snap">).image,
        source: "snap",
      });
    return result;
  }

  async #add(endpoint: CameraEndpoint): Promise<void> {
    const { codec, clock, random, logger, clientName, config } = this.#options;
    const session = new CameraSession({
      endpoint,
      codec,
      clock,
      random,
      logger: logger.child({ camera: endpoint.id }),
      clientName,
      requestTimeoutMs: config.requestTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      reconnect: config.reconnect,
      emit: (event) => this.events.emit(event),
      keep: (report) => this.#keepers.keep(report),
    });
    session.onServiceEvent = (service, frame) => {
      const fields = read(frame.fields);
      if (service === "io" && frame.type === MessageType.IO_CHANGE) {
        this.events.emit({
          type: "io",
          cameraId: endpoint.id,
          point: fields.text("name"),
          value: fields.bool("value"),
          time: fields.time("time"),
        });
      } else if (service === "acquire" && frame.type === MessageType.LIVE_FRAME) {
        this.events.emit({
          type: "image",
          cameraId: endpoint.id,
          image: toImage(fields.required("image", "RECORD")),
          source: "live",
        });
      }
    };
    session.onAttached = async () => {
      const { points } = await runCommand(session, "ioList", {}, { allowSetNetwork: false });
      for (const point of points)
        this.events.emit({
          type: "io",
          cameraId: endpoint.id,
          point: point.name,
          value: point.value,
          time: clock.now(),
          kind: point.kind,
        });
      await session.service("io").request(MessageType.IO_SUBSCRIBE, []);
      const status = await runCommand(session, "status", {}, { allowSetNetwork: false });
      session.update({
        status: status.status as CameraState["status"],
        job: status.job,
        counters: { inspections: status.inspections, passed: status.passed, failed: status.failed },
      });
    };
    for (const channel of session.channels)
      channel.resumeFrom(this.#options.resume?.(endpoint.id, channel.config.inspection));
    this.#sessions.set(endpoint.id, session);
    await session.start();
  }

  #onDiscovery(event: CameraEvent): void {
    this.events.emit(event);
    if (event.type === "lost") {
      for (const [id, session] of this.#sessions) {
        if (session.state.serial === event.serial && this.#adopted.has(id)) {
          this.#sessions.delete(id);
          this.#adopted.delete(id);
          this.#io.delete(id);
          void session.stop();
        }
      }
      return;
    }
    if (event.type !== "discovered" && event.type !== "changed") return;
    const announce = event.announce;
    const known = [...this.#sessions.values()].find(
      (s) => s.state.serial === announce.serial || (!s.state.serial && s.state.address === announce.ip),
    );
    if (known) {
      known.update(identityOf(announce));
      return;
    }
    if (event.type === "discovered" && this.#adopts(announce)) {
      let id = sanitizeId(announce.name);
      if (this.#sessions.has(id)) id = sanitizeId(`${announce.name}-${announce.serial}`);
      this.#adopted.add(id);
      const settings = this.#options.config.defaults;
      void this.#add({
        id,
        address: announce.ip,
        ports: DEFAULT_PORTS,
        user: settings.user,
        password: settings.password,
        control: settings.control,
        reports: settings.reports,
      })
        .then(() => this.#sessions.get(id)?.update(identityOf(announce)))
        .catch((error: unknown) =>
          this.#options.logger.error({ err: error, camera: id }, "announced camera not adopted"),
        );
    }
  }

  #adopts(announce: Announce): boolean {
    const { namePattern, subnets } = this.#options.config.discovery.adopt;
    if (namePattern !== undefined && new RegExp(namePattern).test(announce.name)) return true;
    return subnets.some((subnet) => inSubnet(announce.ip, subnet));
  }
}

function withOverrides(overrides: Readonly<Partial<Record<keyof Ports, number | undefined>>>): Ports {
  const ports: Record<string, number> = { ...DEFAULT_PORTS };
  for (const [name, port] of Object.entries(overrides)) if (port !== undefined) ports[name] = port;
  return ports as unknown as Ports;
}

function identityOf(announce: Announce): Partial<CameraState> {
  return {
    serial: announce.serial,
    name: announce.name,
    model: announce.model,
    version: announce.version,
    mac: announce.mac,
    status: announce.status as CameraState["status"],
    job: announce.job,
    inControl: announce.inControl,
    counters: { inspections: announce.inspections, passed: announce.passed, failed: announce.failed },
  };
}
