import type { Random } from "../../lib/random.js";
import { f } from "../wire/fields.js";
import type { Field, Value } from "../wire/types.js";

export interface SimIdentity {
  name: string;
  readonly model: string;
  readonly serial: string;
  readonly mac: string;
  readonly ip: string;
  readonly version: string;
}

export type IoKind = "input" | "output" | "virtual";
export interface SimIoPoint {
  readonly name: string;
  readonly kind: IoKind;
  value: boolean;
}

/** One inspection cycle's record, as the camera keeps it before it is sent or queued. */
export interface SimReport {
  readonly inspection: number;
  readonly cycle: number;
  readonly time: number;
  readonly passed: boolean;
  readonly cycleTimeMs: number;
  readonly processTimeMs: number;
  readonly passedCount: number;
  readonly failedCount: number;
  readonly results: readonly Field[];
}

export const JOBS = [
  { slot: 0, name: "bottle-caps" },
  { slot: 1, name: "label-check" },
  { slot: 2, name: "datamatrix" },
];

/** Datums of every kind a report can hold; paths as a job would name them. */
export const DATUM_PATHS = [
  "Snapshot1.Blob1.Count",
  "Snapshot1.Blob1.Area",
  "Snapshot1.Code.Text",
  "Snapshot1.Tool.Passed",
  "Snapshot1.Time",
  "Snapshot1.Code.Raw",
  "Snapshot1.Blob1.Centers",
  "Snapshot1.Tool.Box",
] as const;

function datum(path: string, cycle: number, random: Random, time: number): Field {
  const count = Math.floor(random() * 6);
  switch (path) {
    case "Snapshot1.Blob1.Count":
      return f.int(path, count);
    case "Snapshot1.Blob1.Area":
      return f.float(path, Math.round(random() * 1e6) / 100);
    case "Snapshot1.Code.Text":
      return f.text(path, `LOT-${(cycle * 7919) % 100_000}`);
    case "Snapshot1.Tool.Passed":
      return f.bool(path, random() > 0.1);
    case "Snapshot1.Time":
      return f.time(path, time);
    case "Snapshot1.Code.Raw":
      return f.bytes(path, Uint8Array.of(cycle & 0xff, (cycle >> 8) & 0xff, count));
    case "Snapshot1.Blob1.Centers":
      return f.list(
        path,
        Array.from({ length: 2 }, (): Value => ({ kind: "FLOAT", value: Math.round(random() * 6400) / 10 })),
      );
    default:
      return f.record(path, [f.int("x", count * 10), f.int("y", count * 5), f.int("w", 40), f.int("h", 30)]);
  }
}

/** A small deterministic test picture: a gradient with the cycle number's bits as a bar. */
export function makeImage(cycle: number, time: number, snapshot = "Snapshot1"): Field[] {
  const width = 32;
  const height = 24;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      data[y * width + x] = y < 4 ? ((cycle >> (x % 16)) & 1) * 255 : (x * 8 + y) & 0xff;
  }
  return [
    f.int("width", width),
    f.int("height", height),
    f.text("format", "mono8"),
    f.bytes("data", data),
    f.text("snapshot", snapshot),
    f.time("time", time),
  ];
}

export class Inspection {
  readonly id: number;
  cycle = 0;
  passedCount = 0;
  failedCount = 0;
  readonly queue: SimReport[] = [];
  readonly queueCapacity: number;
  queueEnabled = true;

  constructor(id: number, queueCapacity: number) {
    this.id = id;
    this.queueCapacity = queueCapacity;
  }

  /** Runs one cycle: the report it made, already stored in the part queue. */
  run(random: Random, time: number): SimReport {
    this.cycle++;
    const passed = random() > 0.2;
    if (passed) this.passedCount++;
    else this.failedCount++;
    const report: SimReport = {
      inspection: this.id,
      cycle: this.cycle,
      time,
      passed,
      cycleTimeMs: 20 + Math.round(random() * 100) / 10,
      processTimeMs: 8 + Math.round(random() * 50) / 10,
      passedCount: this.passedCount,
      failedCount: this.failedCount,
      results: DATUM_PATHS.map((path) => datum(path, this.cycle, random, time)),
    };
    if (this.queueEnabled) {
      this.queue.push(report);
      if (this.queue.length > this.queueCapacity) this.queue.shift();
    }
    return report;
  }

  reset(): void {
    this.cycle = 0;
    this.passedCount = 0;
    this.failedCount = 0;
    this.queue.length = 0;
  }
}

/** The fields of a report; `records` limits the results to those datum paths. */
export function reportFields(report: SimReport, dropped: number, records?: ReadonlySet<string>): Field[] {
  return [
    f.int("inspection", report.inspection),
    f.int("cycle", report.cycle),
    f.time("time", report.time),
    f.bool("passed", report.passed),
    f.record("stats", [
      f.float("cycleTimeMs", report.cycleTimeMs),
      f.float("processTimeMs", report.processTimeMs),
      f.int("passedCount", report.passedCount),
      f.int("failedCount", report.failedCount),
      f.int("dropped", dropped),
    ]),
    f.record("results", records ? report.results.filter((r) => records.has(r.name)) : [...report.results]),
  ];
}

export function defaultIo(): SimIoPoint[] {
  return [
    { name: "in0", kind: "input", value: false },
    { name: "in1", kind: "input", value: false },
    { name: "out0", kind: "output", value: false },
    { name: "out1", kind: "output", value: false },
    { name: "v0", kind: "virtual", value: false },
  ];
}

/** The formatted-output string of a cycle, as a job with the format "%s,%d,%.3f,%s\r\n" writes it. */
export function outputLine(report: SimReport): string {
  return `${report.passed ? "PASS" : "FAIL"},${report.cycle},${report.cycleTimeMs.toFixed(3)},LOT-${(report.cycle * 7919) % 100_000}\r\n`;
}
