import type Database from "better-sqlite3";
import type { Logger } from "pino";
import { type DropNotice, DropRuns, type NoticeStore } from "./drop-runs.js";
import { openStore, readTotals, type Statements } from "./journal-store.js";

export interface JournalOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly policy: "block" | "dropOldest";
  /** fsync every group commit (power-loss safe) instead of leaving it to the OS (crash safe). */
  readonly fsync: boolean;
  readonly logger: Logger;
  /** The message that tells subscribers of reports the dropOldest policy dropped (see DropRuns). */
  readonly dropNotice?: DropNotice;
}

export interface JournalEntry {
  readonly seq: number;
  readonly topic: string;
  readonly payload: Buffer;
  /** Published retained (IO points: the last transition is the point's state). */
  readonly retain: boolean;
  /** Left undelivered by a previous run of the daemon. */
  readonly replayed: boolean;
}

/** Where a camera's inspection stood when a message about it was journaled. */
export interface Position {
  readonly camera: string;
  readonly inspection: number;
  readonly bootTime: number;
  readonly cycle: number;
}

export interface AppendOptions {
  /** Where the report stands: the journal resumes from it, and tells of it if it drops it. */
  readonly position?: Position;
  /** Never dropped by the dropOldest policy (gap notices: they account for what was lost). */
  readonly keep?: boolean;
  /** Published with the retain flag. */
  readonly retain?: boolean;
}

type DroppedRow = { [K in keyof Position]: Position[K] | null };

interface PendingAppend {
  readonly topic: string;
  readonly payload: Buffer;
  readonly position: Position | undefined;
  readonly keep: boolean;
  readonly retain: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The durable outbox of messages that must reach the broker: appended before a camera is told it
 * may forget a report, deleted when the broker has acknowledged it. SQLite in WAL mode, with group
 * commit: the appends of one turn of the event loop share one transaction (and one fsync).
 */
export class Journal {
  readonly #options: JournalOptions;
  #db: Database.Database | undefined;
  #statements: Statements | undefined;
  #pending: PendingAppend[] = [];
  /** Bytes of #pending, kept as they come and go so that checking room costs nothing per append. */
  #pendingBytes = 0;
  #blocked: PendingAppend[] = [];
  #removals: number[] = [];
  #flushScheduled = false;
  #bytes = 0;
  #count = 0;
  /** The highest seq handed to the publisher: a notice at or below it may be on the wire already. */
  #handedOut = 0;
  /** Present when the journal was given a drop notice: then it tells of what it drops. */
  readonly #drops: DropRuns | undefined;
  /** Entries up to this seq were written by a previous run. */
  replayEnd = 0;
  /** Entries the dropOldest policy dropped: reports (told in gap notices), lines and IO transitions. */
  dropped = 0;
  /** Of those, reports: each lies inside a gap notice. */
  droppedReports = 0;
  appended = 0;
  /** Called after new entries are committed, so that the publisher can look at them. */
  onCommitted: () => void = () => undefined;

  constructor(options: JournalOptions) {
    this.#options = options;
    this.#drops = options.dropNotice ? new DropRuns(options.dropNotice) : undefined;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#count;
  }

  /** Appends waiting for space under the block policy. */
  get blocked(): number {
    return this.#blocked.length;
  }

  open(): void {
    const { db, statements } = openStore(this.#options.path, this.#options.fsync);
    this.#db = db;
    this.#statements = statements;
    const totals = readTotals(db);
    this.#count = totals.count;
    this.#bytes = totals.bytes;
    this.replayEnd = totals.last;
    if (totals.count > 0)
      this.#options.logger.info(
        { entries: totals.count, bytes: totals.bytes },
        "journal holds messages from a previous run; replaying",
      );
  }

