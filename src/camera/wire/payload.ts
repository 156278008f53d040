import { type Field, Kind, MAX_DEPTH, MalformedFrameError, type Value } from "./types.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const INT_HI_MIN = -0x200000;
const INT_HI_MAX = 0x1fffff;

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

function decodeUtf8(
  buf: Buffer,
  start: number,
  end: number,
  reason: "name_not_utf8" | "text_not_utf8",
): string {
  if (isAscii(buf, start, end)) return buf.toString("latin1", start, end);
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    throw new MalformedFrameError(reason, `bytes at ${start}..${end} are not valid UTF-8`);
  }
}

/** An 8-byte two's complement integer, exact because the profile bounds it to ±(2^53-1). */
function readSafeInt(buf: Buffer, at: number): number {
  const hi = buf.readInt32BE(at);
  const lo = buf.readUInt32BE(at + 4);
  if (hi < INT_HI_MIN || hi > INT_HI_MAX || (hi === INT_HI_MIN && lo === 0)) {
    throw new MalformedFrameError("int_out_of_range", `integer at ${at} is outside ±(2^53-1)`);
  }
  return hi * 0x1_0000_0000 + lo;
}

function expectSize(kind: string, size: number, expected: number, at: number): void {
  if (size !== expected) {
    throw new MalformedFrameError("bad_value_size", `${kind} at ${at} has ${size} bytes, not ${expected}`);
  }
}

const KIND_NAMES = ["", "BOOL", "INT", "FLOAT", "TEXT", "BYTES", "TIME", "RECORD", "LIST"] as const;

/**
 * Decodes one value of a known kind, as a field when a name is given (one object per field rather
 * than a value copied into a field); undefined for a kind the profile does not define.
 */
function decodeValue(
  buf: Buffer,
  kind: number,
  start: number,
  size: number,
  depth: number,
  name?: string,
): Value | Field | undefined {
  const value = rawValue(buf, kind, start, size, depth);
  if (value === undefined) return undefined;
  const kindName = KIND_NAMES[kind];
  return (name === undefined ? { kind: kindName, value } : { name, kind: kindName, value }) as Value | Field;
}

function rawValue(
  buf: Buffer,
  kind: number,
  start: number,
  size: number,
  depth: number,
): Value["value"] | undefined {
  switch (kind) {
    case Kind.BOOL: {
      expectSize("BOOL", size, 1, start);
      const byte = buf[start];
      if (byte !== 0 && byte !== 1) throw new MalformedFrameError("bad_bool", `BOOL at ${start} is ${byte}`);
      return byte === 1;
    }
    case Kind.INT:
      expectSize("INT", size, 8, start);
      return readSafeInt(buf, start);
    case Kind.TIME:
      expectSize("TIME", size, 8, start);
      return readSafeInt(buf, start);
    case Kind.FLOAT:
      expectSize("FLOAT", size, 8, start);
      return buf.readDoubleBE(start);
    case Kind.TEXT:
      return decodeUtf8(buf, start, start + size, "text_not_utf8");
    case Kind.BYTES:
      return buf.subarray(start, start + size);
    case Kind.RECORD:
      return decodeFields(buf, start, start + size, depth + 1, true);
    case Kind.LIST:
      return decodeItems(buf, start, start + size, depth + 1);
    default:
      return undefined;
  }
}

function checkDepth(depth: number, at: number): void {
  if (depth > MAX_DEPTH)
    throw new MalformedFrameError("too_deep", `nesting at ${at} is deeper than ${MAX_DEPTH}`);
}

function notFilling(at: number, end: number): never {
  throw new MalformedFrameError(
    "fields_not_filling_payload",
    `${end - at} bytes at ${at} do not make a whole field`,
  );
}

/** Fields back to back filling [start, end) exactly. */
export function decodeFields(
  buf: Buffer,
  start: number,
  end: number,
  depth: number,
  isRecord: boolean,
): Field[] {
  checkDepth(depth, start);
  const fields: Field[] = [];
  const seen = isRecord ? new Set<string>() : undefined;
  let at = start;
  while (at < end) {
    const nameLength = buf[at] as number;
    if (nameLength === 0) throw new MalformedFrameError("empty_name", `field at ${at} has an empty name`);
    const valueAt = at + 1 + nameLength + 5;
    if (valueAt > end) notFilling(at, end);
    const name = decodeUtf8(buf, at + 1, at + 1 + nameLength, "name_not_utf8");
    const kind = buf[at + 1 + nameLength] as number;
    const size = buf.readUInt32BE(at + 2 + nameLength);
    if (size > end - valueAt) notFilling(at, end);
    if (seen) {
      if (seen.has(name)) throw new MalformedFrameError("duplicate_name", `record holds "${name}" twice`);
      seen.add(name);
    }
    const field = decodeValue(buf, kind, valueAt, size, depth, name);
    if (field) fields.push(field as Field);
    at = valueAt + size;
  }
  return fields;
}

function decodeItems(buf: Buffer, start: number, end: number, depth: number): Value[] {
  checkDepth(depth, start);
  const items: Value[] = [];
  let at = start;
  while (at < end) {
    if (at + 5 > end) notFilling(at, end);
    const kind = buf[at] as number;
    const size = buf.readUInt32BE(at + 1);
    if (size > end - at - 5) notFilling(at, end);
    const value = decodeValue(buf, kind, at + 5, size, depth);
    if (value) items.push(value);
    at += 5 + size;
  }
  return items;
}
