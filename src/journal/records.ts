import {
  type CameraEvent,
  type DatumJson,
  type IoEvent,
  lazyResults,
  type Report,
  resultsFromJson,
  resultsJsonText,
  type SerialLineEvent,
  withJsonMember,
} from "../camera/index.js";

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

/** The camera a record is of; undefined for a migrated message. */
export function cameraOf(record: JournalRecord): string | undefined {
  if (record.type === "message") return undefined;
  return record.type === "report" ? record.report.cameraId : record.cameraId;
}

export function positionOf(record: JournalRecord): Position | undefined {
  if (record.type !== "report") return undefined;
  const { cameraId: camera, inspection, bootTime, cycle } = record.report;
  return { camera, inspection, bootTime, cycle };
}

/** A record as JSON: a report's results in the datum JSON every bridge shares (converted once per report). */
export function encodeRecord(record: JournalRecord): Buffer {
  switch (record.type) {
    case "report": {
      const { images: _images, results, ...rest } = record.report;
      const report = withJsonMember(JSON.stringify(rest), "results", resultsJsonText(results));
      return Buffer.from(`{"type":"report","report":${report}}`);
    }
    case "message":
      return Buffer.from(
        JSON.stringify({ ...record, payload: Buffer.from(record.payload).toString("base64") }),
      );
    default:
      return Buffer.from(JSON.stringify(record));
  }
}

const RESULTS_MEMBER = ',"results":';

const TYPES = new Set(["report", "gap", "serial", "io", "message"]);

/** Throws on bytes that are not a journal record (a damaged row is skipped and counted by the caller). */
export function decodeRecord(bytes: Uint8Array): JournalRecord {
  const text = Buffer.from(bytes).toString("utf8");
  // A report's results are its last member (see encodeRecord), and no earlier member can hold this
  // text unescaped. Only the rest is parsed now: the results' text is what the MQTT output sends,
  // and their datums are made only for an output that asks for them.
  const at = text.startsWith('{"type":"report"') && text.endsWith("}}") ? text.indexOf(RESULTS_MEMBER) : -1;
  if (at > 0) {
    const head = JSON.parse(`${text.slice(0, at)}}}`) as { report?: Omit<Report, "results" | "images"> };
    if (typeof head.report !== "object" || head.report === null) throw new Error("not a journal record");
    const report = lazyResults({ ...head.report, images: [] }, text.slice(at + RESULTS_MEMBER.length, -2));
    return { type: "report", report };
  }
  const value = JSON.parse(text) as Record<string, unknown> | null;
  if (typeof value !== "object" || value === null || !TYPES.has(String(value.type)))
    throw new Error("not a journal record");
  if (value.type === "report") {
    const report = value.report as Omit<Report, "results"> & { results: Record<string, DatumJson> };
    return { type: "report", report: { ...report, results: resultsFromJson(report.results), images: [] } };
  }
  if (value.type === "message")
    return {
      ...(value as unknown as { topic: string; retain: boolean }),
      type: "message",
      payload: Buffer.from(String(value.payload), "base64"),
    };
  return value as unknown as JournalRecord;
}

/** A report as the journal keeps it: without its images. */
export function reportRecord(report: Report): JournalRecord {
  return { type: "report", report: report.images.length === 0 ? report : { ...report, images: [] } };
}
