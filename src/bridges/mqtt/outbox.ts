import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import type { Journal, JournalEntry } from "./journal.js";

export interface OutboxOptions {
  readonly journal: Journal;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxInflight: number;
  readonly replayPerSecond: number;
}

/** A replayed message says so: the flag is added to its JSON when it is sent again. */
function markReplayed(payload: Buffer): Buffer {
  try {
    const body = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
    return Buffer.from(JSON.stringify({ ...body, replayed: true }));
  } catch {
    return payload;
  }
}

/**
 * Publishes the journal at QoS 1, oldest first, and removes each entry when the broker has
 * acknowledged it. What a previous run left behind is replayed at a bounded rate on its own
 * cursor, so that live messages keep flowing meanwhile.
 */
export class Outbox {
  readonly #options: OutboxOptions;
  #client: MqttClient | undefined;
  #liveCursor: number;
  #replayCursor = 0;
  readonly #inflight = new Set<number>();
  #tokens = 0;
  #lastRefill = 0;
  #timer: TimerHandle | undefined;
  /** Entries sent, each once: a resend after a lost connection counts in resent instead. */
  published = 0;
  /** Sends of entries already published once, whose PUBACK the lost connection took with it. */
  resent = 0;
  /** Entries the broker acknowledged (each once): they left the journal. */
  acknowledged = 0;
  /** Entries from a previous run of the daemon, published once each. */
  replayed = 0;
  /** Seqs that went back to their cursor unacknowledged: their next send is a resend. */
  readonly #rewound = new Set<number>();

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#liveCursor = options.journal.replayEnd;
    options.journal.onCommitted = () => this.#schedulePump();
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  attach(client: MqttClient): void {
    this.#client = client;
    this.#lastRefill = this.#options.clock.now();
    this.pump();
  }

  /** The connection went: whatever was in flight is sent again on the next one. */
  detach(): void {
    this.#client = undefined;
    for (const seq of this.#inflight) this.#rewind(seq);
    this.#inflight.clear();
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Makes the cursor of seq's range fall back to just before it, so that it is sent again. */
  #rewind(seq: number): void {
    this.#rewound.add(seq);
    if (seq <= this.#options.journal.replayEnd) this.#replayCursor = Math.min(this.#replayCursor, seq - 1);
    else this.#liveCursor = Math.min(this.#liveCursor, seq - 1);
  }

  stop(): void {
    this.detach();
  }

  /**
   * Many acknowledgements arrive in one turn of the event loop: one pump after them reads the
   * journal once and publishes a batch, instead of one read and one write per acknowledgement.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.pump();
    });
  }

  #pumpScheduled = false;

  pump(): void {
    const client = this.#client;
    if (!client?.connected) return;
    const { journal, maxInflight } = this.#options;
    let room = maxInflight - this.#inflight.size;
    if (room <= 0) return;
    // One write for the whole batch rather than a system call per message.
    const stream = client.stream as { cork?: () => void; uncork?: () => void };
    stream.cork?.();
    try {
      const live = journal.range(this.#liveCursor, Number.MAX_SAFE_INTEGER, room);
      for (const entry of live) this.#send(client, entry);
      if (live.length > 0) this.#liveCursor = (live.at(-1) as JournalEntry).seq;
      room -= live.length;
      if (this.#replayCursor < journal.replayEnd && room > 0) this.#replay(client, room);
    } finally {
      stream.uncork?.();
    }
  }

  #replay(client: MqttClient, room: number): void {
    const { journal, clock, replayPerSecond } = this.#options;
    const now = clock.now();
    this.#tokens = Math.min(
      replayPerSecond,
      this.#tokens + ((now - this.#lastRefill) / 1_000) * replayPerSecond,
    );
    this.#lastRefill = now;
    const allowed = Math.min(room, Math.floor(this.#tokens));
    if (allowed > 0) {
      const entries = journal.range(this.#replayCursor, journal.replayEnd, allowed);
      for (const entry of entries) this.#send(client, entry);
      this.#tokens -= entries.length;
      if (entries.length > 0) this.#replayCursor = (entries.at(-1) as JournalEntry).seq;
      else this.#replayCursor = journal.replayEnd;
    }
    if (this.#replayCursor < journal.replayEnd && !this.#timer) {
      this.#timer = clock.setTimeout(
        () => {
          this.#timer = undefined;
          this.pump();
        },
        Math.ceil(1_000 / replayPerSecond),
      );
    }
  }

  #send(client: MqttClient, entry: JournalEntry): void {
    this.#inflight.add(entry.seq);
    const payload = entry.replayed ? markReplayed(entry.payload) : entry.payload;
    if (this.#rewound.delete(entry.seq)) this.resent++;
    else {
      this.published++;
      if (entry.replayed) this.replayed++;
    }
    client.publish(entry.topic, payload, { qos: 1, retain: entry.retain }, (error) => {
      if (!this.#inflight.delete(entry.seq)) return;
      if (error) {
        this.#rewind(entry.seq);
        this.#options.logger.debug(
          { err: error, seq: entry.seq },
          "publish failed; it is sent again after reconnecting",
        );
        return;
      }
      this.acknowledged++;
      this.#options.journal.remove(entry.seq);
      this.#schedulePump();
    });
  }
}
