import { createHmac } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import type { Clock, TimerHandle } from "../lib/clock.js";
import { CameraError } from "./errors.js";
import { errorFromResponse } from "./transport/frame-connection.js";
import { f, read } from "./wire/fields.js";
import { MessageType, messageTypeName } from "./wire/messages.js";
import { type Field, Flags, type Frame, type FrameCodec } from "./wire/types.js";

export interface ControlClientOptions {
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Counted and dropped: a datagram that is not a frame. */
  readonly onMalformed?: () => void;
}

interface Pending {
  readonly type: number;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (error: Error) => void;
  readonly timer: TimerHandle;
}

/** CHALLENGE/LOGIN/LOGOUT/SET_NETWORK over UDP; the camera answers to our address and port. */
export class ControlClient {
  readonly #options: ControlClientOptions;
  readonly #pending = new Map<number, Pending>();
  #socket: Socket | undefined;
  #nextSeq = 1;

  constructor(options: ControlClientOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const socket = createSocket("udp4");
    socket.on("message", (message) => this.#onMessage(message));
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    this.#socket = socket;
  }

  stop(): void {
    for (const pending of this.#pending.values()) {
      this.#options.clock.clearTimeout(pending.timer);
      pending.reject(new CameraError("DISCONNECTED", "control client stopped"));
    }
    this.#pending.clear();
    this.#socket?.close();
    this.#socket = undefined;
  }

  #onMessage(message: Buffer): void {
    let frame: Frame;
    try {
      frame = this.#options.codec.decodeDatagram(message);
    } catch {
      this.#options.onMalformed?.();
      return;
    }
    const pending = this.#pending.get(frame.seq);
    if (!pending || pending.type !== frame.type || !(frame.flags & Flags.RESPONSE)) return;
    this.#pending.delete(frame.seq);
    this.#options.clock.clearTimeout(pending.timer);
    if (frame.flags & Flags.ERROR) pending.reject(errorFromResponse(frame));
    else pending.resolve(frame);
  }

  request(type: number, fields: readonly Field[]): Promise<Frame> {
    const socket = this.#socket;
    if (!socket) return Promise.reject(new CameraError("DISCONNECTED", "control client not started"));
    const seq = this.#nextSeq;
    this.#nextSeq = this.#nextSeq >= 0xffffffff ? 1 : this.#nextSeq + 1;
    const { clock, timeoutMs, codec, host, port } = this.#options;
    return new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        this.#pending.delete(seq);
        reject(new CameraError("TIMEOUT", `${messageTypeName(type)}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, { type, resolve, reject, timer });
      socket.send(codec.encode({ type, flags: 0, seq, fields }), port, host);
    });
  }

  /** Takes control: a nonce, then an HMAC-SHA256 proof of the password over it. Returns the lease. */
  async login(user: string, password: string): Promise<{ inControl: string; leaseMs: number }> {
    const challenge = await this.request(MessageType.CHALLENGE, [f.text("user", user)]);
    const nonce = read(challenge.fields).required("nonce", "BYTES");
    const proof = createHmac("sha256", password).update(nonce).digest();
    const answer = read(
      (await this.request(MessageType.LOGIN, [f.text("user", user), f.bytes("proof", proof)])).fields,
    );
    return { inControl: answer.text("inControl"), leaseMs: answer.int("leaseMs") };
  }

  async logout(): Promise<void> {
    await this.request(MessageType.LOGOUT, []);
  }

  async setNetwork(settings: {
    name?: string;
    ip?: string;
    mask?: string;
    gateway?: string;
    dhcp?: boolean;
  }): Promise<void> {
    const fields: Field[] = [];
    for (const key of ["name", "ip", "mask", "gateway"] as const) {
      const value = settings[key];
      if (value !== undefined) fields.push(f.text(key, value));
    }
    if (settings.dhcp !== undefined) fields.push(f.bool("dhcp", settings.dhcp));
    await this.request(MessageType.SET_NETWORK, fields);
  }
}
