import { z } from "zod";
import {
  type CameraState,
  type DatumJson,
  type IoEvent,
  type Report,
  resultsTextOf,
  resultsToJson,
  type SerialLineEvent,
  withJsonMember,
} from "../../camera/index.js";
import type { Topics } from "./topics.js";

const datumJson: z.ZodType<DatumJson> = z.lazy(() =>
  z.union([
    z.strictObject({ type: z.literal("bool"), value: z.boolean() }),
    z.strictObject({
      type: z.enum(["int", "float"]),
      value: z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"])]),
    }),
    z.strictObject({ type: z.enum(["text", "bytes", "time"]), value: z.string() }),
    z.strictObject({ type: z.literal("record"), value: z.record(z.string(), datumJson) }),
    z.strictObject({ type: z.literal("list"), value: z.array(datumJson) }),
  ]),
);

export const schemas = {
  bridgeState: z.enum(["online", "offline"]).describe("<base>/bridge/state, retained; offline is the Will"),
  bridgeInfo: z
    .strictObject({
      version: z.string(),
      cameras: z.array(z.string()),
      features: z.strictObject({
        commands: z.record(z.string(), z.array(z.string())).describe("camera id -> commands it accepts"),
        journal: z.strictObject({
          maxBytes: z.int(),
          policy: z.enum(["block", "dropOldest"]),
          outputs: z
            .record(
              z.string(),
              z.strictObject({ delivered: z.int(), pending: z.int(), dropped: z.int(), lost: z.int() }),
            )
            .describe(
              "per output of the daemon's journal, when this was published (fresh from bridge/request/info): records delivered since start, pending, dropped by the dropOldest policy, and lost (always 0)",
            ),
        }),
        protocolVersion: z.union([z.literal(5), z.literal(4)]),
      }),
    })
    .describe("<base>/bridge/info, retained"),
  availability: z.enum(["online", "offline"]).describe("<base>/<camera>/availability, retained"),
  state: z
    .strictObject({
      id: z.string(),
      serial: z.string().nullable(),
      name: z.string().nullable(),
      model: z.string().nullable(),
      version: z.string().nullable(),
      mac: z.string().nullable(),
      address: z.string(),
      availability: z.enum(["connecting", "online", "offline"]),
      status: z.enum(["running", "stopped", "error", "unknown"]),
      job: z.string(),
      inControl: z.string(),
      counters: z.strictObject({ inspections: z.int(), passed: z.int(), failed: z.int() }),
      lastSeen: z.string().nullable(),
    })
    .describe("<base>/<camera>/state, retained"),
  io: z
    .strictObject({ value: z.boolean(), time: z.string(), replayed: z.boolean().optional() })
    .describe(
      "<base>/<camera>/io/<point>, retained, QoS 1, one per transition in order, through the journal",
    ),
  report: z
    .strictObject({
      id: z.string().describe("serial-boot-inspection-cycle: unique across camera and daemon restarts"),
      camera: z.string(),
      serial: z.string(),
      inspection: z.int(),
      cycle: z.int(),
      time: z.string().describe("the camera's time of the cycle, ISO 8601"),
      passed: z.boolean(),
      stats: z.strictObject({
        cycleTimeMs: z.number(),
        processTimeMs: z.number(),
        passedCount: z.int(),
        failedCount: z.int(),
        dropped: z.int(),
      }),
      results: z.record(z.string(), datumJson).describe("datum path -> typed value"),
      lossless: z.boolean(),
      recovered: z.boolean().optional().describe("fetched from the camera's part queue after a reconnect"),
      replayed: z.boolean().optional().describe("left undelivered by a previous run of the daemon"),
    })
    .describe("<base>/<camera>/report/<inspection>: QoS 1 when lossless, QoS 0 when lossy"),
  gap: z
    .strictObject({
      camera: z.string(),
      inspection: z.int(),
      fromCycle: z.int(),
      toCycle: z.int().nullable().describe("null: the camera restarted and the count is unknown"),
      bootTime: z.string(),
      reason: z.string(),
      replayed: z.boolean().optional(),
    })
    .describe("<base>/<camera>/gap/<inspection>, QoS 1: cycles that will never arrive"),
  serial: z
    .strictObject({
      port: z.int(),
      output: z.string().describe("the output's configured name, or Output<n> by its place in the list"),
      raw: z.string().describe("the line as received, decoded with the port's encoding"),
      fields: z
        .record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]))
        .nullable()
        .describe("null when the port has no parser or the line did not parse"),
      error: z.string().optional().describe("why the line did not parse"),
      time: z.string(),
      seq: z.int().describe("per port, from 1 at daemon start"),
      replayed: z.boolean().optional(),
    })
    .describe("<base>/<camera>/serial/<port>, QoS 1: one formatted-output line"),
  commandResponse: z
    .strictObject({
      status: z.enum(["ok", "error"]),
      data: z.unknown().optional(),
      error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
      transaction: z.union([z.string(), z.number()]).optional(),
    })
    .describe("the answer to a command, on the MQTT 5 response topic or <topic>/response"),
} as const;

