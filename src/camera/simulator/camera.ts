import { createServer, type Server, type Socket } from "node:net";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import { type Random, seededRandom } from "../../lib/random.js";
import { FrameConnection } from "../transport/frame-connection.js";
import { FieldError, f } from "../wire/fields.js";
import { EVENT_TYPES, MessageType, type Ports } from "../wire/messages.js";
import { type Field, Flags, type Frame, type FrameCodec } from "../wire/types.js";
import { SimControl } from "./control.js";
import { defaultIo, Inspection, JOBS, type SimIdentity, type SimIoPoint } from "./model.js";
import type { ReportStream } from "./reporting.js";
import { SimServices } from "./services.js";
import { plainAddress, SimError } from "./sim-error.js";
import { SimUdp } from "./udp.js";

/** A camera's ports; outputs are its formatted-output ports (a real camera has four, 49211-49214). */
export type SimPorts = Ports & { readonly outputs: readonly number[] };
export type ServicePort = "io" | "acquire" | "rpc" | "reports" | "queue" | "reportControl";
const SERVICE_PORTS: readonly ServicePort[] = ["io", "acquire", "rpc", "reports", "queue", "reportControl"];

export interface SimCameraOptions {
  readonly host: string;
  readonly ports: SimPorts;
  readonly identity: SimIdentity;
  readonly password: string;
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly seed: number;
  /** Where ANNOUNCE goes; none: no announces. */
  readonly announce?:
    | { readonly host: string; readonly port: number; readonly intervalMs: number }
    | undefined;
  readonly heartbeatMs?: number | undefined;
  readonly timeoutMs?: number | undefined;
  /** Cycles per second of each inspection while running. */
  readonly rateHz?: number | undefined;
  readonly inspections?: number;
  readonly queueCapacity?: number | undefined;
  readonly leaseMs?: number;
}

export interface SimSession {
  readonly token: string;
  readonly address: string;
  readonly monitor: FrameConnection;
  readonly attached: Set<FrameConnection>;
  lastHeard: number;
}

export interface SimConnection {
  readonly port: ServicePort;
  readonly address: string;
  session: SimSession | undefined;
}

/**
 * A camera that speaks the wire profile on loopback: every port, sessions, control, inspections,
 * part queues, formatted output, and faults that tests can inject.
 */
export class SimulatedCamera {
  readonly options: SimCameraOptions;
  readonly identity: SimIdentity;
  readonly clock: Clock;
  readonly random: Random;
  readonly io: SimIoPoint[] = defaultIo();
  readonly inspections: Inspection[];
  readonly sessions = new Map<string, SimSession>();
  readonly connections = new Map<FrameConnection, SimConnection>();
  readonly streams = new Map<string, ReportStream>();
  readonly control: SimControl;
  readonly services: SimServices;
  status: "running" | "stopped" | "error" = "running";
  slot = 0;
  bootTime: number;
  frozen = false;
  /** False while announces are suppressed (a switch dropping broadcasts); the sessions go on. */
  announcing = true;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #outputClients = new Set<Socket>();
  readonly #udp: SimUdp;
  readonly #timers = new Set<TimerHandle>();
  #nextToken = 1;

  constructor(options: SimCameraOptions) {
    this.options = options;
    this.identity = { ...options.identity };
    this.clock = options.clock;
    this.random = seededRandom(options.seed);
    this.bootTime = options.clock.now();
    this.inspections = Array.from(
      { length: options.inspections ?? 1 },
      (_, i) => new Inspection(i, options.queueCapacity ?? 32),
    );
    const users = new Map([["admin", options.password]]);
    this.control = new SimControl(options.clock, users, options.leaseMs ?? 10_000, (address) =>
      [...this.sessions.values()].some((s) => s.address === address),
    );
    this.services = new SimServices(this);
    this.#udp = new SimUdp(this);
  }

