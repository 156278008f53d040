/** How long acknowledgements wait for an append's commit before they commit alone. */
export const RELEASE_DELAY_MS = 100;

/**
 * When the journal commits. Appends: at once when the last commit is older than groupCommitMs,
 * else when it is that old, so that under load one commit (and one fsync) carries many records.
 * Acknowledgements need no commit of their own: what they release is deleted, and the outputs'
 * done ranges written, at most every RELEASE_DELAY_MS, in the next commit after it (forgetting one
 * in a crash only sends its record again).
 */
export class CommitSchedule {
  readonly #flush: () => void;
  readonly #groupCommitMs: number;
  #scheduled = false;
  #lastCommit = Number.NEGATIVE_INFINITY;
  #lastCommitTook = 0;
  #lastBatch = 0;
  #releaseTimer: NodeJS.Timeout | undefined;
  #lastRelease = Number.NEGATIVE_INFINITY;

  constructor(flush: () => void, groupCommitMs: number) {
    this.#flush = flush;
    this.#groupCommitMs = groupCommitMs;
  }

  /** A commit for appends, as soon as group commit allows. */
  soon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Under load (the last commit carried several records), waiting as long as it took keeps
    // commits under half the time; a journal that gets one record at a time commits at once.
    // groupCommitMs bounds the wait.
    const hold = this.#lastBatch > 1 ? Math.min(this.#groupCommitMs, this.#lastCommitTook) : 0;
    const wait = this.#lastCommit + hold - performance.now();
    if (wait <= 0) setImmediate(() => this.#flush());
    // The commit runs after the next poll for I/O, never in the timers phase itself: under load
    // (commits that outlast the hold, appends re-arming the timer as each commit resolves them)
    // commits ran one after another within one timers phase, and no socket was read for up to a
    // second while appends went on (bench/README.md).
    else setTimeout(() => setImmediate(() => this.#flush()), Math.ceil(wait));
  }

  /** A commit for acknowledgements, within RELEASE_DELAY_MS. */
  releaseLater(): void {
    if (this.#releaseTimer) return;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      setImmediate(() => this.#flush());
    }, RELEASE_DELAY_MS);
    this.#releaseTimer.unref();
  }

  /** Called as a commit starts: a commit asked for from now on is another one. */
  starting(): void {
    this.#scheduled = false;
  }

  /** Whether a commit that started at `started` is due to release, by time alone. */
  releaseDue(started: number): boolean {
    return started - this.#lastRelease >= RELEASE_DELAY_MS;
  }

  committed(started: number, batch: number, released: boolean): void {
    this.#lastCommit = performance.now();
    this.#lastCommitTook = this.#lastCommit - started;
    this.#lastBatch = batch;
    if (released) {
      this.#lastRelease = started;
      this.stop();
    }
  }

  stop(): void {
    clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
  }
}
