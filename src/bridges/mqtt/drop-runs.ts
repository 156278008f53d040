import type { Position } from "./journal.js";

/** Consecutive reports of one inspection that the dropOldest policy dropped. */
export interface DroppedRun {
  readonly camera: string;
  readonly inspection: number;
  readonly bootTime: number;
  readonly fromCycle: number;
  readonly toCycle: number;
}

export type DropNotice = (run: DroppedRun) => { topic: string; payload: string };

/** Where notices live: the journal's outbox. */
export interface NoticeStore {
  /** Journals a notice that the dropOldest policy never drops; returns its seq. */
  insert(topic: string, payload: Buffer): number;
  /** Replaces the payload of a notice that is not yet on the wire. */
  rewrite(seq: number, payload: Buffer, previousBytes: number): void;
}

type OpenRun = DroppedRun & { readonly seq: number; readonly bytes: number };

/** Runs kept past this are pruned to those whose notice may still grow. */
const MAX_RUNS = 1_024;

/**
 * Turns the reports the dropOldest policy drops into notices of consecutive runs: a run's notice
 * grows while it is unsent, so a long outage makes one notice per camera, inspection and boot, not
 * one per report, and a notice that may be on the wire is never changed under it. A run's notice
 * is journaled when the run starts and rewritten once per flush, not once per dropped report.
 */
export class DropRuns {
  readonly #runs = new Map<string, OpenRun>();
  /** Runs that grew since the last flush: their notices are rewritten then. */
  readonly #grown = new Set<string>();
  readonly #describe: DropNotice;

  constructor(describe: DropNotice) {
    this.#describe = describe;
  }

  /** Called inside the journal's transaction; `handedOut` is the highest seq the publisher has. */
  note(dropped: Position, handedOut: number, store: NoticeStore): void {
    const key = `${dropped.camera}\0${dropped.inspection}\0${dropped.bootTime}`;
    const open = this.#runs.get(key);
    if (open !== undefined && open.toCycle + 1 === dropped.cycle && open.seq > handedOut) {
      this.#runs.set(key, { ...open, toCycle: dropped.cycle });
      this.#grown.add(key);
      return;
    }
    if (this.#runs.size >= MAX_RUNS)
      for (const [k, r] of this.#runs) if (r.seq <= handedOut && !this.#grown.has(k)) this.#runs.delete(k);
    const { camera, inspection, bootTime, cycle } = dropped;
    const run: DroppedRun = { camera, inspection, bootTime, fromCycle: cycle, toCycle: cycle };
    const notice = this.#describe(run);
    const payload = Buffer.from(notice.payload);
    this.#runs.set(key, { ...run, seq: store.insert(notice.topic, payload), bytes: payload.length });
  }

  /** Rewrites the notices of runs that grew; in the same transaction as the drops, before any hand-out. */
  flush(store: NoticeStore): void {
    for (const key of this.#grown) {
      const run = this.#runs.get(key);
      if (!run) continue;
      const { seq, bytes, ...facts } = run;
      const payload = Buffer.from(this.#describe(facts).payload);
      store.rewrite(seq, payload, bytes);
      this.#runs.set(key, { ...run, bytes: payload.length });
    }
    this.#grown.clear();
  }

  /** After a rolled-back transaction: what the runs said of the outbox may no longer hold. */
  reset(): void {
    this.#runs.clear();
    this.#grown.clear();
  }
}
