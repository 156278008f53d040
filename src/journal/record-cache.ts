/** Encoded bytes of cached records: a smaller cache made the lossless benchmark read the disk more (see bench/README.md). */
export const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * The newest records, by seq, so that outputs keeping up neither read the disk nor decode: every
 * record the journal holds from `low` to `high` is here, but for those every output is done with.
 * Each is counted by its encoded size. Records handed to every output go first when room is
 * needed; when the records no output has had yet fill it, newer ones stay on disk until it empties.
 */
export class RecordCache<T> {
  readonly #max: number;
  readonly #records = new Map<number, { readonly record: T; readonly size: number }>();
  #bytes = 0;
  #low = 1;
  #high = 0;

  constructor(maxBytes = DEFAULT_CACHE_BYTES) {
    this.#max = maxBytes;
  }

  /** The lowest seq the window covers. */
  get low(): number {
    return this.#low;
  }

  /** Empty, with the window starting after `last`. */
  reset(last: number): void {
    this.#records.clear();
    this.#bytes = 0;
    this.#low = last + 1;
    this.#high = last;
  }

  covers(seq: number): boolean {
    return seq >= this.#low && seq <= this.#high;
  }

  get(seq: number): T | undefined {
    return this.#records.get(seq)?.record;
  }

  sizeOf(seq: number): number | undefined {
    return this.#records.get(seq)?.size;
  }

  /** Keeps a new record (or a rewritten one in place); `handed` is the lowest seq every output has had. */
  remember(seq: number, record: T, size: number, handed: number): void {
    if (this.covers(seq)) {
      this.forget(seq);
      this.#put(seq, record, size);
      return;
    }
    const fits = this.#roomFor(size, handed);
    if (seq !== this.#high + 1) {
      // The window ended at `high` when it was full; it starts again only once empty.
      if (this.#records.size > 0) return;
      this.#low = seq;
    }
    if (!fits) return;
    this.#put(seq, record, size);
    this.#high = seq;
  }

  /** Records every output has been handed leave at once: one is read again only after a lost connection, from disk. */
  letGo(handed: number): void {
    const upTo = Math.min(handed, this.#high);
    for (; this.#low <= upTo; this.#low++) this.forget(this.#low);
  }

  forget(seq: number): void {
    const entry = this.#records.get(seq);
    if (!entry) return;
    this.#records.delete(seq);
    this.#bytes -= entry.size;
  }

  forgetRange(from: number, to: number): void {
    for (let seq = Math.max(from, this.#low); seq <= Math.min(to, this.#high); seq++) this.forget(seq);
  }

  #put(seq: number, record: T, size: number): void {
    this.#records.set(seq, { record, size });
    this.#bytes += size;
  }

  /** Makes room by letting go of the oldest records every output has been handed. */
  #roomFor(size: number, handed: number): boolean {
    if (this.#bytes + size <= this.#max) return true;
    for (const [oldest] of this.#records) {
      if (this.#bytes + size <= this.#max || oldest > handed) break;
      this.forget(oldest);
      this.#low = oldest + 1;
    }
    if (this.#records.size === 0) this.#low = this.#high + 1;
    return this.#bytes + size <= this.#max;
  }
}
