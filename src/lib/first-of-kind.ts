/**
 * Which kinds of a repeated refusal or fault were seen already: the first of each kind is worth a
 * log line, the rest only a count, so that a flood of bad input does not flood the log. Kinds come
 * from bounded sets (reasons, codes, known names); past `max` kinds none counts as new, so even a
 * caller that got that wrong holds bounded memory.
 */
export class FirstOfKind {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max = 256) {
    this.#max = max;
  }

  /** True the first time `kind` is seen; false after, and for every kind once `max` are known. */
  first(kind: string): boolean {
    if (this.#seen.has(kind) || this.#seen.size >= this.#max) return false;
    this.#seen.add(kind);
    return true;
  }
}
