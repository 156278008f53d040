import type { Logger } from "pino";
import type { FormattedOutputConfig } from "../config/cameras-schema.js";
import type { Clock, TimerHandle } from "../lib/clock.js";
import { backoffDelay, type Random } from "../lib/random.js";
import { ControlClient } from "./control.js";
import type { CameraEvent, CameraState, Report } from "./domain.js";
import { CameraError } from "./errors.js";
import { ReportChannel, type ReportStreamConfig } from "./report-channel.js";
import { FrameConnection, isMalformed, openSocket } from "./transport/frame-connection.js";
import { f, read } from "./wire/fields.js";
import { MessageType, type Ports } from "./wire/messages.js";
import type { Frame, FrameCodec } from "./wire/types.js";

export type ServiceName = "io" | "acquire" | "rpc" | "queue" | "reportControl";
const SERVICES: readonly ServiceName[] = ["io", "acquire", "rpc", "queue", "reportControl"];

export interface CameraEndpoint {
  readonly id: string;
  readonly address: string;
  /** Known ahead of the announce (simulated cameras, configured serials): fixes report ids at once. */
  readonly serial?: string | undefined;
  readonly ports: Ports;
  readonly user: string;
  readonly password: { reveal(): string } | undefined;
  readonly control: "never" | "onDemand" | "hold";
  readonly reports: readonly ReportStreamConfig[];
  /** Formatted-output ports to read beside the binary session. */
  readonly formattedOutput?: readonly FormattedOutputConfig[] | undefined;
  /** Cycles from before the first report heard: what the part queue holds, or none. */
  readonly firstContact?: "recover" | "live" | undefined;
  /** The camera's own command allow-list, for outputs that take commands; theirs otherwise. */
  readonly commands?: readonly string[] | undefined;
  /** The maker's name, for outputs that show a nameplate. */
  readonly manufacturer?: string | undefined;
}

export interface SessionOptions {
  readonly endpoint: CameraEndpoint;
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly clientName: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly emit: (event: CameraEvent) => void;
  readonly keep: (report: Report) => Promise<void>;
}

/** Wire-level counters of one camera, for metrics and state. */
export interface SessionCounters {
  /** Sessions established (online). */
  connects: number;
  /** Established sessions that ended for any reason but a stop. */
  drops: number;
  /** Attempts that failed before the session was established. */
  connectFailures: number;
  malformed: number;
}

interface Live {
  readonly generation: number;
  readonly monitor: FrameConnection;
  readonly services: Map<ServiceName, FrameConnection>;
  readonly reports: FrameConnection[];
  heartbeat: TimerHandle | undefined;
}

/**
 * One camera's heartbeat-monitored session: the monitor connection, one attached connection per
 * service, the report streams, and reconnection with capped exponential backoff and jitter.
 */
export class CameraSession {
  readonly options: SessionOptions;
  readonly control: ControlClient;
  readonly channels: ReportChannel[];
  readonly counters: SessionCounters = { connects: 0, drops: 0, connectFailures: 0, malformed: 0 };
  #state: CameraState;
  #live: Live | undefined;
  #generation = 0;
  #attempt = 0;
  #retry: TimerHandle | undefined;
  #running = false;
  /** Listeners for frames on a service connection that are not responses (IO_CHANGE, LIVE_FRAME). */
  onServiceEvent: (service: ServiceName, frame: Frame) => void = () => undefined;
  /** Runs once the connections are attached, before the camera is reported online. */
  onAttached: (live: { services: ReadonlyMap<ServiceName, FrameConnection> }) => Promise<void> = async () =>
    undefined;

