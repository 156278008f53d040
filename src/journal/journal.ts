import type Database from "better-sqlite3";
import type { Logger } from "pino";
import { CommitSchedule } from "./commit-schedule.js";
import { intersect, subtract } from "./done-ranges.js";
import { DropRuns, type NoticeStore } from "./drop-runs.js";
import { type JournalEntry, type JournalOutput, loadOutputs, type OutputState } from "./output.js";
import { RecordCache } from "./record-cache.js";
import { decodeRecord, encodeRecord, type JournalRecord, type Position, positionOf } from "./records.js";
import { openStore, readTotals, type Statements } from "./store.js";

export interface JournalOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly policy: "block" | "dropOldest";
  /** fsync every group commit (power-loss safe) instead of leaving it to the OS (crash safe). */
  readonly fsync: boolean;
  readonly logger: Logger;
  /** The outputs that carry records (at least one). */
  readonly outputs: readonly string[];
  /** The output that carries messages migrated from a journal of rendered messages (MQTT's). */
  readonly legacyOutput?: string;
  /** Commits at most once per this many ms (0: every turn of the event loop). */
  readonly groupCommitMs?: number;
  /** Encoded bytes of the newest records also kept in memory, so that outputs keeping up never read the disk. */
  readonly cacheBytes?: number;
}

export interface AppendOptions {
  /** Only these outputs carry the record; every output by default. */
  readonly only?: readonly string[];
}

interface PendingAppend {
  readonly record: JournalRecord;
  readonly encoded: Buffer;
  readonly position: Position | undefined;
  readonly gap: boolean;
  readonly only: readonly string[] | undefined;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** What a transaction did to the outputs, applied once it committed. */
interface Effects {
  readonly done: [OutputState, number][];
  readonly owed: OutputState[];
  readonly dropped: OutputState[];
  dropped1: number;
  droppedReports: number;
}

/**
 * The daemon's durable journal of domain records (reports, gap events, formatted-output lines, IO
 * transitions): appended before a camera is told it may forget a report, kept until every output
 * is done with it. Each output reads and acknowledges on its own (see output.ts) and renders what
 * it reads. SQLite in WAL mode, with group commit: what one turn of the event loop appended and
 * acknowledged shares one transaction (and one fsync).
 */
export class Journal {
  readonly #options: JournalOptions;
  #db: Database.Database | undefined;
  #st: Statements | undefined;
  readonly #outputs = new Map<string, OutputState>();
  readonly #cache: RecordCache<JournalRecord>;
  readonly #commits: CommitSchedule;
  #pending: PendingAppend[] = [];
  #pendingBytes = 0;
  #blocked: PendingAppend[] = [];
  #bytes = 0;
  #count = 0;
  /** The highest seq given: seqs are never reused, even after a rolled-back transaction. */
  #last = 0;
  /** Ranges every output was done with at the last commit: their records are gone. */
  #released: [number, number][] = [];
  readonly #drops = new DropRuns();
  /** Records up to this seq were written by a previous run. */
  replayEnd = 0;
  /** Records the dropOldest policy dropped: reports (told in gap records), lines and IO transitions. */
  dropped = 0;
  /** Of those, reports: each lies inside a gap record. */
  droppedReports = 0;
  appended = 0;

