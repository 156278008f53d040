import type { Logger } from "pino";
import type { Config } from "../config/schema.js";
import type { Clock } from "../lib/clock.js";
import { EventBus } from "../lib/event-bus.js";
import type { Random } from "../lib/random.js";
import { adoptionOf, sanitizeId, staticEndpoint } from "./adoption.js";
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
import { type IoKeeper, type Keeper, KeeperSet, type LineKeeper } from "./keepers.js";
import { SerialPorts } from "./serial/ports.js";
import { type CameraEndpoint, CameraSession } from "./session.js";
import { read } from "./wire/fields.js";
import { MessageType } from "./wire/messages.js";
import type { FrameCodec } from "./wire/types.js";

export type CamerasConfig = Config["cameras"];

/** IO transitions the keepers may hold unkept before new ones are dropped (and counted). */
export const IO_HOLD = 4_096;

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
  readonly #ioKeepers = new KeeperSet<IoEvent>();
  /** IO transitions handed to the keepers and not yet kept, and those dropped past the bound. */
  readonly ioFigures = { kept: 0, pending: 0, dropped: 0, keepErrors: 0 };
  readonly #adopted = new Set<string>();
  /** Serials whose adoption is under way: an announce meanwhile starts no second session. */
  readonly #adopting = new Set<string>();
  /** Where retired sessions stood: a camera adopted again resumes there, not from scratch. */
  readonly #positions = new Map<string, { bootTime: number; cycle: number } | undefined>();
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
    // A camera's text ports keep their own TCP liveness: a failed binary session does not cut them.
    this.events.subscribe((event) => {
      if (event.type === "offline") this.#offline(event.cameraId);
      if (event.type !== "io") return;
      this.#remember(event);
      this.#keepIo(event);
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

  /**
   * Registers an IO keeper: every transition in order. The IO connection cannot be paused without
   * stalling the camera's IO service, so past IO_HOLD unkept transitions new ones are dropped,
   * counted and logged.
   */
  addIoKeeper(keeper: IoKeeper): () => void {
    return this.#ioKeepers.add(keeper);
  }

  #keepIo(event: IoEvent): void {
    if (this.#ioKeepers.size === 0) return;
    const figures = this.ioFigures;
    if (figures.pending >= IO_HOLD) {
      if (figures.dropped++ % 1_000 === 0)
        this.#options.logger.warn(
          { camera: event.cameraId, point: event.point, dropped: figures.dropped, bound: IO_HOLD },
          "IO transitions dropped: their keeper (the journal) holds too many unkept",
        );
      return;
    }
    figures.pending++;
    this.#ioKeepers.keep(event).then(this.#ioKept, this.#ioNotKept);
  }

  readonly #ioKept = (): void => {
    this.ioFigures.pending--;
    this.ioFigures.kept++;
  };

  readonly #ioNotKept = (error: unknown): void => {
    this.ioFigures.pending--;
    if (this.ioFigures.keepErrors++ === 0)
      this.#options.logger.error({ err: error }, "IO transition not kept (logged once, then counted)");
  };

  /** The camera's own command allow-list, when its static entry or discovery rule gives one. */
  commandsOf(cameraId: string): readonly string[] | undefined {
    return this.#sessions.get(cameraId)?.options.endpoint.commands;
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
      this.serial.add(camera.id, camera.address, camera.formattedOutput, !camera.binary);
      if (camera.binary) await this.#add(staticEndpoint(config, camera));
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
    // Status, job and slot as they are once the command has acted: an output answering the command
    // shows the state it led to, and no announce tells the slot.
    if (name === "status") applyStatus(session, result as CommandResult<"status">);
    if (name === "selectJob" || name === "start" || name === "stop") await this.#refreshStatus(session);
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
      applyStatus(session, await runCommand(session, "status", {}, { allowSetNetwork: false }));
    };
    for (const channel of session.channels) {
      const inspection = channel.config.inspection;
      const kept = this.#positions.get(`${endpoint.id}/${inspection}`);
      channel.resumeFrom(later(kept, this.#options.resume?.(endpoint.id, inspection)));
    }
    this.#sessions.set(endpoint.id, session);
    await session.start();
  }

  /**
   * Reads the camera's status into its state. The command that asked for it has done its work
   * already: a status that fails now is left to the next one, and never fails that command.
   */
  async #refreshStatus(session: CameraSession): Promise<void> {
    try {
      applyStatus(session, await runCommand(session, "status", {}, { allowSetNetwork: false }));
    } catch (error) {
      this.#options.logger.debug({ err: error, camera: session.state.id }, "status after a command not read");
    }
  }

  #onDiscovery(event: CameraEvent): void {
    this.events.emit(event);
    if (event.type === "lost") {
      this.#lost(event.serial);
      return;
    }
    if (event.type !== "discovered" && event.type !== "changed") return;
    const announce = event.announce;
    const known = [...this.#sessions.values()].find(
      (s) => s.state.serial === announce.serial || (!s.state.serial && s.state.address === announce.ip),
    );
    if (known) {
      const jobChanged = announce.job !== known.state.job;
      known.update({ ...identityOf(announce), ...(jobChanged ? { slot: undefined } : {}) });
      // A job loaded elsewhere: the announce names it, the status tells its slot.
      if (jobChanged && known.online) void this.#refreshStatus(known);
      // An announce is a hint that the camera is there: a session that is down tries now.
      if (!known.online) known.reconnectNow();
      return;
    }
    if (this.#adopting.has(announce.serial)) return;
    const id = this.#sessions.has(sanitizeId(announce.name))
      ? sanitizeId(`${announce.name}-${announce.serial}`)
      : sanitizeId(announce.name);
    const adoption = adoptionOf(this.#options.config, announce, id);
    if (!adoption) return;
    this.#adopted.add(id);
    this.#adopting.add(announce.serial);
    this.#options.logger.info(
      { camera: id, serial: announce.serial, address: announce.ip, rule: adoption.rule },
      "adopting announced camera",
    );
    this.serial.add(id, announce.ip, adoption.endpoint.formattedOutput ?? [], false);
    void this.#add(adoption.endpoint)
      .then(() => this.#sessions.get(id)?.update(identityOf(announce)))
      .catch((error: unknown) =>
        this.#options.logger.error({ err: error, camera: id }, "announced camera not adopted"),
      )
      .finally(() => this.#adopting.delete(announce.serial));
  }

  /**
   * Discovery no longer hears a camera. The announce is only a hint: a live session decides, and
   * keeps the camera. A session that is down already is stopped, through the same offline path
   * as any drop, and its position is kept for when the camera is adopted again.
   */
  #lost(serial: string): void {
    for (const [id, session] of this.#sessions) {
      if (session.state.serial !== serial || !this.#adopted.has(id)) continue;
      if (session.online) {
        this.#options.logger.info(
          { camera: id },
          "camera stopped announcing; its session is alive, so it stays",
        );
        continue;
      }
      this.#retire(id, session, "lost: no announce for three intervals and the session is down");
    }
  }

  /** An adopted camera whose session went down while discovery does not hear it is retired too. */
  #offline(id: string): void {
    const session = this.#sessions.get(id);
    const serial = session?.state.serial;
    if (!session || !serial || !this.#adopted.has(id) || this.#discovery?.hears(serial) !== false) return;
    this.#retire(id, session, "session down and the camera no longer announces");
  }

  #retire(id: string, session: CameraSession, reason: string): void {
    for (const channel of session.channels)
      this.#positions.set(`${id}/${channel.config.inspection}`, channel.position);
    this.#sessions.delete(id);
    this.#adopted.delete(id);
    this.#io.delete(id);
    this.serial.remove(id);
    void session.stop(reason);
  }
}

type Position = { bootTime: number; cycle: number };

/** The later of two positions: a boot that came after, or a higher cycle in the same boot. */
function later(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (!a || !b) return a ?? b;
  if (a.bootTime !== b.bootTime) return a.bootTime > b.bootTime ? a : b;
  return a.cycle >= b.cycle ? a : b;
}

function applyStatus(session: CameraSession, status: CommandResult<"status">): void {
  session.update({
    status: status.status as CameraState["status"],
    job: status.job,
    slot: status.slot,
    counters: { inspections: status.inspections, passed: status.passed, failed: status.failed },
  });
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
