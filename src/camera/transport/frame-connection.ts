import { connect, type Socket } from "node:net";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import { CameraError } from "../errors.js";
import { read } from "../wire/fields.js";
import { isErrorCode, messageTypeName } from "../wire/messages.js";
import { type Field, Flags, type Frame, type FrameCodec, MalformedFrameError } from "../wire/types.js";

export interface FrameConnectionOptions {
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly requestTimeoutMs: number;
  readonly maxPayload?: number;
  /** Frames that are not responses to our requests: events, or requests when serving. */
  readonly onFrame: (frame: Frame) => void;
  /** Once, when the connection ends for any reason; `error` says why when it was not a clean close. */
  readonly onClose: (error: Error | undefined) => void;
}

interface Pending {
  readonly type: number;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: Error) => void;
  readonly timer: TimerHandle;
}

/** Turns an error response into the CameraError its code names. */
export function errorFromResponse(frame: Frame): CameraError {
  const fields = read(frame.fields);
  const code = fields.optional("code", "TEXT") ?? "INTERNAL";
  const message = fields.optional("message", "TEXT") ?? "";
  return new CameraError(
    isErrorCode(code) ? code : "PROTOCOL",
    `${messageTypeName(frame.type)}: ${code} ${message}`.trim(),
  );
}

/**
 * One TCP connection carrying frames: requests matched to responses by seq with a timeout each,
 * everything else handed to onFrame. A malformed frame closes the connection, as a stream cannot
 * resync; the error reaches onClose.
 */
export class FrameConnection {
  readonly #socket: Socket;
  readonly #options: FrameConnectionOptions;
  readonly #pending = new Map<number, Pending>();
  #nextSeq = 1;
  #closed = false;
  /** When bytes last arrived: any traffic is a sign of life for heartbeat supervision. */
  lastActivity: number;

  constructor(socket: Socket, options: FrameConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.lastActivity = options.clock.now();
    const decoder = options.codec.createDecoder({ maxPayload: options.maxPayload });
    socket.on("data", (chunk: Buffer) => {
      if (this.#closed) return;
      this.lastActivity = this.#options.clock.now();
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        this.close(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      for (const frame of frames) {
        if (this.#closed) return;
        this.#dispatch(frame);
      }
    });
    socket.on("error", (error) => this.close(error));
    socket.on("close", () => this.close(new CameraError("DISCONNECTED", "connection closed by the peer")));
    socket.on("end", () => this.close(new CameraError("DISCONNECTED", "connection closed by the peer")));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  #dispatch(frame: Frame): void {
    if (frame.flags & Flags.RESPONSE) {
      const pending = this.#pending.get(frame.seq);
      if (pending && pending.type === frame.type) {
        this.#pending.delete(frame.seq);
        this.#options.clock.clearTimeout(pending.timer);
        if (frame.flags & Flags.ERROR) pending.reject(errorFromResponse(frame));
        else pending.resolve(frame);
      }
      return;
    }
    this.#options.onFrame(frame);
  }

  request(
    type: number,
    fields: readonly Field[] = [],
    timeoutMs = this.#options.requestTimeoutMs,
  ): Promise<Frame> {
    if (this.#closed) return Promise.reject(new CameraError("DISCONNECTED", "connection is closed"));
    const seq = this.#nextSeq;
    this.#nextSeq = this.#nextSeq >= 0xffffffff ? 1 : this.#nextSeq + 1;
    return new Promise<Frame>((resolve, reject) => {
      const timer = this.#options.clock.setTimeout(() => {
        this.#pending.delete(seq);
        reject(new CameraError("TIMEOUT", `${messageTypeName(type)}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, { type, resolve, reject, timer });
      this.write({ type, flags: 0, seq, fields });
    });
  }

  /** Sends an event (seq 0) or, when serving, a response. */
  write(frame: Frame): void {
    if (this.#closed) return;
    this.#socket.write(this.#options.codec.encode(frame));
  }

  /** Writes bytes as they are; only the simulator's fault injection needs this. */
  writeBytes(bytes: Uint8Array): void {
    if (!this.#closed) this.#socket.write(bytes);
  }

  /** Ends the connection and fails every pending request; idempotent. */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      this.#options.clock.clearTimeout(pending.timer);
      pending.reject(new CameraError("DISCONNECTED", `connection closed: ${error?.message ?? "by us"}`));
    }
    this.#pending.clear();
    this.#socket.destroy();
    this.#options.onClose(error);
  }
}

export function isMalformed(error: Error | undefined): error is MalformedFrameError {
  return error instanceof MalformedFrameError;
}

/** Opens a TCP connection with Nagle off (latency) and keepalive on (dead peers behind NAT). */
export function openSocket(host: string, port: number, timeoutMs: number, clock: Clock): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 5_000 });
    const timer = clock.setTimeout(() => {
      socket.destroy();
      reject(new CameraError("TIMEOUT", `connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clock.clearTimeout(timer);
      socket.removeListener("error", onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clock.clearTimeout(timer);
      reject(new CameraError("DISCONNECTED", `connect to ${host}:${port}: ${error.message}`));
    };
    socket.once("error", onError);
  });
}
