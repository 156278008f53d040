/**
 * The seqs an output is done with (delivered, dropped, or never meant for it), as sorted disjoint
 * closed ranges. Acknowledgements mostly arrive in order, so the list stays a few ranges long.
 */
export class DoneRanges {
  /** [from, to] pairs, ascending, never touching. */
  #ranges: [number, number][] = [];

  constructor(ranges: readonly (readonly [number, number])[] = []) {
    for (const [from, to] of ranges) this.addRange(from, to);
  }

  get ranges(): readonly (readonly [number, number])[] {
    return this.#ranges;
  }

  has(seq: number): boolean {
    const i = this.#indexAtOrBefore(seq);
    return i >= 0 && (this.#ranges[i] as [number, number])[1] >= seq;
  }

  /** Returns false when seq was done already. */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    this.addRange(seq, seq);
    return true;
  }

  addRange(from: number, to: number): void {
    if (to < from) return;
    // In-order acknowledgements extend the last range: no new list per acknowledgement.
    const last = this.#ranges.at(-1);
    if (last && from <= last[1] + 1 && from >= last[0]) {
      if (to > last[1]) last[1] = to;
      return;
    }
    if (!last || from > last[1] + 1) {
      this.#ranges.push([from, to]);
      return;
    }
    const merged: [number, number][] = [];
    let low = from;
    let high = to;
    let placed = false;
    for (const range of this.#ranges) {
      if (range[1] + 1 < low) merged.push(range);
      else if (range[0] > high + 1) {
        if (!placed) merged.push([low, high]);
        placed = true;
        merged.push(range);
      } else {
        low = Math.min(low, range[0]);
        high = Math.max(high, range[1]);
      }
    }
    if (!placed) merged.push([low, high]);
    this.#ranges = merged;
  }

  /** The first seq above `after` that is not done. */
  nextNotDone(after: number): number {
    let seq = after + 1;
    const i = this.#indexAtOrBefore(seq);
    if (i >= 0) {
      const range = this.#ranges[i] as [number, number];
      if (range[1] >= seq) seq = range[1] + 1;
    }
    return seq;
  }

  /** Index of the last range starting at or before seq, or -1. */
  #indexAtOrBefore(seq: number): number {
    let low = 0;
    let high = this.#ranges.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if ((this.#ranges[mid] as [number, number])[0] <= seq) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    return found;
  }
}

/** The ranges every one of the sets covers. */
export function intersect(sets: readonly DoneRanges[]): [number, number][] {
  if (sets.length === 0) return [];
  let result = (sets[0] as DoneRanges).ranges.map(([a, b]) => [a, b] as [number, number]);
  for (const set of sets.slice(1)) {
    const next: [number, number][] = [];
    for (const [a, b] of result)
      for (const [c, d] of set.ranges) {
        const low = Math.max(a, c);
        const high = Math.min(b, d);
        if (low <= high) next.push([low, high]);
      }
    result = next;
  }
  return result;
}

/** Parts of `ranges` that `before` did not cover (both sorted and disjoint). */
export function subtract(
  ranges: readonly [number, number][],
  before: readonly [number, number][],
): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    let low = a;
    for (const [c, d] of before) {
      if (d < low || c > b) continue;
      if (c > low) out.push([low, c - 1]);
      low = Math.max(low, d + 1);
      if (low > b) break;
    }
    if (low <= b) out.push([low, b]);
  }
  return out;
}
