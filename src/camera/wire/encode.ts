import { type Field, Flags, type Frame, HEADER_BYTES, Kind, MAX_SAFE, type Value } from "./types.js";

function valueSize(value: Value): number {
  switch (value.kind) {
    case "BOOL":
      return 1;
    case "INT":
    case "TIME":
    case "FLOAT":
      return 8;
    case "TEXT":
      return Buffer.byteLength(value.value, "utf8");
    case "BYTES":
      return value.value.byteLength;
    case "RECORD":
      return fieldsSize(value.value);
    case "LIST":
      return value.value.reduce((sum, item) => sum + 5 + valueSize(item), 0);
  }
}

function fieldsSize(fields: readonly Field[]): number {
  let size = 0;
  for (const field of fields) size += 1 + Buffer.byteLength(field.name, "utf8") + 5 + valueSize(field);
  return size;
}

function writeInt(buf: Buffer, at: number, value: number, what: string): void {
  if (!Number.isInteger(value) || Math.abs(value) > MAX_SAFE) {
    throw new RangeError(`${what} ${value} is not an integer within ±(2^53-1)`);
  }
  buf.writeBigInt64BE(BigInt(value), at);
}

/** Writes kind, length and value at `at`; returns the offset after it. */
function writeValue(buf: Buffer, at: number, value: Value): number {
  buf[at] = Kind[value.kind];
  const start = at + 5;
  let end: number;
  switch (value.kind) {
    case "BOOL":
      buf[start] = value.value ? 1 : 0;
      end = start + 1;
      break;
    case "INT":
    case "TIME":
      writeInt(buf, start, value.value, value.kind);
      end = start + 8;
      break;
    case "FLOAT":
      buf.writeDoubleBE(value.value, start);
      end = start + 8;
      break;
    case "TEXT":
      end = start + buf.write(value.value, start, "utf8");
      break;
    case "BYTES":
      buf.set(value.value, start);
      end = start + value.value.byteLength;
      break;
    case "RECORD":
      end = writeFields(buf, start, value.value);
      break;
    case "LIST":
      end = start;
      for (const item of value.value) end = writeValue(buf, end, item);
      break;
  }
  buf.writeUInt32BE(end - start, at + 1);
  return end;
}

function writeFields(buf: Buffer, at: number, fields: readonly Field[]): number {
  let offset = at;
  for (const field of fields) {
    const nameLength = buf.write(field.name, offset + 1, "utf8");
    if (nameLength < 1 || nameLength > 255)
      throw new RangeError(`field name "${field.name}" must be 1 to 255 bytes`);
    buf[offset] = nameLength;
    offset = writeValue(buf, offset + 1 + nameLength, field);
  }
  return offset;
}

/** Encodes a frame into one buffer allocated at its exact size. */
export function encodeFrame(frame: Frame): Buffer {
  const payload = fieldsSize(frame.fields);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload);
  buf[0] = 0x56;
  buf[1] = 0x53;
  buf[2] = 0x01;
  buf[3] = frame.type;
  buf.writeUInt16BE(frame.flags & (Flags.RESPONSE | Flags.ERROR), 4);
  buf.writeUInt32BE(frame.seq, 6);
  buf.writeUInt32BE(payload, 10);
  writeFields(buf, HEADER_BYTES, frame.fields);
  return buf;
}
