import { decodeFields } from "./payload.js";
import { type Frame, type FrameDecoder, HEADER_BYTES, MAX_PAYLOAD, MalformedFrameError } from "./types.js";

/** Checks a header and returns its payload length; rejects a too-large frame before any payload arrives. */
function readHeader(header: Buffer, maxPayload: number): number {
  if (header[0] !== 0x56 || header[1] !== 0x53) {
    throw new MalformedFrameError("bad_magic", `magic is ${header.subarray(0, 2).toString("hex")}, not 5653`);
  }
  if (header[2] !== 0x01) throw new MalformedFrameError("bad_version", `version is ${header[2]}, not 1`);
  const length = header.readUInt32BE(10);
  if (length > maxPayload) {
    throw new MalformedFrameError(
      "length_too_big",
      `payload length ${length} exceeds the limit ${maxPayload}`,
    );
  }
  return length;
}

/** Decodes a whole frame held in buf[start, start + 14 + length). */
function decodeWhole(buf: Buffer, start: number, length: number): Frame {
  const fields = decodeFields(buf, start + HEADER_BYTES, start + HEADER_BYTES + length, 0, false);
  return {
    type: buf[start + 3] as number,
    flags: buf.readUInt16BE(start + 4),
    seq: buf.readUInt32BE(start + 6),
    fields,
  };
}

export function decodeDatagram(
  datagram: Uint8Array,
  options: { readonly maxPayload?: number | undefined } = {},
): Frame {
  const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (buf.length < HEADER_BYTES) {
    throw new MalformedFrameError(
      "fields_not_filling_payload",
      `datagram of ${buf.length} bytes is shorter than a header`,
    );
  }
  const length = readHeader(buf, options.maxPayload ?? MAX_PAYLOAD);
  if (buf.length !== HEADER_BYTES + length) {
    throw new MalformedFrameError(
      "fields_not_filling_payload",
      `datagram holds ${buf.length} bytes, header says ${HEADER_BYTES + length}`,
    );
  }
  return decodeWhole(buf, 0, length);
}

/**
 * A stream decoder that keeps the received chunks as they are and copies only when a frame spans
 * chunks, so a large frame arriving in many pieces costs one copy, not one per piece.
 */
export class StreamDecoder implements FrameDecoder {
  readonly #maxPayload: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Payload length of the frame whose header has been read, or -1. */
  #expected = -1;
  #failed: MalformedFrameError | undefined;

  constructor(maxPayload = MAX_PAYLOAD) {
    this.#maxPayload = Math.min(maxPayload, MAX_PAYLOAD);
  }

  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.byteLength === 0) return [];
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#buffered += chunk.byteLength;
    const frames: Frame[] = [];
    try {
      for (;;) {
        if (this.#expected < 0) {
          if (this.#buffered < HEADER_BYTES) break;
          this.#expected = readHeader(this.#peek(HEADER_BYTES), this.#maxPayload);
        }
        const total = HEADER_BYTES + this.#expected;
        if (this.#buffered < total) break;
        const first = this.#chunks[0] as Buffer;
        if (first.length >= total) {
          frames.push(decodeWhole(first, 0, this.#expected));
          this.#consume(total);
        } else {
          const whole = this.#take(total);
          frames.push(decodeWhole(whole, 0, this.#expected));
        }
        this.#expected = -1;
      }
    } catch (error) {
      if (error instanceof MalformedFrameError) {
        this.#failed = error;
        this.#chunks = [];
        this.#buffered = 0;
      }
      throw error;
    }
    return frames;
  }

  #peek(bytes: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.length >= bytes) return first;
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled >= bytes) break;
      filled += chunk.copy(out, filled, 0, Math.min(chunk.length, bytes - filled));
    }
    return out;
  }

  /** Drops bytes from the front without copying. */
  #consume(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const first = this.#chunks[0] as Buffer;
      if (first.length <= left) {
        this.#chunks.shift();
        left -= first.length;
      } else {
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#buffered -= bytes;
  }

  /** Copies bytes from the front into one new buffer. */
  #take(bytes: number): Buffer {
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const first = this.#chunks[0] as Buffer;
      const n = Math.min(first.length, bytes - filled);
      first.copy(out, filled, 0, n);
      filled += n;
      if (n === first.length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    }
    this.#buffered -= bytes;
    return out;
  }
}