  constructor(options: JournalOptions) {
    if (options.outputs.length === 0) throw new Error("a journal needs at least one output");
    this.#options = options;
    this.#cache = new RecordCache(options.cacheBytes);
    this.#commits = new CommitSchedule(() => this.#flush(), options.groupCommitMs ?? 0);
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

  get maxBytes(): number {
    return this.#options.maxBytes;
  }

  get policy(): JournalOptions["policy"] {
    return this.#options.policy;
  }

  /** The newest seq given to a record. */
  get lastSeq(): number {
    return this.#last;
  }

  get outputs(): readonly string[] {
    return [...this.#outputs.keys()];
  }

  open(): void {
    const { db, statements: st, migrated } = openStore(this.#options.path, this.#options.fsync);
    this.#db = db;
    this.#st = st;
    const totals = readTotals(db);
    this.#count = totals.count;
    this.#bytes = totals.bytes;
    this.#last = totals.last;
    this.#cache.reset(totals.last);
    this.replayEnd = totals.last;
    db.transaction(() => {
      for (const state of loadOutputs(st, this.#options, totals.last, migrated, this.#options.logger))
        this.#outputs.set(state.name, state);
      this.#release();
      this.#writeDone();
    })();
    for (const state of this.#outputs.values()) state.owed = this.#pendingOf(state);
    if (this.#count > 0)
      this.#options.logger.info(
        { records: this.#count, bytes: this.#bytes },
        "journal holds records from a previous run; replaying",
      );
  }

  close(): void {
    this.#closing = true;
    this.#commits.stop();
    this.#flush();
    this.#closing = false;
    for (const waiter of this.#blocked) waiter.reject(new Error("journal closed"));
    this.#blocked = [];
    this.#db?.close();
    this.#db = undefined;
    this.#st = undefined;
  }

  positions(): Position[] {
    return (this.#st?.positions.all() ?? []) as Position[];
  }

  /** Where one camera's inspection stood when its last report was journaled (read now, not at open). */
  position(camera: string, inspection: number): Position | undefined {
    return this.#st?.position1.get(camera, inspection) as Position | undefined;
  }

  /** Resolves once the record is on disk. Under the block policy, waits while the journal is full. */
  append(record: JournalRecord, options: AppendOptions = {}): Promise<void> {
    if (!this.#db) return Promise.reject(new Error("journal is not open"));
    const encoded = encodeRecord(record);
    return new Promise((resolve, reject) => {
      const position = positionOf(record);
      const entry = {
        record,
        encoded,
        position,
        gap: record.type === "gap",
        only: options.only,
        resolve,
        reject,
      };
      if (this.#options.policy === "block" && (this.#blocked.length > 0 || !this.#fits(encoded.length)))
        this.#blocked.push(entry);
      else this.#enqueue(entry);
      this.#commits.soon();
    });
  }

  /** The reader and acknowledger of one configured output. */
  output(name: string): JournalOutput {
    const state = this.#outputs.get(name);
    if (!state) throw new Error(`the journal has no output ${name}`);
    return {
      name,
      replayEnd: this.replayEnd,
      range: (from, to, limit) => this.#range(state, from, to, limit),
      ack: (seq) => {
        if (!state.markDone(seq)) return;
        state.delivered++;
        this.#scheduleRelease();
      },
      onCommitted: (listener) => {
        state.listeners.add(listener);
        return () => state.listeners.delete(listener);
      },
      figures: () => state.figures(this.#pendingOf(state)),
    };
  }

  #fits(size: number): boolean {
    return this.#bytes + this.#pendingBytes + size <= this.#options.maxBytes;
  }

  #enqueue(entry: PendingAppend): void {
    this.#pending.push(entry);
    this.#pendingBytes += entry.encoded.length;
  }

  /** Records the journal holds that this output is not done with. */
  #pendingOf(state: OutputState): number {
    const st = this.#st;
    if (!st) return 0;
    let done = 0;
    for (const [from, to] of state.done.ranges) done += (st.sizeOf.get(from, to) as { count: number }).count;
    return this.#count - done;
  }

  #range(state: OutputState, from: number, to: number, limit: number): JournalEntry[] {
    const st = this.#st;
    const out: JournalEntry[] = [];
    if (!st) return out;
    const end = Math.min(to, this.#last);
    let seq = state.done.nextNotDone(from);
    while (out.length < limit && seq <= end) {
      if (this.#cache.covers(seq)) {
        const record = this.#cache.get(seq);
        if (record) out.push({ seq, record, replayed: seq <= this.replayEnd });
        seq = state.done.nextNotDone(seq);
        continue;
      }
      const low = this.#cache.low;
      const diskEnd = seq < low ? Math.min(end, low - 1) : end;
      const rows = st.range.all(seq - 1, diskEnd, limit - out.length) as { seq: number; record: Buffer }[];
      for (const row of rows) {
        if (state.done.has(row.seq)) continue;
        const record = this.#decode(state, row.seq, row.record);
        if (record) out.push({ seq: row.seq, record, replayed: row.seq <= this.replayEnd });
      }
      const lastRow = rows.at(-1);
      seq = lastRow && out.length < limit ? state.done.nextNotDone(lastRow.seq) : diskEnd + 1;
      if (lastRow && out.length >= limit) break;
    }
    const handed = out.at(-1);
    if (handed && handed.seq > state.handedOut) {
      state.handedOut = handed.seq;
      this.#cache.letGo(this.#handedToAll());
    }
    return out;
  }

  /** A row that does not decode is dropped for the output that read it, and said so. */
  #decode(state: OutputState, seq: number, bytes: Buffer): JournalRecord | undefined {
    try {
      return decodeRecord(bytes);
    } catch (error) {
      state.markDone(seq);
      state.dropped++;
      this.#commits.soon();
      this.#options.logger.error(
        { err: error, seq, output: state.name },
        "journal record unreadable; dropped",
      );
      return undefined;
    }
  }

  /** Acknowledgements commit with the next append, or within RELEASE_DELAY_MS; appends waiting for room release at once. */
  #scheduleRelease(): void {
    if (this.#blocked.length > 0) this.#commits.soon();
    else this.#commits.releaseLater();
  }

  #closing = false;

  /** Whether this commit deletes what the outputs are done with, and writes their done ranges. */
  #releasesNow(started: number): boolean {
    if (this.#closing || this.#blocked.length > 0) return true;
    if (this.#options.policy === "dropOldest" && !this.#fits(0)) return true;
    return this.#commits.releaseDue(started);
  }

  /** One transaction (one fsync) for what a turn of the event loop acknowledged and appended. */
  #flush(): void {
    this.#commits.starting();
    const started = performance.now();
    const releasing = this.#releasesNow(started);
    const db = this.#db;
    const st = this.#st;
    if (!db || !st) return;
    let batch: PendingAppend[] = [];
    const effects: Effects = { done: [], owed: [], dropped: [], dropped1: 0, droppedReports: 0 };
    const lastBefore = this.#last;
    let released: [number, number][] = this.#released;
    try {
      db.transaction(() => {
        if (releasing) released = this.#release();
        while (this.#blocked.length > 0 && this.#fits((this.#blocked[0] as PendingAppend).encoded.length))
          this.#enqueue(this.#blocked.shift() as PendingAppend);
        batch = this.#pending;
        this.#pending = [];
        this.#pendingBytes = 0;
        // Only the last position of each inspection in the batch needs writing: one upsert, not one per report.
        const latest = new Map<string, Position>();
        const notices = this.#notices(st, effects);
        for (const entry of batch) {
          if (this.#options.policy === "dropOldest")
            this.#makeRoom(entry.encoded.length, st, notices, effects);
          const p = entry.position;
          this.#insert(st, entry.record, entry.encoded, p, entry.gap, entry.only, effects);
          if (p) latest.set(`${p.inspection}:${p.camera}`, p);
        }
        for (const p of latest.values()) st.position.run(p.camera, p.inspection, p.bootTime, p.cycle);
        this.#drops.flush(notices);
        if (releasing) this.#writeDone();
      })();
    } catch (error) {
      this.#rolledBack(db, lastBefore);
      for (const entry of batch) entry.reject(error as Error);
      return;
    }
    this.#commits.committed(started, batch.length, releasing);
    this.#released = released;
    for (const [state, seq] of effects.done) state.markDone(seq);
    for (const state of effects.owed) state.owed++;
    for (const state of effects.dropped) state.dropped++;
    this.dropped += effects.dropped1;
    this.droppedReports += effects.droppedReports;
    if ([...this.#outputs.values()].some((state) => state.dirty)) this.#scheduleRelease();
    if (batch.length === 0) return;
    this.appended += batch.length;
    for (const entry of batch) entry.resolve();
    for (const state of this.#outputs.values()) for (const listener of state.listeners) listener();
  }

  /** After a failed transaction: counters from disk; seqs it gave never exist, so every output is done with them. */
  #rolledBack(db: Database.Database, lastBefore: number): void {
    this.#drops.reset();
    const totals = readTotals(db);
    this.#count = totals.count;
    this.#bytes = totals.bytes;
    // What the failed transaction dropped is back on disk, but no longer in the cache.
    this.#cache.reset(this.#last);
    for (const state of this.#outputs.values())
      if (this.#last > lastBefore) {
        state.done.addRange(lastBefore + 1, this.#last);
        state.dirty = true;
      }
  }

  /** Deletes the records every output is now done with; returns what is released in all. */
  #release(): [number, number][] {
    const st = this.#st as Statements;
    const all = intersect([...this.#outputs.values()].map((state) => state.done));
    for (const [from, to] of subtract(all, this.#released)) {
      const size = st.sizeOf.get(from, to) as { count: number; bytes: number };
      if (size.count === 0) continue;
      st.release.run(from, to);
      this.#count -= size.count;
      this.#bytes -= size.bytes;
      this.#cache.forgetRange(from, to);
    }
    return all;
  }

  #writeDone(): void {
    const st = this.#st as Statements;
    for (const state of this.#outputs.values()) {
      if (!state.dirty) continue;
      st.clearDone.run(state.name);
      for (const [from, to] of state.done.ranges) st.addDone.run(state.name, from, to);
      state.dirty = false;
    }
  }

  #insert(
    st: Statements,
    record: JournalRecord,
    encoded: Buffer,
    p: Position | undefined,
    keep: boolean,
    only: readonly string[] | undefined,
    effects: Effects,
  ): number {
    const seq = ++this.#last;
    st.insert.run(
      seq,
      encoded,
      encoded.length,
      keep ? 1 : 0,
      p?.camera ?? null,
      p?.inspection ?? null,
      p?.bootTime ?? null,
      p?.cycle ?? null,
    );
    this.#bytes += encoded.length;
    this.#count++;
    this.#cache.remember(seq, record, encoded.length, this.#handedToAll());
    for (const state of this.#outputs.values()) {
      if (only && !only.includes(state.name)) effects.done.push([state, seq]);
      else effects.owed.push(state);
    }
    return seq;
  }

  /** The highest seq every output has been handed. */
  #handedToAll(): number {
    let handed = Number.POSITIVE_INFINITY;
    for (const state of this.#outputs.values()) handed = Math.min(handed, state.handedOut);
    return handed;
  }

  #notices(st: Statements, effects: Effects): NoticeStore {
    return {
      insert: (record, outputs) =>
        this.#insert(st, record, encodeRecord(record), undefined, true, outputs, effects),
      rewrite: (seq, record) => {
        const encoded = encodeRecord(record);
        const previous = this.#cache.sizeOf(seq) ?? (st.sizeOf.get(seq, seq) as { bytes: number }).bytes;
        st.rewrite.run(encoded, encoded.length, seq);
        this.#bytes += encoded.length - previous;
        this.#cache.remember(seq, record, encoded.length, this.#handedToAll());
      },
      handedOut: (outputs) => Math.max(0, ...outputs.map((name) => this.#outputs.get(name)?.handedOut ?? 0)),
    };
  }

  #makeRoom(size: number, st: Statements, notices: NoticeStore, effects: Effects): void {
    while (this.#count > 0 && this.#bytes + size > this.#options.maxBytes) {
      const row = st.oldest.get() as
        | {
            seq: number;
            bytes: number;
            camera: string | null;
            inspection: number;
            bootTime: number;
            cycle: number;
          }
        | undefined;
      if (!row) break;
      this.#bytes -= row.bytes;
      this.#count--;
      this.#cache.forget(row.seq);
      // Every output not done with it had it dropped, even one that has it on the wire: its gap tells.
      const owing = [...this.#outputs.values()].filter((state) => !state.done.has(row.seq));
      if (owing.length > 0) effects.dropped1++;
      for (const state of this.#outputs.values()) effects.done.push([state, row.seq]);
      effects.dropped.push(...owing);
      if (row.camera !== null && owing.length > 0) {
        effects.droppedReports++;
        const { camera, inspection, bootTime, cycle } = row;
        this.#drops.note(
          { camera, inspection, bootTime, cycle },
          owing.map((state) => state.name),
          notices,
        );
      }
      const total = this.dropped + effects.dropped1;
      if (total === 1 || total % 1_000 === 0)
        this.#options.logger.warn(
          { dropped: total },
          "journal full: dropped its oldest records (policy dropOldest)",
        );
    }
  }
}
