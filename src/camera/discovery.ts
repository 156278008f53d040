import { createSocket, type Socket } from "node:dgram";
import type { Clock, TimerHandle } from "../lib/clock.js";
import { FirstOfKind } from "../lib/first-of-kind.js";
import { toAnnounce } from "./convert.js";
import type { Announce, CameraEvent } from "./domain.js";
import { MessageType } from "./wire/messages.js";
import type { FrameCodec } from "./wire/types.js";

export interface DiscoveryOptions {
  readonly codec: FrameCodec;
  readonly clock: Clock;
  readonly bindAddress: string;
  readonly port: number;
  readonly emit: (event: CameraEvent) => void;
  /** Told once per kind of bad datagram (the first of each), so a flood does not flood the log. */
  readonly onMalformed?: (kind: string, detail: string) => void;
}

/** Bounds that no announce can move: a subnet of cameras is far smaller, an interval far shorter. */
export const MAX_CAMERAS = 4_096;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 60_000;

interface Entry {
  announce: Announce;
  lastSeen: number;
  lostTimer: TimerHandle;
}

/** What the fields of an announce say that a client cares to be told has changed. */
const WATCHED = ["ip", "name", "status", "job", "inControl"] as const;

/**
 * Listens for ANNOUNCE datagrams and keeps a registry by serial: seen, changed (address, name,
 * status, job, who is in control), and lost after three intervals of silence.
 */
export class Discovery {
  readonly #options: DiscoveryOptions;
  readonly #registry = new Map<string, Entry>();
  #socket: Socket | undefined;
  /** Datagrams that were not a valid ANNOUNCE. */
  malformed = 0;
  /** Announces of new serials refused because the registry was full. */
  refused = 0;
  readonly #kinds = new FirstOfKind();

  constructor(options: DiscoveryOptions) {
    this.#options = options;
  }

  /** Whether the camera with this serial announced within the last three intervals. */
  hears(serial: string): boolean {
    return this.#registry.has(serial);
  }

  get cameras(): Announce[] {
    return [...this.#registry.values()].map((entry) => entry.announce);
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: "udp4", reuseAddr: true });
    socket.on("message", (message) => this.handle(message));
    socket.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(this.#options.port, this.#options.bindAddress, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    this.#socket = socket;
  }

  stop(): void {
    for (const entry of this.#registry.values()) this.#options.clock.clearTimeout(entry.lostTimer);
    this.#registry.clear();
    this.#socket?.close();
    this.#socket = undefined;
  }

  /** Handles one datagram; public so that the registry's rules are testable without a socket. */
  handle(message: Uint8Array): void {
    let announce: Announce;
    try {
      const frame = this.#options.codec.decodeDatagram(message);
      if (frame.type !== MessageType.ANNOUNCE) return;
      announce = toAnnounce(frame.fields);
    } catch (error) {
      this.malformed++;
      const kind = (error as { reason?: string }).reason ?? (error as Error).name;
      if (this.#kinds.first(kind)) this.#options.onMalformed?.(kind, (error as Error).message);
      return;
    }
    const { clock, emit } = this.#options;
    const previous = this.#registry.get(announce.serial);
    if (!previous && this.#registry.size >= MAX_CAMERAS) {
      this.refused++;
      return;
    }
    if (previous) clock.clearTimeout(previous.lostTimer);
    const interval = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, announce.intervalMs));
    // Lost after three intervals of silence, as the profile says.
    const lostTimer = clock.setTimeout(() => {
      this.#registry.delete(announce.serial);
      emit({ type: "lost", serial: announce.serial });
    }, 3 * interval);
    this.#registry.set(announce.serial, { announce, lastSeen: clock.now(), lostTimer });
    if (!previous) {
      emit({ type: "discovered", announce });
      return;
    }
    const changed = WATCHED.filter((key) => previous.announce[key] !== announce[key]);
    if (changed.length > 0) emit({ type: "changed", announce, changed });
  }
}
