import type { ErrorCode } from "./wire/messages.js";

/** Why a camera request failed: one of the profile's codes, or what happened on our side. */
export type CameraErrorCode = ErrorCode | "TIMEOUT" | "DISCONNECTED" | "OFFLINE" | "PROTOCOL" | "NOT_ALLOWED";

/** The one error type commands reject with; `code` is what callers switch on. */
export class CameraError extends Error {
  readonly code: CameraErrorCode;

  constructor(code: CameraErrorCode, message: string) {
    super(message);
    this.name = "CameraError";
    this.code = code;
  }
}
