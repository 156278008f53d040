import { describe, expect, it } from "vitest";
import { DoneRanges, intersect, subtract } from "../../src/journal/done-ranges.js";

describe("an output's done ranges", () => {
  it("merge acknowledgements in any order into the fewest ranges", () => {
    const done = new DoneRanges();
    for (const seq of [1, 2, 3, 7, 5, 4, 9, 8, 6, 20, 11]) done.add(seq);
    expect(done.ranges).toEqual([
      [1, 9],
      [11, 11],
      [20, 20],
    ]);
    expect(done.add(5)).toBe(false);
    expect(done.nextNotDone(0)).toBe(10);
    expect(done.nextNotDone(10)).toBe(12);
    done.addRange(10, 25);
    expect(done.ranges).toEqual([[1, 25]]);
    expect([done.has(25), done.has(26)]).toEqual([true, false]);
  });

  it("intersect across outputs, and subtract what was released before", () => {
    const a = new DoneRanges([[1, 10]]);
    const b = new DoneRanges([
      [3, 5],
      [8, 12],
    ]);
    const both = intersect([a, b]);
    expect(both).toEqual([
      [3, 5],
      [8, 10],
    ]);
    expect(subtract(both, [[1, 4]])).toEqual([
      [5, 5],
      [8, 10],
    ]);
  });
});
