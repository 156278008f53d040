import type { Field, Value } from "../../src/camera/wire/index.js";

/** The vectors' JSON form of fields (wire-vectors.json conventions), for comparing decoded frames. */
export type JsonValue = { kind: string | number; value: unknown };
export type JsonField = JsonValue & { name: string };

function floatToJson(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (Object.is(value, -0)) return "-0.0";
  return value;
}

function floatFromJson(value: unknown): number {
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  if (value === "-0.0") return -0;
  return value as number;
}

export function valueToJson(value: Value): JsonValue {
  switch (value.kind) {
    case "FLOAT":
      return { kind: "FLOAT", value: floatToJson(value.value) };
    case "BYTES":
      return { kind: "BYTES", value: Buffer.from(value.value).toString("hex") };
    case "RECORD":
      return { kind: "RECORD", value: value.value.map(fieldToJson) };
    case "LIST":
      return { kind: "LIST", value: value.value.map(valueToJson) };
    default:
      return { kind: value.kind, value: value.value };
  }
}

export function fieldToJson(field: Field): JsonField {
  return { name: field.name, ...valueToJson(field) };
}

/** Drops fields and items of kinds the profile does not define, as a decoder does. */
export function withoutUnknownKinds<T extends JsonValue>(items: readonly T[]): T[] {
  return items
    .filter((item) => typeof item.kind === "string")
    .map((item) => {
      if (item.kind === "RECORD" || item.kind === "LIST") {
        return { ...item, value: withoutUnknownKinds(item.value as JsonValue[]) };
      }
      return item;
    });
}

export function hasUnknownKinds(items: readonly JsonValue[]): boolean {
  return items.some(
    (item) =>
      typeof item.kind === "number" ||
      ((item.kind === "RECORD" || item.kind === "LIST") && hasUnknownKinds(item.value as JsonValue[])),
  );
}

function valueFromJson(json: JsonValue): Value {
  switch (json.kind) {
    case "FLOAT":
      return { kind: "FLOAT", value: floatFromJson(json.value) };
    case "BYTES":
      return { kind: "BYTES", value: Buffer.from(json.value as string, "hex") };
    case "RECORD":
      return { kind: "RECORD", value: (json.value as JsonField[]).map(fieldFromJson) };
    case "LIST":
      return { kind: "LIST", value: (json.value as JsonValue[]).map(valueFromJson) };
    default:
      return json as Value;
  }
}

export function fieldFromJson(json: JsonField): Field {
  return { name: json.name, ...valueFromJson(json) } as Field;
}
