import { Secret } from "./secret.js";

function sameLeaf(a: unknown, b: unknown): boolean {
  if (a instanceof Secret || b instanceof Secret) {
    return a instanceof Secret && b instanceof Secret && a.reveal() === b.reveal();
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Secret);
}

/** Dotted paths of every leaf that differs between two configs; a list counts as one leaf. */
export function changedKeys(before: unknown, after: unknown, prefix = ""): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) =>
      changedKeys(before[key], after[key], prefix ? `${prefix}.${key}` : key),
    );
  }
  return sameLeaf(before, after) ? [] : [prefix];
}