  constructor(options: SessionOptions) {
    this.options = options;
    const { endpoint } = options;
    this.#state = {
      id: endpoint.id,
      address: endpoint.address,
      serial: endpoint.serial,
      manufacturer: endpoint.manufacturer,
      availability: "connecting",
      status: "unknown",
      job: "",
      inControl: "",
      counters: { inspections: 0, passed: 0, failed: 0 },
    };
    this.control = new ControlClient({
      codec: options.codec,
      clock: options.clock,
      host: endpoint.address,
      port: endpoint.ports.login,
      timeoutMs: options.requestTimeoutMs,
      onMalformed: () => this.counters.malformed++,
    });
    this.channels = endpoint.reports.map(
      (config) =>
        new ReportChannel(config, {
          cameraId: endpoint.id,
          firstContact: endpoint.firstContact ?? "recover",
          logger: options.logger,
          emit: options.emit,
          keep: options.keep,
          fail: (error) => this.#drop(this.#generation, `a report could not be kept: ${error.message}`),
        }),
    );
  }

  get state(): CameraState {
    return this.#state;
  }

  get online(): boolean {
    return this.#state.availability === "online";
  }

  update(patch: Partial<CameraState>): void {
    this.#state = { ...this.#state, ...patch };
    this.options.emit({ type: "state", cameraId: this.#state.id, state: this.#state });
  }

  service(name: ServiceName): FrameConnection {
    const conn = this.#live?.services.get(name);
    if (!conn || conn.closed) throw new CameraError("OFFLINE", `camera ${this.#state.id} is not online`);
    return conn;
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.control.start();
    void this.#connect();
  }

  /**
   * Ends the session for good. It goes through the same offline path as a drop, with the reason,
   * so that every bridge tells of it; a session that was never online says so too.
   */
  async stop(reason = "session stopped"): Promise<void> {
    this.#running = false;
    this.options.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#teardown();
    this.control.stop();
    this.#offline(reason);
  }

  /**
   * The camera announced while the session is down: it is there again (perhaps rebooted), so the
   * backoff is cut short and the next attempt starts now.
   */
  reconnectNow(): void {
    if (!this.#running || this.#live || this.#retry === undefined) return;
    this.options.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#attempt = 0;
    this.options.logger.debug("camera announced while down: connecting now");
    void this.#connect();
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const { endpoint, clock, connectTimeoutMs, requestTimeoutMs, codec } = this.options;
    const open = async (port: number, onFrame: (frame: Frame) => void): Promise<FrameConnection> => {
      const socket = await openSocket(endpoint.address, port, connectTimeoutMs, clock);
      const conn = new FrameConnection(socket, {
        codec,
        clock,
        requestTimeoutMs,
        onFrame,
        onClose: (error) => {
          if (isMalformed(error)) this.counters.malformed++;
          this.#drop(generation, error?.message ?? "connection closed");
        },
      });
      if (generation !== this.#generation) conn.close();
      return conn;
    };
    const uptimeBefore = this.#uptime;
    try {
      let firstBeat: (uptimeMs: number) => void = () => undefined;
      const beat = new Promise<number>((resolve) => {
        firstBeat = resolve;
      });
      const monitor = await open(endpoint.ports.monitor, (frame) => {
        if (frame.type !== MessageType.HEARTBEAT) return;
        const fields = read(frame.fields);
        const uptime = fields.optional("uptimeMs", "INT");
        if (uptime !== undefined) {
          firstBeat(uptime);
          this.#uptime = uptime;
        }
        const status = fields.optional("status", "TEXT");
        if (status && status !== this.#state.status && this.online)
          this.update({ status: status as CameraState["status"] });
      });
      if (generation !== this.#generation) return;
      const live: Live = { generation, monitor, services: new Map(), reports: [], heartbeat: undefined };
      this.#live = live;
      const hello = read(
        (await monitor.request(MessageType.HELLO, [f.text("client", this.options.clientName)])).fields,
      );
      const token = hello.text("session");
      this.#startHeartbeat(live, hello.int("heartbeatMs"), hello.int("timeoutMs"));
      const uptime = await this.#within(beat, hello.int("timeoutMs"), "no heartbeat after HELLO");
      const bootTime = this.#bootTime(
        clock.now() - uptime,
        uptimeBefore !== undefined && uptime < uptimeBefore,
      );
      const attach = async (port: number, onFrame: (frame: Frame) => void) => {
        const conn = await open(port, onFrame);
        await conn.request(MessageType.ATTACH, [f.text("session", token)]);
        return conn;
      };
      await Promise.all(
        SERVICES.map(async (name) => {
          live.services.set(
            name,
            await attach(endpoint.ports[name], (frame) => this.onServiceEvent(name, frame)),
          );
        }),
      );
      await this.onAttached({ services: live.services });
      const serial = this.#state.serial ?? endpoint.id;
      for (const channel of this.channels) {
        const conn = await attach(endpoint.ports.reports, (frame) => channel.onFrame(frame));
        live.reports.push(conn);
        await channel.open(conn, this.#serviceOf(live, "queue"), { serial, bootTime });
      }
      if (generation !== this.#generation) return;
      this.#attempt = 0;
      this.counters.connects++;
      this.#state = { ...this.#state, availability: "online", bootTime, lastSeen: clock.now() };
      this.options.logger.info("camera online");
      this.options.emit({ type: "online", cameraId: endpoint.id, state: this.#state });
      if (endpoint.control === "hold")
        await this.takeControl().catch((error: Error) =>
          this.options.logger.warn({ err: error }, "could not take control"),
        );
    } catch (error) {
      this.#drop(generation, (error as Error).message);
    }
  }

  #serviceOf(live: Live, name: ServiceName): FrameConnection {
    const conn = live.services.get(name);
    if (!conn) throw new CameraError("OFFLINE", `${name} connection missing`);
    return conn;
  }

  /** Resolves with work's value, or rejects after ms; the timer goes either way, or at teardown. */
  async #within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.options.clock.setTimeout(() => reject(new CameraError("TIMEOUT", message)), ms);
      this.#pendingTimers.add(timer);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      this.options.clock.clearTimeout(timer);
      if (timer) this.#pendingTimers.delete(timer);
    }
  }

  readonly #pendingTimers = new Set<TimerHandle>();

  /**
   * Keeps the boot time, part of every report id, stable across reconnects: an estimate within a
   * second of the last one is the same boot (the estimate only moves by network latency); a larger
   * step means the camera restarted. So does an uptime lower than the last one heard, even when
   * the camera restarted within a second of its last boot; its ids must still be its own.
   */
  #bootTime(estimate: number, restarted: boolean): number {
    const known = this.#state.bootTime;
    const previous = this.#bootEstimate;
    this.#bootEstimate = estimate;
    if (known === undefined || previous === undefined) return Math.round(estimate / 1_000) * 1_000;
    if (!restarted && Math.abs(estimate - previous) < 1_000) return known;
    const rounded = Math.round(estimate / 1_000) * 1_000;
    return restarted && rounded <= known ? known + 1_000 : rounded;
  }

  #bootEstimate: number | undefined;
  /** The camera's uptime in its last heartbeat: it only grows while the camera stays up. */
  #uptime: number | undefined;

  #startHeartbeat(live: Live, heartbeatMs: number, timeoutMs: number): void {
    const { clock } = this.options;
    // Checked once per heartbeat, so a silent camera is reported within timeoutMs plus one
    // heartbeat, even over a half-open connection that never sees FIN or RST.
    live.heartbeat = clock.setInterval(() => {
      const silent = clock.now() - live.monitor.lastActivity;
      if (silent > timeoutMs) {
        this.#drop(live.generation, `no heartbeat for ${silent} ms`);
        return;
      }
      live.monitor.write({ type: MessageType.HEARTBEAT, flags: 0, seq: 0, fields: [] });
    }, heartbeatMs);
  }

  async takeControl(): Promise<void> {
    const password = this.options.endpoint.password;
    if (!password)
      throw new CameraError("AUTH_FAILED", `no password configured for camera ${this.#state.id}`);
    const { inControl } = await this.control.login(this.options.endpoint.user, password.reveal());
    this.update({ inControl });
  }

  async releaseControl(): Promise<void> {
    await this.control.logout();
    this.update({ inControl: "" });
  }

  /** Ends the current attempt or session (a stale generation is ignored), reports it, and retries. */
  #drop(generation: number, reason: string): void {
    if (generation !== this.#generation) return;
    this.#teardown();
    if (this.online) this.counters.drops++;
    else this.counters.connectFailures++;
    this.#offline(reason);
    if (this.#running) this.#scheduleRetry(reason);
  }

  /** The one way a session tells it is down: once per outage, with its reason. */
  #offline(reason: string): void {
    if (this.#state.availability === "offline") return;
    this.#state = { ...this.#state, availability: "offline" };
    this.options.logger.warn({ reason }, "camera offline");
    this.options.emit({ type: "offline", cameraId: this.#state.id, reason, state: this.#state });
  }

  #scheduleRetry(reason: string): void {
    const { reconnect, random, clock, logger } = this.options;
    const delay = backoffDelay(this.#attempt++, reconnect.initialMs, reconnect.maxMs, random);
    logger.debug({ reason, delay }, "reconnecting");
    this.#retry = clock.setTimeout(() => {
      this.#retry = undefined;
      if (this.#running) void this.#connect();
    }, delay);
  }

  #teardown(): void {
    this.#generation++;
    const live = this.#live;
    this.#live = undefined;
    for (const timer of this.#pendingTimers) this.options.clock.clearTimeout(timer);
    this.#pendingTimers.clear();
    for (const channel of this.channels) channel.detach();
    if (!live) return;
    this.options.clock.clearInterval(live.heartbeat);
    live.monitor.close();
    for (const conn of live.services.values()) conn.close();
    for (const conn of live.reports) conn.close();
  }
}
