import type { Clock } from "./clock.js";

/**
 * At most `perSecond` a second, with a burst of up to one second's worth: what an output may send
 * of a backlog (a previous run's journal, what a host missed) while live data keeps flowing.
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly #clock: Clock;
  #tokens = 0;
  #refilled: number;

  constructor(perSecond: number, clock: Clock) {
    this.perSecond = perSecond;
    this.#clock = clock;
    this.#refilled = clock.now();
  }

  /** Starts empty again, as after a new connection. */
  reset(): void {
    this.#tokens = 0;
    this.#refilled = this.#clock.now();
  }

  /** How many of `wanted` may go now; they are taken. */
  take(wanted: number): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#refilled) / 1_000) * this.perSecond);
    this.#refilled = now;
    const allowed = Math.max(0, Math.min(wanted, Math.floor(this.#tokens)));
    this.#tokens -= allowed;
    return allowed;
  }

  /** The wait before one more token: when a paced sender should look again. */
  get intervalMs(): number {
    return Math.ceil(1_000 / this.perSecond);
  }
}
