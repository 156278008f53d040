/** A source of numbers in [0, 1); injectable so that jitter and simulations are reproducible. */
export type Random = () => number;

/** mulberry32: small, fast and good enough for jitter and simulated data; deterministic per seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Capped exponential backoff with full jitter: a fleet of clients never retries in lockstep. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