export type ReportPayload = z.infer<typeof schemas.report>;

/** A report's payload but its results: what reportPayload and reportJson share. */
function reportHead(report: Report): Omit<ReportPayload, "results"> {
  return {
    id: report.id,
    camera: report.cameraId,
    serial: report.serial,
    inspection: report.inspection,
    cycle: report.cycle,
    time: new Date(report.time).toISOString(),
    passed: report.passed,
    stats: { ...report.stats },
    lossless: report.lossless,
    ...(report.recovered ? { recovered: true } : {}),
  };
}

export function reportPayload(report: Report): ReportPayload {
  return { ...reportHead(report), results: resultsToJson(report.results) };
}

/** reportPayload as JSON text, with more members (replayed): the results' text is spliced in, made once per report. */
export function reportJson(report: Report, more: Readonly<Record<string, unknown>> = {}): string {
  return withJsonMember(JSON.stringify({ ...reportHead(report), ...more }), "results", resultsTextOf(report));
}

export interface GapFacts {
  readonly camera: string;
  readonly inspection: number;
  readonly fromCycle: number;
  readonly toCycle?: number | undefined;
  readonly bootTime: number;
  readonly reason: string;
}

export function serialPayload(line: SerialLineEvent): z.infer<typeof schemas.serial> {
  return {
    port: line.port,
    output: line.output,
    raw: line.raw,
    fields: line.fields ?? null,
    ...(line.error === undefined ? {} : { error: line.error }),
    time: new Date(line.time).toISOString(),
    seq: line.seq,
  };
}

export function gapPayload(gap: GapFacts): z.infer<typeof schemas.gap> {
  return {
    camera: gap.camera,
    inspection: gap.inspection,
    fromCycle: gap.fromCycle,
    toCycle: gap.toCycle ?? null,
    bootTime: new Date(gap.bootTime).toISOString(),
    reason: gap.reason,
  };
}

export function statePayload(state: CameraState): z.infer<typeof schemas.state> {
  return {
    id: state.id,
    serial: state.serial ?? null,
    name: state.name ?? null,
    model: state.model ?? null,
    version: state.version ?? null,
    mac: state.mac ?? null,
    address: state.address,
    availability: state.availability,
    status: state.status,
    job: state.job,
    inControl: state.inControl,
    counters: { ...state.counters },
    lastSeen: state.lastSeen === undefined ? null : new Date(state.lastSeen).toISOString(),
  };
}

/** JSON Schemas of every payload, for docs/mqtt.md and for consumers' own validation. */
export function payloadJsonSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [
      name,
      z.toJSONSchema(schema, { unrepresentable: "any" }),
    ]),
  );
}

/** An IO point's retained message: one per transition, the last one being the point's state. */
export function ioMessage(
  topics: Topics,
  event: IoEvent,
  replayed = false,
): { topic: string; payload: string } {
  const payload: z.infer<typeof schemas.io> = {
    value: event.value,
    time: new Date(event.time).toISOString(),
    ...(replayed ? { replayed: true } : {}),
  };
  return { topic: topics.io(event.cameraId, event.point), payload: JSON.stringify(payload) };
}
