import { DataType } from "node-opcua";

/**
 * The variables every camera's folder has, with what they say and their unit: docs/opcua.md lists
 * the same. Names are NodeId parts, so they never change.
 */
export const REPORT = [
  ["Id", DataType.String, "the report's id, <serial>-<boot>-<inspection>-<cycle>: the same on MQTT"],
  ["Cycle", DataType.UInt32, "the cycle of the last report; written last, so the rest is in place"],
  ["Inspection", DataType.UInt32, "the inspection that made the last report"],
  ["Passed", DataType.Boolean, "the last report's verdict"],
  ["Time", DataType.DateTime, "when the camera made the last report, by its clock"],
  ["Recovered", DataType.Boolean, "the last report came from the camera's part queue, not live"],
] as const;
export const STATS = [
  ["Inspections", DataType.UInt32, "cycles the camera counted, passed and failed", "count"],
  ["Passed", DataType.UInt32, "passed cycles, as the camera counts them", "count"],
  ["Failed", DataType.UInt32, "failed cycles, as the camera counts them", "count"],
  ["Gaps", DataType.UInt32, "gap events: runs of cycles that no output will carry", "count"],
  ["Dropped", DataType.UInt32, "reports a lossy connection skipped, as the last report said", "count"],
  ["CycleTimeMs", DataType.Double, "the last report's cycle time", "ms"],
  ["ProcessTimeMs", DataType.Double, "the last report's processing time", "ms"],
] as const;
export const STATE = [
  ["Status", DataType.String, "running, stopped or error, as the camera says"],
  ["Job", DataType.String, "the loaded job's name"],
  ["InControl", DataType.String, "the address of the client in control of the camera, empty when none"],
] as const;
export const LINE = [
  ["Error", DataType.String, "why the last line did not parse, empty when it did"],
  ["Time", DataType.DateTime, "when the last line arrived"],
  ["Line", DataType.String, "the last line as the camera sent it"],
  ["Port", DataType.UInt32, "the TCP port the line came from"],
  ["Seq", DataType.UInt32, "lines read from this output since the daemon started; written last"],
] as const;
export const PRESENCE = [
  ["Availability", DataType.String, "connecting, online or offline: whether the other values are current"],
  ["Online", DataType.Boolean, "true while the daemon has a live session to the camera"],
] as const;
