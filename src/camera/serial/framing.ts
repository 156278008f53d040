import type { Clock, TimerHandle } from "../../lib/clock.js";

export type Framing =
  | { readonly mode: "terminator"; readonly terminator: string }
  | { readonly mode: "fixedLength"; readonly length: number }
  | { readonly mode: "quiet"; readonly quietMs: number };

export interface FramerOptions {
  readonly framing: Framing;
  readonly maxLineLength: number;
  readonly clock: Clock;
  /** A complete line's bytes, without its terminator. */
  readonly onLine: (line: Buffer) => void;
  /** A line that grew past the maximum: it is skipped up to the next terminator. */
  readonly onOverlong: () => void;
}

/**
 * Splits a byte stream into lines by a terminator, a fixed length, or a quiet time after the last
 * byte. Never holds more than the maximum line length: an overlong line is counted and skipped.
 */
export class LineFramer {
  readonly #options: FramerOptions;
  readonly #terminator: Buffer | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Inside an overlong line: drop bytes until the next terminator. */
  #skipping = false;
  #quietTimer: TimerHandle | undefined;

  constructor(options: FramerOptions) {
    this.#options = options;
    if (options.framing.mode === "terminator") {
      if (options.framing.terminator.length === 0) throw new RangeError("a terminator cannot be empty");
      this.#terminator = Buffer.from(options.framing.terminator, "latin1");
    }
  }

  push(chunk: Buffer): void {
    const { framing } = this.#options;
    if (framing.mode === "fixedLength") this.#fixed(chunk, framing.length);
    else if (framing.mode === "quiet") this.#quiet(chunk, framing.quietMs);
    else this.#byTerminator(chunk);
  }

  #byTerminator(chunk: Buffer): void {
    const terminator = this.#terminator as Buffer;
    // Search from where a terminator split across chunks could start.
    let data = this.#size > 0 ? Buffer.concat([...this.#chunks, chunk]) : chunk;
    this.#chunks = [];
    this.#size = 0;
    for (;;) {
      const at = data.indexOf(terminator);
      if (at < 0) break;
      const line = data.subarray(0, at);
      if (this.#skipping) this.#skipping = false;
      else if (line.length > this.#options.maxLineLength) this.#options.onOverlong();
      else this.#options.onLine(line);
      data = data.subarray(at + terminator.length);
    }
    if (this.#skipping) {
      // Keep only what could be the start of a terminator.
      data = data.subarray(Math.max(0, data.length - (terminator.length - 1)));
    } else if (data.length > this.#options.maxLineLength + terminator.length - 1) {
      this.#options.onOverlong();
      this.#skipping = true;
      data = data.subarray(data.length - (terminator.length - 1));
    }
    if (data.length > 0) {
      this.#chunks = [Buffer.from(data)];
      this.#size = data.length;
    }
  }

  #fixed(chunk: Buffer, length: number): void {
    let data = this.#size > 0 ? Buffer.concat([...this.#chunks, chunk]) : chunk;
    while (data.length >= length) {
      this.#options.onLine(data.subarray(0, length));
      data = data.subarray(length);
    }
    this.#chunks = data.length > 0 ? [Buffer.from(data)] : [];
    this.#size = data.length;
  }

  #quiet(chunk: Buffer, quietMs: number): void {
    const { clock } = this.#options;
    clock.clearTimeout(this.#quietTimer);
    if (!this.#skipping) {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      if (this.#size > this.#options.maxLineLength) {
        this.#options.onOverlong();
        this.#skipping = true;
        this.#chunks = [];
        this.#size = 0;
      }
    }
    this.#quietTimer = clock.setTimeout(() => this.flush(), quietMs);
  }

  /** Ends the line in progress (quiet time elapsed). */
  flush(): void {
    this.#options.clock.clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
    if (this.#options.framing.mode === "quiet" && !this.#skipping && this.#size > 0)
      this.#options.onLine(Buffer.concat(this.#chunks));
    if (this.#options.framing.mode === "quiet") {
      this.#skipping = false;
      this.#chunks = [];
      this.#size = 0;
    }
  }

  /** Drops a partial line and the quiet timer: the connection is gone. */
  reset(): void {
    this.#options.clock.clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
    this.#chunks = [];
    this.#size = 0;
    this.#skipping = false;
  }
}
