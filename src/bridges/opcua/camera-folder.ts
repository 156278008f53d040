import {
  DataType,
  type DataValue,
  type Namespace,
  type StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
} from "node-opcua";
import type { CameraState, IoPoint, Report, SerialLineEvent } from "../../camera/index.js";
import { restrictWrite } from "./permissions.js";
import { statusOf } from "./status.js";
import { fromDatum, fromSerial, type Typed, VariableSet } from "./values.js";

export interface CameraFolderOptions {
  readonly own: Namespace;
  readonly parent: UAObject;
  readonly cameraId: string;
  /** Writes an output or virtual point on the camera; rejects when the camera refuses. */
  readonly writeIo: (point: string, value: boolean) => Promise<void>;
}

const str = (value: string): Typed => ({ dataType: DataType.String, value });
const u32 = (value: number): Typed => ({ dataType: DataType.UInt32, value });
const dbl = (value: number): Typed => ({ dataType: DataType.Double, value });
const bool = (value: boolean): Typed => ({ dataType: DataType.Boolean, value });

/**
 * Plain variables that a SCADA engineer maps in a minute: one folder per camera with state, IO
 * points, the last report (one variable per datum), statistics and formatted-output lines.
 */
export class CameraFolder {
  readonly node: UAObject;
  readonly #options: CameraFolderOptions;
  /** Online and Availability: always Good, they say whether the rest is. */
  readonly #presence: VariableSet;
  readonly #state: VariableSet;
  readonly #io: VariableSet;
  readonly #report: VariableSet;
  readonly #data: VariableSet;
  readonly #stats: VariableSet;
  readonly #serialFolder: UAObject;
  readonly #outputs = new Map<string, { line: VariableSet; fields: VariableSet }>();
  #gaps = 0;

  constructor(options: CameraFolderOptions) {
    this.#options = options;
    const { own, parent, cameraId } = options;
    this.node = own.addFolder(parent, { browseName: cameraId, nodeId: `s=${cameraId}` });
    const folder = (name: string, under: UAObject = this.node) =>
      own.addFolder(under, { browseName: name, nodeId: `s=${under.nodeId.value}.${name}` });
    this.#presence = new VariableSet(own, this.node);
    this.#state = new VariableSet(own, this.node);
    this.#io = new VariableSet(own, folder("IO"));
    const report = folder("LastReport");
    this.#report = new VariableSet(own, report);
    this.#data = new VariableSet(own, folder("Data", report), { paths: true });
    this.#stats = new VariableSet(own, folder("Statistics"));
    this.#serialFolder = folder("FormattedOutput");
    // Made up front, so that a client can subscribe before the first report.
    const waiting = StatusCodes.BadWaitingForInitialData;
    for (const [name, typed] of [
      ["Id", str("")],
      ["Cycle", u32(0)],
      ["Inspection", u32(0)],
      ["Passed", bool(false)],
      ["Time", { dataType: DataType.DateTime, value: new Date(0) }],
      ["Recovered", bool(false)],
    ] as const)
      this.#report.set(name, typed).status(waiting);
    for (const name of ["Inspections", "Passed", "Failed", "Gaps", "Dropped"])
      this.#stats.set(name, u32(0)).status(waiting);
    for (const name of ["CycleTimeMs", "ProcessTimeMs"]) this.#stats.set(name, dbl(0)).status(waiting);
    for (const name of ["Status", "Job", "InControl"]) this.#state.set(name, str("")).status(waiting);
  }

  update(state: CameraState): void {
    const online = state.availability === "online";
    this.#presence.set("Availability", str(state.availability));
    this.#presence.set("Online", bool(online));
    if (!online) {
      this.#bad(
        state.availability === "offline"
          ? StatusCodes.BadNoCommunication
          : StatusCodes.BadWaitingForInitialData,
      );
      return;
    }
    this.#restore();
    for (const [name, value] of [
      ["Status", state.status],
      ["Job", state.job],
      ["InControl", state.inControl],
    ] as const)
      this.#state.set(name, str(value));
    // The state's counters are as of the last status or announce; reports move them on.
    if (this.#counts.size === 0) this.#setCounts(state.counters.passed, state.counters.failed);
    this.#stats.set("Gaps", u32(this.#gaps));
  }

  /** Passed and failed per inspection, as its last report counted them. */
  readonly #counts = new Map<number, { passed: number; failed: number }>();

