import type { Announce, CameraImage, Datum, Report } from "./domain.js";
import { FieldReader, read } from "./wire/fields.js";
import type { Field, Value } from "./wire/types.js";

export function toDatum(value: Value): Datum {
  switch (value.kind) {
    case "BOOL":
      return { type: "bool", value: value.value };
    case "INT":
      return { type: "int", value: value.value };
    case "FLOAT":
      return { type: "float", value: value.value };
    case "TEXT":
      return { type: "text", value: value.value };
    case "BYTES":
      return { type: "bytes", value: value.value };
    case "TIME":
      return { type: "time", value: value.value };
    case "RECORD":
      return {
        type: "record",
        value: Object.fromEntries(value.value.map((field) => [field.name, toDatum(field)])),
      };
    case "LIST":
      return { type: "list", value: value.value.map(toDatum) };
  }
}

const IMAGE_FORMATS = new Set(["mono8", "rgb8", "jpeg", "png"]);

export function toImage(fields: readonly Field[]): CameraImage {
  const image = read(fields);
  const format = image.text("format");
  if (!IMAGE_FORMATS.has(format)) throw new TypeError(`unknown image format ${format}`);
  return {
    width: image.int("width"),
    height: image.int("height"),
    format: format as CameraImage["format"],
    data: image.required("data", "BYTES"),
    snapshot: image.optional("snapshot", "TEXT"),
    time: image.optional("time", "TIME"),
  };
}

export interface ReportOrigin {
  readonly cameraId: string;
  readonly serial: string;
  readonly bootTime: number;
  readonly lossless: boolean;
  readonly recovered: boolean;
}

export function reportId(serial: string, bootTime: number, inspection: number, cycle: number): string {
  return `${serial}-${bootTime.toString(36)}-${inspection}-${cycle}`;
}

/** A report record (live REPORT event or part-queue entry) as a domain report. */
export function toReport(fields: FieldReader, origin: ReportOrigin): Report {
  const stats = fields.record("stats");
  const inspection = fields.int("inspection");
  const cycle = fields.int("cycle");
  const results: Record<string, Datum> = {};
  for (const field of fields.required("results", "RECORD")) results[field.name] = toDatum(field);
  const images = (fields.optional("images", "LIST") ?? []).flatMap((item) =>
    item.kind === "RECORD" ? [toImage(item.value)] : [],
  );
  return {
    cameraId: origin.cameraId,
    id: reportId(origin.serial, origin.bootTime, inspection, cycle),
    serial: origin.serial,
    bootTime: origin.bootTime,
    inspection,
    cycle,
    time: fields.time("time"),
    passed: fields.bool("passed"),
    stats: {
      cycleTimeMs: stats.float("cycleTimeMs"),
      processTimeMs: stats.float("processTimeMs"),
      passedCount: stats.int("passedCount"),
      failedCount: stats.int("failedCount"),
      dropped: stats.optional("dropped", "INT") ?? 0,
    },
    results,
    images,
    lossless: origin.lossless,
    recovered: origin.recovered,
  };
}

export function toAnnounce(fields: readonly Field[]): Announce {
  const a = new FieldReader(fields);
  return {
    name: a.text("name"),
    model: a.text("model"),
    serial: a.text("serial"),
    mac: a.text("mac"),
    ip: a.text("ip"),
    inControl: a.text("inControl"),
    status: a.text("status"),
    job: a.text("job"),
    version: a.text("version"),
    uptimeMs: a.int("uptimeMs"),
    inspections: a.int("inspections"),
    passed: a.int("passed"),
    failed: a.int("failed"),
    intervalMs: a.int("intervalMs"),
  };
}
