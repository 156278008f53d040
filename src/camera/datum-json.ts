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
      return { type: "record", value: resultsToJson(datum.value) };
    case "list":
      return { type: "list", value: datum.value.map(datumToJson) };
  }
}

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

/** The datum a DatumJson stands for: the inverse of datumToJson. */
export function datumFromJson(json: DatumJson): Datum {
  switch (json.type) {
    case "bool":
      return json;
    case "int":
    case "float":
      return {
        type: json.type,
        value: typeof json.value === "string" ? (NON_FINITE[json.value] ?? Number.NaN) : json.value,
      };
    case "text":
      return { type: "text", value: json.value };
    case "bytes":
      return { type: "bytes", value: new Uint8Array(Buffer.from(json.value, "base64")) };
    case "time":
      return { type: "time", value: Date.parse(json.value) };
    case "record":
      return { type: "record", value: resultsFromJson(json.value) };
    case "list":
      return { type: "list", value: json.value.map(datumFromJson) };
  }
}

/** A report's results (or a record datum's members) as JSON. */
export function resultsToJson(results: Readonly<Record<string, Datum>>): Record<string, DatumJson> {
  const json: Record<string, DatumJson> = {};
  for (const path in results) json[path] = datumToJson(results[path] as Datum);
  return json;
}

export function resultsFromJson(json: Readonly<Record<string, DatumJson>>): Record<string, Datum> {
  const results: Record<string, Datum> = {};
  for (const path in json) results[path] = datumFromJson(json[path] as DatumJson);
  return results;
}

/** Where a results object keeps its JSON text: a symbol, so that no enumeration or JSON sees it. */
const JSON_TEXT = Symbol("results JSON text");

/**
 * A report's results as JSON text, made once per report: the journal and the MQTT payload both
 * splice it in rather than each converting and stringifying the datums again. Kept on the results
 * object itself (a WeakMap entry per report costs the collector more than the text).
 */
export function resultsJsonText(results: Readonly<Record<string, Datum>>): string {
  const holder = results as { [JSON_TEXT]?: string };
  let text = holder[JSON_TEXT];
  if (text === undefined) {
    text = JSON.stringify(resultsToJson(results));
    Object.defineProperty(holder, JSON_TEXT, { value: text });
  }
  return text;
}

/** Where a report read back from JSON keeps its results' text, and its results once made. */
const REPORT_RESULTS_TEXT = Symbol("report results JSON text");
const REPORT_RESULTS = Symbol("report results");

interface LazyHolder {
  [REPORT_RESULTS_TEXT]: string;
  [REPORT_RESULTS]: Record<string, Datum> | undefined;
}

function readResults(this: LazyHolder): Record<string, Datum> {
  let results = this[REPORT_RESULTS];
  if (results === undefined) {
    const text = this[REPORT_RESULTS_TEXT];
    results = resultsFromJson(JSON.parse(text) as Record<string, DatumJson>);
    this[REPORT_RESULTS] = results;
  }
  return results;
}

/**
 * One getter for every lazy report: a getter made per report would give each report a hidden class
 * of its own, made in the old generation, and the collector would pay for every one.
 */
const LAZY_RESULTS: PropertyDescriptor = { enumerable: true, get: readResults };

/**
 * A report whose results are made from their JSON text only when read: an output that sends the
 * text (resultsTextOf) never decodes the datums.
 */
export function lazyResults<T extends object>(
  report: T,
  text: string,
): T & { readonly results: Record<string, Datum> } {
  const holder = report as T & LazyHolder;
  holder[REPORT_RESULTS_TEXT] = text;
  holder[REPORT_RESULTS] = undefined;
  Object.defineProperty(report, "results", LAZY_RESULTS);
  return report as T & { readonly results: Record<string, Datum> };
}

/** A report's results as JSON text, without decoding them when the report came from JSON. */
export function resultsTextOf(report: { readonly results: Readonly<Record<string, Datum>> }): string {
  return (report as Partial<LazyHolder>)[REPORT_RESULTS_TEXT] ?? resultsJsonText(report.results);
}

/** JSON text of an object (non-empty, not an array) with one more member, already JSON text, at its end. */
export function withJsonMember(objectJson: string, name: string, valueJson: string): string {
  return `${objectJson.slice(0, -1)},${JSON.stringify(name)}:${valueJson}}`;
}
