import { describe, expect, it } from "vitest";
import { FirstOfKind } from "../../src/lib/first-of-kind.js";

describe("FirstOfKind", () => {
  it("says a kind is new once, and holds no more than its bound", () => {
    const kinds = new FirstOfKind(3);
    expect(["a", "a", "b", "a", "b"].map((kind) => kinds.first(kind))).toEqual([
      true,
      false,
      true,
      false,
      false,
    ]);
    expect(kinds.first("c")).toBe(true);
    expect(kinds.first("d")).toBe(false);
    expect(kinds.first("c")).toBe(false);
  });
});
