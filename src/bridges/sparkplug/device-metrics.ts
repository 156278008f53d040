import type { CameraState, Datum, IoEvent, SerialLineEvent, SerialValue } from "../../camera/index.js";
import { datumToJson } from "../../camera/index.js";
import type { JournalRecord } from "../../journal/index.js";
import { DataType, type DataTypeCode, type Metric, type MetricValue } from "./payload.js";

/** A metric's name, datatype and current value, as a DBIRTH carries it. */
export interface MetricDefinition {
  readonly name: string;
  readonly datatype: DataTypeCode;
  readonly value: MetricValue;
  readonly timestamp: number;
}

/** Command metrics a host may write, by the command each asks of the camera. */
export const COMMAND_METRICS = {
  "Commands/Trigger": { command: "trigger", datatype: DataType.Boolean },
  "Commands/Start": { command: "start", datatype: DataType.Boolean },
  "Commands/Stop": { command: "stop", datatype: DataType.Boolean },
  "Commands/Select Job": { command: "selectJob", datatype: DataType.Int32 },
} as const;

export function datumMetric(datum: Datum): { datatype: DataTypeCode; value: MetricValue } {
  switch (datum.type) {
    case "bool":
      return { datatype: DataType.Boolean, value: datum.value };
    case "int":
      return { datatype: DataType.Int64, value: datum.value };
    case "float":
      return { datatype: DataType.Double, value: datum.value };
    case "text":
      return { datatype: DataType.String, value: datum.value };
    case "bytes":
      return { datatype: DataType.Bytes, value: datum.value };
    case "time":
      return { datatype: DataType.DateTime, value: datum.value };
    default:
      return { datatype: DataType.String, value: JSON.stringify(datumToJson(datum).value) };
  }
}

function serialMetric(value: SerialValue): { datatype: DataTypeCode; value: MetricValue } {
  if (typeof value === "number") return { datatype: DataType.Double, value };
  if (typeof value === "boolean") return { datatype: DataType.Boolean, value };
  return { datatype: DataType.String, value };
}

export const inspectionPrefix = (inspection: number) => `Inspection ${inspection}`;

/**
 * The metrics one journal record sets, with their timestamp: a report is one DDATA. A gap event
 * carries no time of its own: it is stamped `now`.
 */
export function recordMetrics(
  record: JournalRecord,
  now: number,
): { metrics: MetricDefinition[]; time: number } | undefined {
  switch (record.type) {
    case "report": {
      const { report } = record;
      const prefix = inspectionPrefix(report.inspection);
      const time = report.time;
      const metrics: MetricDefinition[] = [
        { name: `${prefix}/Cycle`, datatype: DataType.Int64, value: report.cycle, timestamp: time },
        { name: `${prefix}/Passed`, datatype: DataType.Boolean, value: report.passed, timestamp: time },
      ];
      for (const [path, datum] of Object.entries(report.results))
        metrics.push({ name: `${prefix}/Results/${path}`, ...datumMetric(datum), timestamp: time });
      return { metrics, time };
    }
    case "gap": {
      const gap = { fromCycle: record.fromCycle, toCycle: record.toCycle ?? null, reason: record.reason };
      const name = `${inspectionPrefix(record.inspection)}/Gap`;
      const time = now;
      return {
        metrics: [{ name, datatype: DataType.String, value: JSON.stringify(gap), timestamp: time }],
        time,
      };
    }
    case "serial":
      return { metrics: serialMetrics(record), time: record.time };
    case "io":
      return { metrics: [ioMetric(record)], time: record.time };
    default:
      return undefined;
  }
}

function serialMetrics(line: SerialLineEvent): MetricDefinition[] {
  const prefix = `Serial/${line.port}`;
  const metrics: MetricDefinition[] = [
    { name: `${prefix}/Raw`, datatype: DataType.String, value: line.raw, timestamp: line.time },
  ];
  for (const [field, value] of Object.entries(line.fields ?? {}))
    metrics.push({ name: `${prefix}/Fields/${field}`, ...serialMetric(value), timestamp: line.time });
  return metrics;
}

export function ioMetric(event: IoEvent): MetricDefinition {
  return { name: `IO/${event.point}`, datatype: DataType.Boolean, value: event.value, timestamp: event.time };
}

/** What a camera's state says, as metrics: identity, status, job, control and counters. */
export function stateMetrics(state: CameraState, time: number): MetricDefinition[] {
  const text = (name: string, value: string | undefined): MetricDefinition => ({
    name,
    datatype: DataType.String,
    value: value ?? null,
    timestamp: time,
  });
  const count = (name: string, value: number): MetricDefinition => ({
    name,
    datatype: DataType.Int64,
    value,
    timestamp: time,
  });
  return [
    text("Properties/Serial", state.serial),
    text("Properties/Name", state.name),
    text("Properties/Model", state.model),
    text("Properties/Version", state.version),
    text("Properties/Address", state.address),
    text("Status", state.status),
    text("Job", state.job),
    text("In Control", state.inControl),
    count("Counters/Inspections", state.counters.inspections),
    count("Counters/Passed", state.counters.passed),
    count("Counters/Failed", state.counters.failed),
  ];
}

/** A metric as a DATA message carries it: by alias only. */
export function dataMetric(alias: number, definition: MetricDefinition, historical: boolean): Metric {
  return {
    alias,
    timestamp: definition.timestamp,
    datatype: definition.datatype,
    value: definition.value,
    ...(historical ? { isHistorical: true } : {}),
  };
}
