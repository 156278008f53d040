import type { IoEvent, Report, SerialLineEvent } from "./domain.js";

/** Keeps a lossless report; the camera is acknowledged only once every keeper has it. */
export type Keeper = (report: Report) => Promise<void>;
/** Keeps a formatted-output line; while keepers hold many unkept lines, the port is not read. */
export type LineKeeper = (line: SerialLineEvent) => Promise<void>;

/** Keeps an IO transition (or a point's state read on attach), in order. */
export type IoKeeper = (event: IoEvent) => Promise<void>;

/** Keepers of one kind of item: an item is kept once every keeper has it. */
export class KeeperSet<T> {
  readonly #keepers = new Set<(item: T) => Promise<void>>();

  /** Returns the function that removes the keeper again. */
  add(keeper: (item: T) => Promise<void>): () => void {
    this.#keepers.add(keeper);
    return () => this.#keepers.delete(keeper);
  }

  get size(): number {
    return this.#keepers.size;
  }

  keep(item: T): Promise<void> {
    if (this.#keepers.size === 0) return Promise.resolve();
    // The daemon has one keeper of each kind: it is called without a Promise.all per item.
    if (this.#keepers.size === 1) for (const keeper of this.#keepers) return keeper(item);
    return Promise.all([...this.#keepers].map((keeper) => keeper(item))).then(() => undefined);
  }
}
