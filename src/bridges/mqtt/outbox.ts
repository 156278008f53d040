import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { JournalEntry, JournalOutput } from "../../journal/index.js";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import { TokenBucket } from "../../lib/token-bucket.js";
import { type MqttMessage, renderRecord } from "./render.js";
import type { Topics } from "./topics.js";

export interface OutboxOptions {
  /** The MQTT output's view of the daemon's journal. */
  readonly journal: JournalOutput;
  readonly topics: Topics;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxInflight: number;
  readonly replayPerSecond: number;
}

/**
 * Publishes the journal's records at QoS 1, oldest first, rendered as they are sent, and tells the
 * journal of each the broker acknowledged. What a previous run left behind is replayed at a bounded rate on its own
 * cursor, so that live messages keep flowing meanwhile.
 */
export class Outbox {
  readonly #options: OutboxOptions;
  #client: MqttClient | undefined;
  #liveCursor: number;
  #replayCursor = 0;
  readonly #inflight = new Set<number>();
  readonly #replayRate: TokenBucket;
  #timer: TimerHandle | undefined;
  /** Entries sent, each once: a resend after a lost connection counts in resent instead. */
  published = 0;
  /** Sends of entries already published once, whose PUBACK the lost connection took with it. */
  resent = 0;
  /** Entries the broker acknowledged (each once): the MQTT output is done with them. */
  acknowledged = 0;
  /** Entries from a previous run of the daemon, published once each. */
  replayed = 0;
  /** Seqs that went back to their cursor unacknowledged: their next send is a resend. */
  readonly #rewound = new Set<number>();

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#replayRate = new TokenBucket(options.replayPerSecond, options.clock);
    this.#liveCursor = options.journal.replayEnd;
    this.#stopListening = options.journal.onCommitted(() => this.#schedulePump());
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  attach(client: MqttClient): void {
    this.#client = client;
    this.#replayRate.reset();
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

  readonly #stopListening: () => void;

  stop(): void {
    this.detach();
    this.#stopListening();
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
    const { journal, clock } = this.#options;
    const allowed = this.#replayRate.take(room);
    if (allowed > 0) {
      const entries = journal.range(this.#replayCursor, journal.replayEnd, allowed);
      for (const entry of entries) this.#send(client, entry);
      if (entries.length > 0) this.#replayCursor = (entries.at(-1) as JournalEntry).seq;
      else this.#replayCursor = journal.replayEnd;
    }
    if (this.#replayCursor < journal.replayEnd && !this.#timer) {
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined;
        this.pump();
      }, this.#replayRate.intervalMs);
    }
  }

  #send(client: MqttClient, entry: JournalEntry): void {
    const { seq } = entry;
    this.#inflight.add(seq);
    const message = renderRecord(this.#options.topics, entry.record, entry.replayed);
    if (this.#rewound.delete(seq)) this.resent++;
    else {
      this.published++;
      if (entry.replayed) this.replayed++;
    }
    this.#publish(client, seq, message);
  }

  /**
   * Apart from #send so that the callback, which lives until the PUBACK, holds the seq and not the
   * record: records kept that long would outlive the young generation.
   */
  #publish(client: MqttClient, seq: number, message: MqttMessage): void {
    client.publish(message.topic, message.payload, { qos: 1, retain: message.retain }, (error) => {
      if (!this.#inflight.delete(seq)) return;
      if (error) {
        this.#rewind(seq);
        this.#options.logger.debug(
          { err: error, seq },
          "publish failed; it is sent again after reconnecting",
        );
        return;
      }
      this.acknowledged++;
      this.#options.journal.ack(seq);
      this.#schedulePump();
    });
  }
}