  get heartbeatMs(): number {
    return this.options.heartbeatMs ?? 1_000;
  }

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 3_000;
  }

  get job(): string {
    return JOBS.find((job) => job.slot === this.slot)?.name ?? "";
  }

  async start(): Promise<void> {
    const { ports } = this.options;
    await this.#listen(ports.monitor, (socket) => this.#acceptMonitor(socket));
    for (const port of SERVICE_PORTS)
      await this.#listen(ports[port], (socket) => this.#acceptService(socket, port));
    for (const port of ports.outputs)
      await this.#listen(port, (socket) => {
        this.#outputClients.add(socket);
        socket.on("close", () => this.#outputClients.delete(socket));
        socket.on("data", () => undefined);
      });
    await this.#udp.start();
    this.every(this.heartbeatMs, () => this.#heartbeat());
    const rate = this.options.rateHz ?? 2;
    if (rate > 0) this.every(1_000 / rate, () => this.services.reporting.tick());
    const announce = this.options.announce;
    if (announce) {
      this.every(announce.intervalMs, () => this.#udp.announce());
      this.#udp.announce();
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) this.clock.clearInterval(timer);
    this.#timers.clear();
    this.services.stopAll();
    for (const socket of this.#sockets) socket.destroy();
    for (const socket of this.#outputClients) socket.destroy();
    this.#udp.stop();
    await Promise.all(this.#servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.#servers.length = 0;
  }

  every(ms: number, callback: () => void): TimerHandle {
    const timer = this.clock.setInterval(callback, ms);
    this.#timers.add(timer);
    return timer;
  }

  cancel(timer: TimerHandle | undefined): void {
    if (!timer) return;
    this.clock.clearInterval(timer);
    this.#timers.delete(timer);
  }

  #listen(port: number, onSocket: (socket: Socket) => void): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => undefined);
      onSocket(socket);
    });
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.options.host, () => resolve());
    });
  }

  #connection(socket: Socket, onFrame: (conn: FrameConnection, frame: Frame) => void): FrameConnection {
    const conn: FrameConnection = new FrameConnection(socket, {
      codec: this.options.codec,
      clock: this.clock,
      requestTimeoutMs: 5_000,
      onFrame: (frame) => {
        if (!this.frozen) onFrame(conn, frame);
      },
      onClose: () => this.#closed(conn),
    });
    return conn;
  }

  #acceptMonitor(socket: Socket): void {
    this.#connection(socket, (conn, frame) => {
      const session = [...this.sessions.values()].find((s) => s.monitor === conn);
      if (session) session.lastHeard = this.clock.now();
      if (frame.type === MessageType.HEARTBEAT) return;
      this.respond(
        (r) => this.send(conn, r),
        frame,
        () => {
          if (frame.type !== MessageType.HELLO)
            throw new SimError("UNKNOWN_TYPE", "the monitor port serves HELLO");
          if (session) throw new SimError("BAD_REQUEST", "HELLO was already sent on this connection");
          const token = `${this.identity.serial}-${this.#nextToken++}-${Math.floor(this.random() * 1e9).toString(36)}`;
          const address = plainAddress(socket.remoteAddress);
          this.sessions.set(token, {
            token,
            address,
            monitor: conn,
            attached: new Set(),
            lastHeard: this.clock.now(),
          });
          return [
            f.text("session", token),
            f.int("heartbeatMs", this.heartbeatMs),
            f.int("timeoutMs", this.timeoutMs),
          ];
        },
      );
    });
  }

  #acceptService(socket: Socket, port: ServicePort): void {
    const conn = this.#connection(socket, (c, frame) => this.#serviceFrame(c, frame));
    this.connections.set(conn, { port, address: plainAddress(socket.remoteAddress), session: undefined });
  }

  #serviceFrame(conn: FrameConnection, frame: Frame): void {
    const state = this.connections.get(conn);
    if (!state) return;
    if (EVENT_TYPES.has(frame.type)) {
      if (frame.type === MessageType.REPORT_ACK && state.port === "reports")
        this.services.reporting.ack(frame);
      return;
    }
    this.respond(
      (r) => this.send(conn, r),
      frame,
      () => {
        if (frame.type === MessageType.ATTACH) {
          const token = frame.fields.find((field) => field.name === "session");
          if (token?.kind !== "TEXT") throw new SimError("BAD_REQUEST", "ATTACH needs session TEXT");
          const session = this.sessions.get(token.value);
          if (!session) throw new SimError("UNKNOWN_SESSION", "no such session");
          state.session = session;
          session.attached.add(conn);
          return [];
        }
        if (!state.session) throw new SimError("NOT_ATTACHED", "send ATTACH first");
        return this.services.handle(state, conn, frame);
      },
    );
  }

  /** Answers a request with the handler's fields, or with the error it threw. */
  respond(reply: (response: Frame) => void, frame: Frame, handler: () => Field[]): void {
    let fields: Field[];
    let flags: number = Flags.RESPONSE;
    try {
      if (frame.seq === 0) throw new SimError("BAD_REQUEST", "seq 0 is for events");
      fields = handler();
    } catch (error) {
      const code =
        error instanceof SimError ? error.code : error instanceof FieldError ? "BAD_REQUEST" : "INTERNAL";
      fields = [f.text("code", code), f.text("message", (error as Error).message)];
      flags |= Flags.ERROR;
    }
    reply({ type: frame.type, flags, seq: frame.seq, fields });
  }

  send(conn: FrameConnection, frame: Frame): void {
    if (!this.frozen) conn.write(frame);
  }

  #closed(conn: FrameConnection): void {
    for (const session of this.sessions.values()) {
      if (session.monitor === conn) this.dropSession(session);
      session.attached.delete(conn);
    }
    this.connections.delete(conn);
    this.services.connectionClosed(conn);
  }

  dropSession(session: SimSession): void {
    if (!this.sessions.delete(session.token)) return;
    session.monitor.close();
    for (const conn of session.attached) conn.close();
  }

  #heartbeat(): void {
    if (this.frozen) return;
    const now = this.clock.now();
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastHeard > this.timeoutMs) {
        this.dropSession(session);
        continue;
      }
      session.monitor.write({
        type: MessageType.HEARTBEAT,
        flags: 0,
        seq: 0,
        fields: [f.int("uptimeMs", now - this.bootTime), f.text("status", this.status)],
      });
    }
  }

  writeOutput(line: string): void {
    if (this.frozen) return;
    for (const socket of this.#outputClients) socket.write(Buffer.from(line, "latin1"));
  }

  // --- faults ---------------------------------------------------------------------------------

  /** Half-open: the camera stops sending and reading, and its connections stay up without FIN or RST. */
  freeze(): void {
    this.frozen = true;
  }

  resume(): void {
    this.frozen = false;
    for (const session of this.sessions.values()) session.lastHeard = this.clock.now();
  }

  /** Resets every TCP connection (RST, not FIN), as a pulled cable followed by a switch's reset would. */
  dropWithReset(): void {
    for (const socket of [...this.#sockets]) socket.resetAndDestroy();
  }

  /** Writes bytes that are not a valid frame on every connection of a port. */
  sendMalformed(port: "monitor" | ServicePort = "monitor"): void {
    const garbage = Buffer.from("5853010200000000000000000000", "hex");
    for (const [conn, state] of this.connections) if (state.port === port) conn.writeBytes(garbage);
    if (port === "monitor") for (const session of this.sessions.values()) session.monitor.writeBytes(garbage);
  }

  /** A reboot: every connection closed, control released, counters and cycles from zero, uptime from now. */
  restart(): void {
    for (const session of [...this.sessions.values()]) this.dropSession(session);
    for (const socket of [...this.#sockets]) socket.destroy();
    this.control.reset();
    for (const inspection of this.inspections) inspection.reset();
    this.bootTime = this.clock.now();
  }
}
