import type { Logger } from "pino";
import { DoneRanges } from "./done-ranges.js";
import type { JournalRecord } from "./records.js";
import type { Statements } from "./store.js";

export interface JournalEntry {
  readonly seq: number;
  readonly record: JournalRecord;
  /** Left undelivered by a previous run of the daemon. */
  readonly replayed: boolean;
}

/** One output's account of the journal: each record it had to carry is delivered, pending or dropped. */
export interface OutputFigures {
  /** Records this output acknowledged since the daemon started. */
  readonly delivered: number;
  /** Records the journal holds that this output has yet to deliver. */
  readonly pending: number;
  /** Records the dropOldest policy (or a damaged row) took before this output delivered them. */
  readonly dropped: number;
  /** Records that left the journal otherwise: always 0, or the journal has a bug. */
  readonly lost: number;
}

/** What one output reads and acknowledges; records leave the journal once every output is done with them. */
export interface JournalOutput {
  readonly name: string;
  /** Records up to this seq were written by a previous run. */
  readonly replayEnd: number;
  /** Records this output still needs with from < seq <= to, oldest first. */
  range(from: number, to: number, limit: number): JournalEntry[];
  /** The output delivered it. */
  ack(seq: number): void;
  /** Called after new records are committed; returns the function that stops it. */
  onCommitted(listener: () => void): () => void;
  figures(): OutputFigures;
}

/** The journal's state of one output. */
export class OutputState {
  readonly name: string;
  readonly done: DoneRanges;
  /** Done ranges changed since they were last written. */
  dirty = false;
  /** The highest seq handed to the output: a record at or below it may be on the wire. */
  handedOut = 0;
  delivered = 0;
  dropped = 0;
  /** Pending at open plus every record appended for this output since: what the figures must add up to. */
  owed = 0;
  readonly listeners = new Set<() => void>();

  constructor(name: string, done: readonly (readonly [number, number])[]) {
    this.name = name;
    this.done = new DoneRanges(done);
  }

  markDone(seq: number): boolean {
    if (!this.done.add(seq)) return false;
    this.dirty = true;
    return true;
  }

  /** `pending` is counted on disk by the journal. */
  figures(pending: number): OutputFigures {
    const { delivered, dropped } = this;
    return { delivered, pending, dropped, lost: this.owed - delivered - pending - dropped };
  }
}

/**
 * The configured outputs' states as the database has them, inside the opening transaction: an
 * output no longer configured is forgotten, and a new one starts at the end, except that the
 * legacy output takes what was migrated from a journal of rendered messages.
 */
export function loadOutputs(
  st: Statements,
  options: { readonly outputs: readonly string[]; readonly legacyOutput?: string | undefined },
  last: number,
  migrated: readonly [number, number] | undefined,
  logger: Logger,
): OutputState[] {
  const known = new Set((st.outputs.all() as { name: string }[]).map((row) => row.name));
  for (const name of known) {
    if (options.outputs.includes(name)) continue;
    st.clearDone.run(name);
    st.removeOutput.run(name);
    logger.info({ output: name }, "output no longer configured: the journal keeps nothing for it");
  }
  return options.outputs.map((name) => {
    const ranges = (st.doneOf.all(name) as { fromSeq: number; toSeq: number }[]).map(
      (row) => [row.fromSeq, row.toSeq] as const,
    );
    const state = new OutputState(name, ranges);
    if (!known.has(name)) {
      st.addOutput.run(name);
      const upTo = migrated && name === options.legacyOutput ? migrated[0] - 1 : last;
      if (upTo >= 1) state.done.addRange(1, upTo);
      state.dirty = true;
    }
    return state;
  });
}
