import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Field,
  type Frame,
  MAX_DEPTH,
  MalformedFrameError,
  messageTypeName,
  type Value,
  vsCodec,
} from "../../src/camera/wire/index.js";
import { ROOT } from "../support/process.js";
import {
  fieldFromJson,
  fieldToJson,
  hasUnknownKinds,
  type JsonField,
  withoutUnknownKinds,
} from "./wire-json.js";

interface GoodVector {
  name: string;
  hex: string;
  frame: { type: number; typeName: string; flags: number; seq: number; fields: JsonField[] };
}
interface BadVector {
  name: string;
  hex: string;
  why: string;
}
const vectors = JSON.parse(readFileSync(join(ROOT, "test/fixtures/wire-vectors.json"), "utf8")) as {
  vectors: GoodVector[];
  malformed: BadVector[];
};

/** The reason each malformed vector must be rejected for, by the vector's name. */
const EXPECTED_REASON: Record<string, string> = {
  bad_magic: "bad_magic",
  bad_version: "bad_version",
  length_too_big: "length_too_big",
  fields_not_filling_payload: "fields_not_filling_payload",
  bool_0x02: "bad_bool",
  text_invalid_utf8: "text_not_utf8",
  duplicate_name_in_record: "duplicate_name",
  int_out_of_range: "int_out_of_range",
};

function rejection(run: () => unknown): MalformedFrameError {
  try {
    run();
  } catch (error) {
    if (error instanceof MalformedFrameError) return error;
    throw error;
  }
  throw new Error("expected a MalformedFrameError");
}

describe("wire vectors", () => {
  it.each(vectors.vectors.map((v) => [v.name, v] as const))(
    "%s decodes to its fields and re-encodes",
    (_, vector) => {
      const bytes = Buffer.from(vector.hex, "hex");
      const frame = vsCodec.decodeDatagram(bytes);
      expect(messageTypeName(frame.type)).toBe(vector.frame.typeName);
      expect({ type: frame.type, flags: frame.flags, seq: frame.seq }).toEqual({
        type: vector.frame.type,
        flags: vector.frame.flags,
        seq: vector.frame.seq,
      });
      expect(frame.fields.map(fieldToJson)).toEqual(withoutUnknownKinds(vector.frame.fields));
      if (hasUnknownKinds(vector.frame.fields)) {
        // Skipped kinds cannot be re-encoded; what was decoded must still round-trip.
        expect(vsCodec.decodeDatagram(vsCodec.encode(frame)).fields.map(fieldToJson)).toEqual(
          frame.fields.map(fieldToJson),
        );
      } else {
        const fromJson: Frame = { ...vector.frame, fields: vector.frame.fields.map(fieldFromJson) };
        expect(vsCodec.encode(fromJson).toString("hex")).toBe(vector.hex);
        expect(vsCodec.encode(frame).toString("hex")).toBe(vector.hex);
      }
    },
  );

  it.each(vectors.malformed.map((v) => [v.name, v] as const))(
    "%s is rejected for its reason",
    (name, vector) => {
      const bytes = Buffer.from(vector.hex, "hex");
      expect(rejection(() => vsCodec.decodeDatagram(bytes)).reason).toBe(EXPECTED_REASON[name]);
      // The same over a stream, fed one byte at a time.
      const decoder = vsCodec.createDecoder();
      const error = rejection(() => {
        for (const byte of bytes) decoder.push(Uint8Array.of(byte));
        throw new Error(`stream accepted ${name}`);
      });
      expect(error.reason).toBe(EXPECTED_REASON[name]);
    },
  );

  it("has a reason for every malformed vector", () => {
    for (const vector of vectors.malformed) expect(EXPECTED_REASON[vector.name]).toBeDefined();
  });
});

