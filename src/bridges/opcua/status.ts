import { type StatusCode, StatusCodes } from "node-opcua";
import { CameraError, type CameraErrorCode } from "../../camera/index.js";

const BY_CODE: Partial<Record<CameraErrorCode, StatusCode>> = {
  TIMEOUT: StatusCodes.BadTimeout,
  NOT_ALLOWED: StatusCodes.BadUserAccessDenied,
  NOT_FOUND: StatusCodes.BadNotFound,
  READ_ONLY: StatusCodes.BadNotWritable,
  BAD_REQUEST: StatusCodes.BadInvalidArgument,
  BUSY: StatusCodes.BadResourceUnavailable,
  CONTROLLED_ELSEWHERE: StatusCodes.BadInvalidState,
  NOT_IN_CONTROL: StatusCodes.BadInvalidState,
};

/** What a client sees when a camera refuses or fails a write or a method call. */
export function statusOf(error: unknown): StatusCode {
  if (!(error instanceof CameraError)) return StatusCodes.BadInternalError;
  return BY_CODE[error.code] ?? StatusCodes.BadCommunicationError;
}