  close(): void {
    this.#flush();
    for (const waiter of this.#blocked) waiter.reject(new Error("journal closed"));
    this.#blocked = [];
    this.#db?.close();
    this.#db = undefined;
    this.#statements = undefined;
  }

  positions(): Position[] {
    return (this.#statements?.positions.all() ?? []) as Position[];
  }

  /** Where one camera's inspection stood when its last report was journaled (read now, not at open). */
  position(camera: string, inspection: number): Position | undefined {
    return this.#statements?.position1.get(camera, inspection) as Position | undefined;
  }

  /** Resolves once the message is on disk. Under the block policy, waits while the journal is full. */
  append(topic: string, payload: string | Buffer, options: AppendOptions = {}): Promise<void> {
    if (!this.#db) return Promise.reject(new Error("journal is not open"));
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    return new Promise((resolve, reject) => {
      const entry = {
        topic,
        payload: bytes,
        position: options.position,
        keep: options.keep ?? false,
        retain: options.retain ?? false,
        resolve,
        reject,
      };
      if (this.#options.policy === "block" && (this.#blocked.length > 0 || !this.#fits(bytes.length)))
        this.#blocked.push(entry);
      else this.#enqueue(entry);
      this.#schedule();
    });
  }

  #fits(size: number): boolean {
    return this.#bytes + this.#pendingBytes + size <= this.#options.maxBytes;
  }

  #enqueue(entry: PendingAppend): void {
    this.#pending.push(entry);
    this.#pendingBytes += entry.payload.length;
  }

  /** Entries with from < seq <= to, oldest first. */
  range(from: number, to: number, limit: number): JournalEntry[] {
    const rows = (this.#statements?.range.all(from, to, limit) ?? []) as {
      seq: number;
      topic: string;
      payload: Buffer;
      retain: number;
    }[];
    const last = rows.at(-1);
    if (last && last.seq > this.#handedOut) this.#handedOut = last.seq;
    return rows.map((row) => ({ ...row, retain: row.retain === 1, replayed: row.seq <= this.replayEnd }));
  }

  /** The broker has it: the entry goes, and space frees for blocked appends. */
  remove(seq: number): void {
    this.#removals.push(seq);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  /** One transaction (one fsync) for what a turn of the event loop removed and appended. */
  #flush(): void {
    this.#flushScheduled = false;
    const db = this.#db;
    const st = this.#statements;
    if (!db || !st) return;
    const removals = this.#removals;
    this.#removals = [];
    let batch: PendingAppend[] = [];
    try {
      db.transaction(() => {
        for (const seq of removals) {
          const row = st.remove.get(seq) as { bytes: number } | undefined;
          if (!row) continue;
          this.#bytes -= row.bytes;
          this.#count--;
        }
        while (this.#blocked.length > 0 && this.#fits((this.#blocked[0] as PendingAppend).payload.length)) {
          this.#enqueue(this.#blocked.shift() as PendingAppend);
        }
        batch = this.#pending;
        this.#pending = [];
        this.#pendingBytes = 0;
        // Only the last position of each inspection in the batch needs writing: one upsert, not one per report.
        const latest = new Map<string, Position>();
        const notices = this.#notices(st);
        for (const entry of batch) {
          if (this.#options.policy === "dropOldest") this.#makeRoom(entry.payload.length, st, notices);
          const p = entry.position;
          this.#insert(st, entry.topic, entry.payload, p, entry.keep, entry.retain);
          if (p) latest.set(`${p.inspection}:${p.camera}`, p);
        }
        for (const p of latest.values()) st.position.run(p.camera, p.inspection, p.bootTime, p.cycle);
        this.#drops?.flush(notices);
      })();
    } catch (error) {
      this.#drops?.reset();
      // The transaction rolled back: the counters are read again from what is on disk.
      const totals = readTotals(db);
      this.#count = totals.count;
      this.#bytes = totals.bytes;
      for (const entry of batch) entry.reject(error as Error);
      return;
    }
    if (batch.length === 0) return;
    this.appended += batch.length;
    for (const entry of batch) entry.resolve();
    this.onCommitted();
  }

  #insert(
    st: Statements,
    topic: string,
    payload: Buffer,
    p: Position | undefined,
    keep: boolean,
    retain = false,
  ): number {
    const { lastInsertRowid } = st.insert.run(
      topic,
      payload,
      payload.length,
      p?.camera ?? null,
      p?.inspection ?? null,
      p?.bootTime ?? null,
      p?.cycle ?? null,
      keep ? 1 : 0,
      retain ? 1 : 0,
    );
    this.#bytes += payload.length;
    this.#count++;
    return Number(lastInsertRowid);
  }

  #notices(st: Statements): NoticeStore {
    return {
      insert: (topic, payload) => this.#insert(st, topic, payload, undefined, true),
      rewrite: (seq, payload, previous) => {
        st.rewrite.run(payload, payload.length, seq);
        this.#bytes += payload.length - previous;
      },
    };
  }

  #makeRoom(size: number, st: Statements, notices: NoticeStore): void {
    while (this.#count > 0 && this.#bytes + size > this.#options.maxBytes) {
      const row = st.oldest.get() as (DroppedRow & { bytes: number }) | undefined;
      if (!row) break;
      this.#bytes -= row.bytes;
      this.#count--;
      this.dropped++;
      if (row.camera !== null) {
        this.droppedReports++;
        this.#drops?.note(row as Position, this.#handedOut, notices);
      }
      if (this.dropped === 1 || this.dropped % 1_000 === 0) {
        this.#options.logger.warn(
          { dropped: this.dropped },
          "journal full: dropped its oldest messages (policy dropOldest)",
        );
      }
    }
  }
}
