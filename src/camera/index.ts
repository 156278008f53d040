/** The camera layer's public surface: bridges import from here and nowhere else in src/camera. */

export {
  type DatumJson,
  datumFromJson,
  datumToJson,
  lazyResults,
  resultsFromJson,
  resultsJsonText,
  resultsTextOf,
  resultsToJson,
  withJsonMember,
} from "./datum-json.js";
export type * from "./domain.js";
export { CONTROL_COMMANDS } from "./domain.js";
export { CameraError, type CameraErrorCode } from "./errors.js";
export { CameraHub, type CameraHubOptions } from "./hub.js";
export type { IoKeeper, Keeper, LineKeeper } from "./keepers.js";
