import Long from "long";
import protobuf from "protobufjs";

/** Sparkplug B datatypes the edge node uses (the schema's numbering). */
export const DataType = {
  Int32: 3,
  Int64: 4,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Bytes: 17,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export type MetricValue = boolean | number | string | Uint8Array | null;

export interface Metric {
  readonly name?: string;
  readonly alias?: number;
  readonly timestamp?: number;
  readonly datatype?: DataTypeCode;
  readonly isHistorical?: boolean;
  readonly value: MetricValue;
}

export interface Payload {
  readonly timestamp: number;
  readonly seq?: number;
  readonly metrics: readonly Metric[];
}

// The Sparkplug B schema's Payload and Metric, by their field numbers (the parts this edge node
// sends and reads; the rest of the schema is skipped as unknown fields on decode).
const MetricType = new protobuf.Type("Metric")
  .add(new protobuf.Field("name", 1, "string"))
  .add(new protobuf.Field("alias", 2, "uint64"))
  .add(new protobuf.Field("timestamp", 3, "uint64"))
  .add(new protobuf.Field("datatype", 4, "uint32"))
  .add(new protobuf.Field("isHistorical", 5, "bool"))
  .add(new protobuf.Field("isNull", 7, "bool"))
  .add(new protobuf.Field("intValue", 10, "uint32"))
  .add(new protobuf.Field("longValue", 11, "uint64"))
  .add(new protobuf.Field("floatValue", 12, "float"))
  .add(new protobuf.Field("doubleValue", 13, "double"))
  .add(new protobuf.Field("booleanValue", 14, "bool"))
  .add(new protobuf.Field("stringValue", 15, "string"))
  .add(new protobuf.Field("bytesValue", 16, "bytes"));
const PayloadType = new protobuf.Type("Payload")
  .add(new protobuf.Field("timestamp", 1, "uint64"))
  .add(new protobuf.Field("metrics", 2, "Metric", "repeated"))
  .add(new protobuf.Field("seq", 3, "uint64"));
new protobuf.Root().define("org.eclipse.tahu.protobuf").add(MetricType).add(PayloadType);

/** A uint64 field from a JavaScript integer; negative Int64 values go as their two's complement. */
function uint64(value: number): Long {
  return Long.fromNumber(Math.trunc(value), false).toUnsigned();
}

function encodeMetric(metric: Metric): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (metric.name !== undefined) out.name = metric.name;
  if (metric.alias !== undefined) out.alias = uint64(metric.alias);
  if (metric.timestamp !== undefined) out.timestamp = uint64(metric.timestamp);
  if (metric.datatype !== undefined) out.datatype = metric.datatype;
  if (metric.isHistorical) out.isHistorical = true;
  const { value } = metric;
  if (value === null) {
    out.isNull = true;
    return out;
  }
  switch (metric.datatype) {
    case DataType.Int32:
      out.intValue = Number(value) >>> 0;
      break;
    case DataType.Int64:
    case DataType.DateTime:
      out.longValue = uint64(Number(value));
      break;
    case DataType.Double:
      out.doubleValue = Number(value);
      break;
    case DataType.Boolean:
      out.booleanValue = Boolean(value);
      break;
    case DataType.Bytes:
      out.bytesValue = value instanceof Uint8Array ? value : new Uint8Array();
      break;
    default:
      out.stringValue = String(value);
  }
  return out;
}

export function encodePayload(payload: Payload): Buffer {
  const message = PayloadType.fromObject({
    timestamp: uint64(payload.timestamp),
    ...(payload.seq === undefined ? {} : { seq: uint64(payload.seq) }),
    metrics: payload.metrics.map(encodeMetric),
  });
  return Buffer.from(PayloadType.encode(message).finish());
}

export interface DecodedMetric {
  readonly name: string | undefined;
  readonly alias: bigint | undefined;
  readonly datatype: number | undefined;
  readonly value: boolean | bigint | number | string | Uint8Array | undefined;
}

const toBigInt = (long: unknown): bigint | undefined =>
  long === undefined || long === null ? undefined : BigInt.asUintN(64, BigInt(String(long)));

/** Decodes an NCMD or DCMD: throws on bytes that are not a Sparkplug payload. Integers come exact, as bigints. */
export function decodeCommand(bytes: Uint8Array): { metrics: DecodedMetric[] } {
  const message = PayloadType.decode(bytes) as unknown as { metrics?: Record<string, unknown>[] };
  const metrics = (message.metrics ?? []).map((m) => {
    const has = (key: string) => Object.hasOwn(m, key);
    let value: DecodedMetric["value"];
    if (has("booleanValue")) value = m.booleanValue as boolean;
    else if (has("intValue")) value = m.intValue as number;
    else if (has("longValue")) value = toBigInt(m.longValue);
    else if (has("doubleValue")) value = m.doubleValue as number;
    else if (has("floatValue")) value = m.floatValue as number;
    else if (has("stringValue")) value = m.stringValue as string;
    else if (has("bytesValue")) value = m.bytesValue as Uint8Array;
    return {
      name: has("name") ? (m.name as string) : undefined,
      alias: has("alias") ? toBigInt(m.alias) : undefined,
      datatype: has("datatype") ? (m.datatype as number) : undefined,
      value,
    };
  });
  return { metrics };
}