  #setCounts(passed: number, failed: number, at?: Date): void {
    this.#stats.set("Inspections", u32(passed + failed), at);
    this.#stats.set("Passed", u32(passed), at);
    this.#stats.set("Failed", u32(failed), at);
  }

  /** Every variable that the camera's values fill, which go Bad while it is away. */
  #fromCamera(): VariableSet[] {
    const ports = [...this.#outputs.values()].flatMap((port) => [port.line, port.fields]);
    return [this.#state, this.#io, this.#report, this.#data, this.#stats, ...ports];
  }

  #restore(): void {
    for (const set of this.#fromCamera()) set.restore();
  }

  /** Values stay; their status goes Bad until the camera is back. */
  #bad(status: StatusCode): void {
    for (const set of this.#fromCamera()) set.status(status);
  }

  io(point: string, value: boolean, time: number, kind: IoPoint["kind"] | undefined): void {
    if (!this.#io.get(point) && (kind === "output" || kind === "virtual"))
      this.#writable(this.#io.create(point, bool(value), true).variable, point);
    this.#io.set(point, bool(value), new Date(time));
  }

  #writable(variable: UAVariable, point: string): void {
    restrictWrite(variable, "operator");
    const { writeIo } = this.#options;
    // Called only after node-opcua has checked the role and the type; the camera's answer decides.
    const setter = (dataValue: DataValue, callback: (error: Error | null, status?: StatusCode) => void) => {
      writeIo(point, dataValue.value.value === true).then(
        () => callback(null, StatusCodes.Good),
        (error: unknown) => callback(null, statusOf(error)),
      );
    };
    (variable as unknown as { _timestamped_set_func: typeof setter })._timestamped_set_func = setter;
  }

  report(report: Report): void {
    const at = new Date(report.time);
    for (const [name, datum] of Object.entries(report.results)) this.#data.set(name, fromDatum(datum), at);
    this.#stats.set("CycleTimeMs", dbl(report.stats.cycleTimeMs), at);
    this.#stats.set("ProcessTimeMs", dbl(report.stats.processTimeMs), at);
    this.#stats.set("Dropped", u32(report.stats.dropped), at);
    this.#counts.set(report.inspection, {
      passed: report.stats.passedCount,
      failed: report.stats.failedCount,
    });
    let passed = 0;
    let failed = 0;
    for (const count of this.#counts.values()) {
      passed += count.passed;
      failed += count.failed;
    }
    this.#setCounts(passed, failed, at);
    this.#report.set("Passed", bool(report.passed), at);
    this.#report.set("Inspection", u32(report.inspection), at);
    this.#report.set("Recovered", bool(report.recovered), at);
    this.#report.set("Time", { dataType: DataType.DateTime, value: at }, at);
    this.#report.set("Id", str(report.id), at);
    // Last: a client that watches Cycle sees the rest of the report already in place.
    this.#report.set("Cycle", u32(report.cycle), at);
  }

  gap(): void {
    this.#gaps += 1;
    this.#stats.set("Gaps", u32(this.#gaps));
  }

  serial(event: SerialLineEvent): void {
    let port = this.#outputs.get(event.output);
    if (!port) {
      const { own } = this.#options;
      const folder = own.addFolder(this.#serialFolder, {
        browseName: event.output,
        nodeId: `s=${this.#serialFolder.nodeId.value}.${event.output}`,
      });
      const fields = own.addFolder(folder, {
        browseName: "Fields",
        nodeId: `s=${folder.nodeId.value}.Fields`,
      });
      port = { line: new VariableSet(own, folder), fields: new VariableSet(own, fields) };
      this.#outputs.set(event.output, port);
    }
    const at = new Date(event.time);
    for (const [name, value] of Object.entries(event.fields ?? {})) {
      const typed = fromSerial(value);
      if (typed) port.fields.set(name, typed, at);
      else port.fields.get(name)?.status(StatusCodes.UncertainNoCommunicationLastUsableValue);
    }
    port.line.set("Error", str(event.error ?? ""), at);
    port.line.set("Time", { dataType: DataType.DateTime, value: at }, at);
    port.line.set("Line", str(event.raw), at);
    port.line.set("Port", u32(event.port), at);
    port.line.set("Seq", u32(event.seq), at);
  }
}
