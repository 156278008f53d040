// Decode frames/s of ~200-byte REPORT frames from 64 KiB stream chunks, against a raw splitter
// that only reads each header's length and slices (the least any framing must do), same bytes.
import { vsCodec } from "../dist/camera/wire/index.js";

const FRAMES = 200_000;
const CHUNK = 65_536;
const RUNS = 5;

function reportFrame(cycle) {
  const f = (name, kind, value) => ({ name, kind, value });
  return vsCodec.encode({
    type: 0x51,
    flags: 0,
    seq: 0,
    fields: [
      f("connection", "TEXT", "c1"),
      f("inspection", "INT", 0),
      f("cycle", "INT", cycle),
      f("time", "TIME", 1_700_000_000_000 + cycle),
      f("passed", "BOOL", cycle % 7 !== 0),
      f("stats", "RECORD", [f("cycleTimeMs", "FLOAT", 12.5), f("passedCount", "INT", cycle)]),
      f("results", "RECORD", [f("Blob.Count", "INT", 3), f("Blob.Area", "FLOAT", 1234.5)]),
    ],
  });
}

function chunks(stream) {
  const out = [];
  for (let at = 0; at < stream.length; at += CHUNK) out.push(stream.subarray(at, at + CHUNK));
  return out;
}

/** The baseline: split by the header's length with a carry-over buffer and hand the frames on, decode nothing. */
function rawSplit(pieces) {
  let carry = Buffer.alloc(0);
  let count = 0;
  for (const piece of pieces) {
    let buf = carry.length ? Buffer.concat([carry, piece]) : piece;
    let at = 0;
    const out = [];
    while (buf.length - at >= 14) {
      const total = 14 + buf.readUInt32BE(at + 10);
      if (buf.length - at < total) break;
      out.push(buf.subarray(at, at + total));
      at += total;
    }
    count += out.length;
    carry = buf.subarray(at);
    buf = undefined;
  }
  return count;
}

function decodeAll(pieces) {
  const decoder = vsCodec.createDecoder();
  let count = 0;
  for (const piece of pieces) count += decoder.push(piece).length;
  return count;
}

function rate(work, pieces) {
  const start = process.hrtime.bigint();
  const count = work(pieces);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (count !== FRAMES) throw new Error(`decoded ${count} of ${FRAMES}`);
  return count / seconds;
}

export async function run() {
  const frames = Array.from({ length: FRAMES }, (_, i) => reportFrame(i + 1));
  const frameBytes = frames[0].length;
  const pieces = chunks(Buffer.concat(frames));
  rate(decodeAll, pieces);
  rate(rawSplit, pieces);
  const decoded = [];
  const raw = [];
  for (let i = 0; i < RUNS; i++) {
    decoded.push(rate(decodeAll, pieces));
    raw.push(rate(rawSplit, pieces));
  }
  return [
    {
      name: `codec decode (${frameBytes}-byte REPORT frames)`,
      unit: "frames/s",
      samples: decoded,
      baseline: { name: "raw length split", samples: raw },
    },
  ];
}
