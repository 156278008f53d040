/** Field kinds of the profile. A kind not listed here is skipped on decode. */
export const Kind = {
  BOOL: 0x01,
  INT: 0x02,
  FLOAT: 0x03,
  TEXT: 0x04,
  BYTES: 0x05,
  TIME: 0x06,
  RECORD: 0x07,
  LIST: 0x08,
} as const;
export type KindName = keyof typeof Kind;

export type Value =
  | { readonly kind: "BOOL"; readonly value: boolean }
  | { readonly kind: "INT"; readonly value: number }
  | { readonly kind: "FLOAT"; readonly value: number }
  | { readonly kind: "TEXT"; readonly value: string }
  | { readonly kind: "BYTES"; readonly value: Uint8Array }
  | { readonly kind: "TIME"; readonly value: number }
  | { readonly kind: "RECORD"; readonly value: readonly Field[] }
  | { readonly kind: "LIST"; readonly value: readonly Value[] };

export type Field = Value & { readonly name: string };

export const Flags = { RESPONSE: 0x0001, ERROR: 0x0002 } as const;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  /** Request id; 0 for events. */
  readonly seq: number;
  readonly fields: readonly Field[];
}

export const HEADER_BYTES = 14;
export const MAX_PAYLOAD = 16_777_216;
export const MAX_DEPTH = 8;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Why a frame was rejected, one per rule of the profile. */
export type MalformedReason =
  | "bad_magic"
  | "bad_version"
  | "length_too_big"
  | "fields_not_filling_payload"
  | "empty_name"
  | "name_not_utf8"
  | "bad_value_size"
  | "bad_bool"
  | "text_not_utf8"
  | "int_out_of_range"
  | "too_deep"
  | "duplicate_name";

/** The codec's only error: over TCP the connection is closed, over UDP the datagram is dropped. */
export class MalformedFrameError extends Error {
  readonly reason: MalformedReason;

  constructor(reason: MalformedReason, detail: string) {
    super(`malformed frame (${reason}): ${detail}`);
    this.name = "MalformedFrameError";
    this.reason = reason;
  }
}

/** One framing of the binary ports. Sessions and services see only this, so another can replace it. */
export interface FrameCodec {
  encode(frame: Frame): Buffer;
  /** A decoder for one TCP stream: feed it chunks as they arrive, split anywhere. */
  createDecoder(options?: { readonly maxPayload?: number | undefined }): FrameDecoder;
  /** One UDP datagram, which must hold exactly one frame. */
  decodeDatagram(datagram: Uint8Array, options?: { readonly maxPayload?: number | undefined }): Frame;
}

export interface FrameDecoder {
  /** Returns the frames completed by this chunk; throws MalformedFrameError and is then unusable. */
  push(chunk: Uint8Array): Frame[];
  /** Bytes held for a frame not yet complete. */
  readonly buffered: number;
}
