import { connect, type Socket } from "node:net";
import type { Logger } from "pino";
import type { FormattedOutputConfig } from "../../config/cameras-schema.js";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import { backoffDelay, type Random } from "../../lib/random.js";
import type { SerialLineEvent } from "../domain.js";
import { unescapeC } from "./escapes.js";
import { type Framing, LineFramer } from "./framing.js";
import { csvParser, formatParser, type LineParser, regexParser } from "./parsers.js";

export interface SerialCounters {
  lines: number;
  bytes: number;
  parseErrors: number;
  overlong: number;
  reconnects: number;
  /** Lines handed to the keepers that they do not yet have. */
  pending: number;
  /** Lines a keeper failed to keep (its store refused them). */
  keepErrors: number;
}

/** Past this many lines that the keepers do not yet have, the port is not read: TCP holds the rest. */
export const HOLD_LINES = 256;
/** Reading resumes once the keepers are down to this many. */
const RESUME_LINES = HOLD_LINES / 2;

export interface FormattedOutputOptions {
  readonly cameraId: string;
  readonly output: string;
  readonly host: string;
  readonly config: FormattedOutputConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly logger: Logger;
  readonly emit: (event: SerialLineEvent) => void;
  /** Resolves when every keeper has the line (a durable store, say); it may wait while they are full. */
  readonly keep: (event: SerialLineEvent) => Promise<void>;
  /** Connected or not: the camera's availability when it has no binary session. */
  readonly onConnection: (connected: boolean) => void;
}

function framingOf(config: FormattedOutputConfig): Framing {
  const f = config.framing;
  if ("fixedLength" in f) return { mode: "fixedLength", length: f.fixedLength };
  if ("quietMs" in f) return { mode: "quiet", quietMs: f.quietMs };
  return { mode: "terminator", terminator: unescapeC(f.terminator) };
}

function parserOf(config: FormattedOutputConfig, terminator: string): LineParser | undefined {
  const parse = config.parse;
  if (!parse) return undefined;
  if ("format" in parse) return formatParser(parse.format, parse.names, terminator);
  if ("regex" in parse) return regexParser(parse.regex, parse.types);
  return csvParser(parse.csv);
}

/**
 * Reads one formatted-output port: a plain TCP client that never writes, with keepalive, and
 * reconnection with capped backoff and jitter. Every line is emitted, parsed or with its error,
 * and handed to the keepers; while they hold too many, the socket is paused, so that a full store
 * makes the camera wait on TCP instead of growing the daemon's memory.
 */
export class FormattedOutputClient {
  readonly options: FormattedOutputOptions;
  readonly counters: SerialCounters = {
    lines: 0,
    bytes: 0,
    parseErrors: 0,
    overlong: 0,
    reconnects: 0,
    pending: 0,
    keepErrors: 0,
  };
  readonly #framer: LineFramer;
  readonly #parser: LineParser | undefined;
  #socket: Socket | undefined;
  #retry: TimerHandle | undefined;
  #attempt = 0;
  #running = false;
  #seq = 0;
  connected = false;

  constructor(options: FormattedOutputOptions) {
    this.options = options;
    const framing = framingOf(options.config);
    this.#parser = parserOf(options.config, framing.mode === "terminator" ? framing.terminator : "");
    this.#framer = new LineFramer({
      framing,
      maxLineLength: options.config.maxLineLength,
      clock: options.clock,
      onLine: (line) => this.#line(line),
      onOverlong: () => {
        this.counters.overlong++;
        options.logger.warn(
          { port: options.config.port, maxLineLength: options.config.maxLineLength },
          "formatted output line too long: skipped",
        );
      },
    });
  }

  get port(): number {
    return this.options.config.port;
  }

  start(): void {
    this.#running = true;
    this.#connect();
  }

  stop(): void {
    this.#running = false;
    this.options.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#framer.reset();
  }

  #connect(): void {
    const { host, config, logger } = this.options;
    const socket = connect({
      host,
      port: config.port,
      keepAlive: true,
      keepAliveInitialDelay: 5_000,
      noDelay: true,
    });
    this.#socket = socket;
    if (this.counters.pending >= HOLD_LINES) socket.pause();
    socket.on("connect", () => {
      this.#attempt = 0;
      this.connected = true;
      logger.info({ port: config.port }, "formatted output connected");
      this.options.onConnection(true);
    });
    socket.on("data", (chunk: Buffer) => {
      this.counters.bytes += chunk.length;
      this.#framer.push(chunk);
    });
    socket.on("error", (error) =>
      logger.debug({ err: error, port: config.port }, "formatted output connection error"),
    );
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#framer.flush();
      this.#framer.reset();
      if (this.connected) {
        this.connected = false;
        logger.warn({ port: config.port }, "formatted output disconnected");
        this.options.onConnection(false);
      }
      if (!this.#running) return;
      this.counters.reconnects++;
      const delay = backoffDelay(
        this.#attempt++,
        this.options.reconnect.initialMs,
        this.options.reconnect.maxMs,
        this.options.random,
      );
      this.#retry = this.options.clock.setTimeout(() => {
        this.#retry = undefined;
        if (this.#running) this.#connect();
      }, delay);
    });
  }

  #line(bytes: Buffer): void {
    const raw = bytes.toString(this.options.config.encoding);
    let fields: SerialLineEvent["fields"];
    let error: string | undefined;
    if (this.#parser) {
      try {
        fields = this.#parser(raw);
      } catch (e) {
        error = (e as Error).message;
        this.counters.parseErrors++;
      }
    }
    this.counters.lines++;
    const event: SerialLineEvent = {
      type: "serial",
      cameraId: this.options.cameraId,
      port: this.port,
      output: this.options.output,
      raw,
      fields,
      error,
      time: this.options.clock.now(),
      seq: ++this.#seq,
    };
    this.options.emit(event);
    this.#hold(event);
  }

  #hold(event: SerialLineEvent): void {
    if (++this.counters.pending === HOLD_LINES) this.#socket?.pause();
    this.options.keep(event).then(this.#kept, this.#notKept);
  }

  // Bound once, not a pair of closures per line.
  readonly #kept = (): void => {
    if (--this.counters.pending === RESUME_LINES) this.#socket?.resume();
  };

  readonly #notKept = (error: unknown): void => {
    this.#kept();
    // Logged once, then only counted: a broken store would refuse every line.
    if (this.counters.keepErrors++ === 0)
      this.options.logger.error({ err: error, port: this.port }, "formatted output line not kept");
  };
}
