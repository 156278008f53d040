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
import { fromDatum, fromSerial, type Typed, TypedVariable, VariableSet } from "./values.js";

export interface CameraFolderOptions {
  readonly own: Namespace;
  readonly parent: UAObject;
  readonly cameraId: string;
  /** Writes an output or virtual point on the camera; rejects when the camera refuses. */
  readonly writeIo: (point: string, value: boolean) => Promise<void>;
  readonly writeFailed: (error: unknown) => StatusCode;
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
  readonly #state: VariableSet;
  readonly #io: UAObject;
  readonly #points = new Map<string, TypedVariable>();
  readonly #report: VariableSet;
  readonly #data: VariableSet;
  readonly #stats: VariableSet;
  readonly #serialFolder: UAObject;
  readonly #ports = new Map<number, { line: VariableSet; fields: VariableSet }>();
  #gaps = 0;

  constructor(options: CameraFolderOptions) {
    this.#options = options;
    const { own, parent, cameraId } = options;
    this.node = own.addFolder(parent, { browseName: cameraId, nodeId: `s=${cameraId}` });
    const folder = (name: string, under: UAObject = this.node) =>
      own.addFolder(under, { browseName: name, nodeId: `s=${under.nodeId.value}.${name}` });
    this.#state = new VariableSet(own, this.node);
    this.#io = folder("IO");
    const report = folder("LastReport");
    this.#report = new VariableSet(own, report);
    this.#data = new VariableSet(own, folder("Data", report));
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
    this.#state.set("Availability", str(state.availability));
    this.#state.set("Online", bool(online));
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
    this.#stats.set("Inspections", u32(state.counters.inspections));
    this.#stats.set("Passed", u32(state.counters.passed));
    this.#stats.set("Failed", u32(state.counters.failed));
    this.#stats.set("Gaps", u32(this.#gaps));
  }

  #restore(): void {
    for (const variable of this.#points.values()) variable.restore();
    for (const set of [this.#report, this.#data, this.#stats]) set.restore();
    for (const port of this.#ports.values()) for (const set of [port.line, port.fields]) set.restore();
  }

  /** Values stay; their status goes Bad until the camera is back and they are written afresh. */
  #bad(status: StatusCode): void {
    for (const variable of this.#points.values()) variable.status(status);
    for (const set of [this.#report, this.#data, this.#stats]) set.status(status);
    for (const name of ["Status", "Job", "InControl"]) this.#state.get(name)?.status(status);
    for (const port of this.#ports.values()) for (const set of [port.line, port.fields]) set.status(status);
  }

  io(point: string, value: boolean, time: number, kind: IoPoint["kind"] | undefined): void {
    const known = this.#points.get(point);
    if (known) {
      known.set(bool(value), time);
      return;
    }
    const writable = kind === "output" || kind === "virtual";
    const made = new TypedVariable(this.#options.own, this.#io, point, bool(value), writable);
    made.set(bool(value), time);
    if (writable) this.#writable(made.variable, point);
    this.#points.set(point, made);
  }

  #writable(variable: UAVariable, point: string): void {
    restrictWrite(variable, "operator");
    const { writeIo, writeFailed } = this.#options;
    // Called only after node-opcua has checked the role and the type; the camera's answer decides.
    const setter = (dataValue: DataValue, callback: (error: Error | null, status?: StatusCode) => void) => {
      writeIo(point, dataValue.value.value === true).then(
        () => callback(null, StatusCodes.Good),
        (error: unknown) => callback(null, writeFailed(error)),
      );
    };
    (variable as unknown as { _timestamped_set_func: typeof setter })._timestamped_set_func = setter;
  }

  report(report: Report): void {
    for (const [name, datum] of Object.entries(report.results))
      this.#data.set(name, fromDatum(datum), report.time);
    this.#stats.set("CycleTimeMs", dbl(report.stats.cycleTimeMs), report.time);
    this.#stats.set("ProcessTimeMs", dbl(report.stats.processTimeMs), report.time);
    this.#stats.set("Dropped", u32(report.stats.dropped), report.time);
    this.#report.set("Passed", bool(report.passed), report.time);
    this.#report.set("Inspection", u32(report.inspection), report.time);
    this.#report.set("Recovered", bool(report.recovered), report.time);
    this.#report.set("Time", { dataType: DataType.DateTime, value: new Date(report.time) }, report.time);
    this.#report.set("Id", str(report.id), report.time);
    // Last: a client that watches Cycle sees the rest of the report already in place.
    this.#report.set("Cycle", u32(report.cycle), report.time);
  }

  gap(): void {
    this.#gaps += 1;
    this.#stats.set("Gaps", u32(this.#gaps));
  }

  serial(event: SerialLineEvent): void {
    let port = this.#ports.get(event.port);
    if (!port) {
      const { own } = this.#options;
      const folder = own.addFolder(this.#serialFolder, {
        browseName: `Port${event.port}`,
        nodeId: `s=${this.#serialFolder.nodeId.value}.Port${event.port}`,
      });
      const fields = own.addFolder(folder, {
        browseName: "Fields",
        nodeId: `s=${folder.nodeId.value}.Fields`,
      });
      port = { line: new VariableSet(own, folder), fields: new VariableSet(own, fields) };
      this.#ports.set(event.port, port);
    }
    for (const [name, value] of Object.entries(event.fields ?? {})) {
      const typed = fromSerial(value);
      if (typed) port.fields.set(name, typed, event.time);
      else port.fields.get(name)?.status(StatusCodes.UncertainNoCommunicationLastUsableValue);
    }
    port.line.set("Error", str(event.error ?? ""), event.time);
    port.line.set("Time", { dataType: DataType.DateTime, value: new Date(event.time) }, event.time);
    port.line.set("Line", str(event.raw), event.time);
    port.line.set("Seq", u32(event.seq), event.time);
  }
}
