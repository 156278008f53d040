import { decodeDatagram, StreamDecoder } from "./decode.js";
import { encodeFrame } from "./encode.js";
import type { FrameCodec } from "./types.js";

export * from "./fields.js";
export * from "./messages.js";
export * from "./types.js";

/** The framing of camera-wire-profile.md, version 1. */
export const vsCodec: FrameCodec = {
  encode: encodeFrame,
  createDecoder: (options) => new StreamDecoder(options?.maxPayload),
  decodeDatagram,
};
