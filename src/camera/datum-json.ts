import type { Datum } from "./domain.js";

/**
 * A datum as JSON: its type and value; bytes as base64, time as ISO 8601, non-finite numbers as
 * strings. One form for every bridge, so that MQTT and OPC UA show a record the same way.
 */
export type DatumJson =
  | { type: "bool"; value: boolean }
  | { type: "int" | "float"; value: number | string }
  | { type: "text" | "bytes" | "time"; value: string }
  | { type: "record"; value: Record<string, DatumJson> }
  | { type: "list"; value: DatumJson[] };

function number(value: number): number | "NaN" | "Infinity" | "-Infinity" {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  return value;
}

export function datumToJson(datum: Datum): DatumJson {
  switch (datum.type) {
    case "bool":
      return datum;
    case "int":
    case "float":
      return { type: datum.type, value: number(datum.value) };
    case "text":
      return datum;
    case "bytes":
      return { type: "bytes", value: Buffer.from(datum.value).toString("base64") };
    case "time":
      return { type: "time", value: new Date(datum.value).toISOString() };
    case "record":
      return {
        type: "record",
        value: Object.fromEntries(Object.entries(datum.value).map(([k, v]) => [k, datumToJson(v)])),
      };
    case "list":
      return { type: "list", value: datum.value.map(datumToJson) };
  }
}