describe("decoder limits", () => {
  it("rejects a frame claiming more than the receiver's limit from its header alone", () => {
    const decoder = vsCodec.createDecoder({ maxPayload: 1024 });
    const header = Buffer.from("5653010100000000000100000401", "hex");
    expect(rejection(() => decoder.push(header)).reason).toBe("length_too_big");
    expect(decoder.buffered).toBe(0);
    expect(() => decoder.push(Buffer.alloc(1))).toThrow(MalformedFrameError);
  });

  it("rejects nesting deeper than 8 and accepts 8", () => {
    const nest = (depth: number): Field =>
      depth === 0
        ? { name: "leaf", kind: "BOOL", value: true }
        : { name: "r", kind: "RECORD", value: [nest(depth - 1)] };
    const frame = (depth: number): Frame => ({ type: 0x40, flags: 1, seq: 1, fields: [nest(depth)] });
    expect(() => vsCodec.decodeDatagram(vsCodec.encode(frame(MAX_DEPTH)))).not.toThrow();
    expect(rejection(() => vsCodec.decodeDatagram(vsCodec.encode(frame(MAX_DEPTH + 1)))).reason).toBe(
      "too_deep",
    );
  });

  it("rejects an empty name and a value of the wrong size", () => {
    const emptyName = Buffer.from("565301020000000000000000000700010000000101", "hex");
    expect(rejection(() => vsCodec.decodeDatagram(emptyName)).reason).toBe("empty_name");
    const shortInt = Buffer.from("5653010200000000000000000009016102000000020001", "hex");
    expect(rejection(() => vsCodec.decodeDatagram(shortInt)).reason).toBe("bad_value_size");
  });
});

// --- property tests ---------------------------------------------------------------------------

const name = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
  .filter((s) => Buffer.byteLength(s) <= 255 && s.length > 0);
const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

const { value: valueArb } = fc.letrec<{ value: Value; fields: Field[] }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.boolean().map((value): Value => ({ kind: "BOOL", value })),
    safeInt.map((value): Value => ({ kind: "INT", value })),
    fc.double().map((value): Value => ({ kind: "FLOAT", value })),
    fc.string({ unit: "grapheme", maxLength: 20 }).map((value): Value => ({ kind: "TEXT", value })),
    fc.uint8Array({ maxLength: 40 }).map((value): Value => ({ kind: "BYTES", value })),
    safeInt.map((value): Value => ({ kind: "TIME", value })),
    tie("fields").map((value): Value => ({ kind: "RECORD", value: value as Field[] })),
    fc
      .array(tie("value"), { maxLength: 4 })
      .map((value): Value => ({ kind: "LIST", value: value as Value[] })),
  ),
  fields: fc
    .uniqueArray(fc.tuple(name, tie("value")), { maxLength: 4, selector: ([n]) => n })
    .map((pairs) => pairs.map(([n, v]) => ({ name: n, ...(v as Value) }) as Field)),
}));

const frameArb: fc.Arbitrary<Frame> = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 3 }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  fields: fc
    .array(fc.tuple(name, valueArb), { maxLength: 6 })
    .map((pairs) => pairs.map(([n, v]) => ({ name: n, ...v }) as Field)),
});

const asJson = (frame: Frame) => ({ ...frame, fields: frame.fields.map(fieldToJson) });

describe("codec properties", () => {
  it("decode(encode(frame)) is the frame", () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        expect(asJson(vsCodec.decodeDatagram(vsCodec.encode(frame)))).toEqual(asJson(frame));
      }),
      { numRuns: 500 },
    );
  });

  it("any split of a valid stream decodes to the same frames", () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, cutSeeds) => {
          const stream = Buffer.concat(frames.map((frame) => vsCodec.encode(frame)));
          const cuts = [...new Set(cutSeeds.map((seed) => seed % (stream.length + 1)))].sort((a, b) => a - b);
          const decoder = vsCodec.createDecoder();
          const out: Frame[] = [];
          let previous = 0;
          for (const cut of [...cuts, stream.length]) {
            out.push(...decoder.push(stream.subarray(previous, cut)));
            previous = cut;
          }
          expect(out.map(asJson)).toEqual(frames.map(asJson));
          expect(decoder.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("random and mutated input only ever raises the codec's typed error, within the buffer limit", () => {
    const limit = 4096;
    const mutated = fc
      .tuple(
        frameArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      )
      .map(([frame, edits]) => {
        const bytes = Buffer.from(vsCodec.encode(frame));
        for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
        return bytes;
      });
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated),
        fc.integer({ min: 1, max: 64 }),
        (bytes, step) => {
          const decoder = vsCodec.createDecoder({ maxPayload: limit });
          try {
            for (let at = 0; at < bytes.length; at += step) {
              decoder.push(bytes.subarray(at, at + step));
              expect(decoder.buffered).toBeLessThanOrEqual(14 + limit + step);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(MalformedFrameError);
          }
          try {
            vsCodec.decodeDatagram(bytes, { maxPayload: limit });
          } catch (error) {
            expect(error).toBeInstanceOf(MalformedFrameError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
