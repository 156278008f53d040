import type { GapRecord, Position } from "./records.js";

/** Why the journal's gap records say cycles will never arrive. */
export const JOURNAL_DROPPED = "dropped from the daemon's full journal (policy dropOldest)";

/** Where notices live: the journal's records. */
export interface NoticeStore {
  /** Journals a gap record that the dropOldest policy never drops, for these outputs alone; returns its seq. */
  insert(record: GapRecord, outputs: readonly string[]): number;
  /** Replaces a notice that no output has been handed yet. */
  rewrite(seq: number, record: GapRecord): void;
  /** The highest seq any of these outputs has been handed: a notice at or below it may be on the wire. */
  handedOut(outputs: readonly string[]): number;
}

interface OpenRun {
  readonly record: GapRecord;
  readonly outputs: readonly string[];
  readonly seq: number;
}

/** Runs kept past this are pruned to those whose notice may still grow. */
const MAX_RUNS = 1_024;

/**
 * Turns the reports the dropOldest policy drops into gap records of consecutive runs, for the
 * outputs that had not been handed them: a run's record grows while no such output has it, so a
 * long outage makes one gap per camera, inspection, boot and set of outputs, not one per report,
 * and a record that may be on the wire is never changed under it. A run's record is journaled when
 * the run starts and rewritten once per flush, not once per dropped report.
 */
export class DropRuns {
  readonly #runs = new Map<string, OpenRun>();
  /** Runs that grew since the last flush: their records are rewritten then. */
  readonly #grown = new Set<string>();

  /** Called inside the journal's transaction, with the outputs that had not been handed the report. */
  note(dropped: Position, outputs: readonly string[], store: NoticeStore): void {
    const key = `${dropped.camera}\0${dropped.inspection}\0${dropped.bootTime}\0${outputs.join("\0")}`;
    const open = this.#runs.get(key);
    if (
      open !== undefined &&
      open.record.toCycle !== undefined &&
      open.record.toCycle + 1 === dropped.cycle &&
      open.seq > store.handedOut(outputs)
    ) {
      this.#runs.set(key, { ...open, record: { ...open.record, toCycle: dropped.cycle } });
      this.#grown.add(key);
      return;
    }
    if (this.#runs.size >= MAX_RUNS)
      for (const [k, r] of this.#runs)
        if (r.seq <= store.handedOut(r.outputs) && !this.#grown.has(k)) this.#runs.delete(k);
    const record: GapRecord = {
      type: "gap",
      cameraId: dropped.camera,
      inspection: dropped.inspection,
      bootTime: dropped.bootTime,
      fromCycle: dropped.cycle,
      toCycle: dropped.cycle,
      reason: JOURNAL_DROPPED,
    };
    this.#runs.set(key, { record, outputs, seq: store.insert(record, outputs) });
  }

  /** Rewrites the records of runs that grew; in the same transaction as the drops, before any hand-out. */
  flush(store: NoticeStore): void {
    for (const key of this.#grown) {
      const run = this.#runs.get(key);
      if (run) store.rewrite(run.seq, run.record);
    }
    this.#grown.clear();
  }

  /** After a rolled-back transaction: what the runs said of the journal may no longer hold. */
  reset(): void {
    this.#runs.clear();
    this.#grown.clear();
  }
}
