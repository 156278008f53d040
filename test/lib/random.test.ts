import { describe, expect, it } from "vitest";
import { backoffDelay, seededRandom } from "../../src/lib/random.js";

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the cap, with jitter in the upper half", () => {
    const low = () => 0;
    const high = () => 0.999_999;
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, 100, 1_000, low))).toEqual([
      50, 100, 200, 400, 500, 500, 500,
    ]);
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 100, 1_000, high))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
  });

  it("spreads a fleet's retries: different random draws give different delays", () => {
    const random = seededRandom(42);
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(6, 100, 5_000, random)));
    expect(delays.size).toBeGreaterThan(15);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(2_500);
  });
});

describe("seededRandom", () => {
  it("is deterministic per seed and stays in [0, 1)", () => {
    const a = Array.from({ length: 5 }, seededRandom(7));
    expect(Array.from({ length: 5 }, seededRandom(7))).toEqual(a);
    expect(Array.from({ length: 5 }, seededRandom(8))).not.toEqual(a);
    for (const x of Array.from({ length: 1000 }, seededRandom(1))) expect(x >= 0 && x < 1).toBe(true);
  });
});
