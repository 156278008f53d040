import { deserialize, serialize } from "node:v8";
import type { CameraEvent, IoEvent, Report, SerialLineEvent } from "../camera/index.js";

export type GapRecord = Extract<CameraEvent, { type: "gap" }>;

/**
 * What the journal keeps: domain records, rendered by each output at publish time. A report is
 * kept without its images (they are lossy: outputs send them live or not at all). "message" is a
 * message the MQTT bridge rendered before the journal kept domain records: a journal written by an
 * older daemon is migrated to it, and only the MQTT output carries it.
 */
export type JournalRecord =
  | { readonly type: "report"; readonly report: Report }
  | GapRecord
  | SerialLineEvent
  | IoEvent
  | {
      readonly type: "message";
      readonly topic: string;
      readonly payload: Uint8Array;
      readonly retain: boolean;
    };

/** Where a camera's inspection stood when a report about it was journaled. */
export interface Position {
  readonly camera: string;
  readonly inspection: number;
  readonly bootTime: number;
  readonly cycle: number;
}

export function positionOf(record: JournalRecord): Position | undefined {
  if (record.type !== "report") return undefined;
  const { cameraId: camera, inspection, bootTime, cycle } = record.report;
  return { camera, inspection, bootTime, cycle };
}

/**
 * V8's structured serialisation, not JSON: it keeps bytes, NaN and infinities exactly, costs less
 * than JSON per report, and a newer Node reads what an older one wrote.
 */
export function encodeRecord(record: JournalRecord): Buffer {
  return serialize(record);
}

const TYPES = new Set(["report", "gap", "serial", "io", "message"]);

/** Throws on bytes that are not a journal record (a damaged row is skipped and counted by the caller). */
export function decodeRecord(bytes: Uint8Array): JournalRecord {
  const value = deserialize(bytes) as { type?: unknown } | null;
  if (typeof value !== "object" || value === null || !TYPES.has(String(value.type)))
    throw new Error("not a journal record");
  return value as JournalRecord;
}

/** A report as the journal keeps it: without its images. */
export function reportRecord(report: Report): JournalRecord {
  return { type: "report", report: report.images.length === 0 ? report : { ...report, images: [] } };
}
