import type { ErrorCode } from "../wire/messages.js";

/** A request the simulated camera refuses with one of the profile's error codes. */
export class SimError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function plainAddress(address: string | undefined): string {
  return (address ?? "").replace(/^::ffff:/, "");
}
