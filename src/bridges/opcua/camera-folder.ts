import {
  AccessLevelFlag,
  DataType,
  type DataValue,
  type Namespace,
  type StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
} from "node-opcua";
import type { CameraState, IoPoint, Report, SerialLineEvent } from "../../camera/index.js";
import { LINE, PRESENCE, REPORT, STATE, STATS } from "./folder-catalog.js";
import type { CameraModel, LearntType } from "./model-store.js";
import { restrictWrite } from "./permissions.js";
import { statusOf } from "./status.js";
import { fromDatum, fromSerial, type Typed, type TypedVariable, VariableSet } from "./values.js";

export interface CameraFolderOptions {
  readonly own: Namespace;
  readonly parent: UAObject;
  readonly cameraId: string;
  /** Writes an output or virtual point on the camera; rejects when the camera refuses. */
  readonly writeIo: (point: string, value: boolean) => Promise<void>;
  /** What an earlier run learnt of the camera: its nodes are made at once, before it is online. */
  readonly known?: CameraModel | undefined;
  /** Called when the camera showed a node not seen before. */
  readonly learnt?: () => void;
}

const typeOf = (name: LearntType): Typed => ({ dataType: DataType[name], value: null });

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
    this.node = own.addFolder(parent, {
      browseName: cameraId,
      nodeId: `s=${cameraId}`,
      description: `camera ${cameraId} as plain variables`,
    });
    const folder = (name: string, description: string, under: UAObject = this.node) =>
      own.addFolder(under, { browseName: name, nodeId: `s=${under.nodeId.value}.${name}`, description });
    this.#presence = new VariableSet(own, this.node);
    this.#state = new VariableSet(own, this.node);
    this.#io = new VariableSet(own, folder("IO", "the camera's IO points as it last told them"), {
      describe: (name) => `IO point ${name}`,
    });
    const report = folder("LastReport", "the last report any inspection made");
    this.#report = new VariableSet(own, report);
    this.#data = new VariableSet(
      own,
      folder("Data", "one variable per datum path, browsed as folders", report),
      {
        paths: true,
        describe: (name) => `datum ${name} of the last report`,
      },
    );
    this.#stats = new VariableSet(
      own,
      folder("Statistics", "counts and times, as the camera's reports give them"),
    );
    this.#serialFolder = folder(
      "FormattedOutput",
      "the last line of each formatted output, by its configured name",
    );
    // Made up front, so that a client can subscribe before the first report.
    for (const [set, table] of [
      [this.#presence, PRESENCE],
      [this.#state, STATE],
      [this.#report, REPORT],
    ] as const)
      for (const [name, dataType, description] of table)
        set.create(name, { dataType, value: null }, { description });
    for (const [name, dataType, description, unit] of STATS)
      this.#stats.create(name, { dataType, value: null }, { description, unit });
    const known = options.known;
    for (const point of known?.io ?? []) this.#point(point.name, point.kind);
    for (const datum of known?.data ?? []) this.#data.create(datum.name, typeOf(datum.dataType));
    for (const output of known?.outputs ?? []) {
      const port = this.#output(output.name);
      for (const field of output.fields) port.fields.create(field.name, typeOf(field.dataType));
    }
    this.#building = false;
  }

  /** While the constructor makes what an earlier run learnt, nothing is new. */
  #building = true;

  /** What the camera has shown of itself: kept by the bridge, so that a restart makes the same nodes. */
  get model(): Omit<CameraModel, "identity"> {
    const named = (types: { name: string; dataType: DataType }[]) =>
      types.map(({ name, dataType }) => ({ name, dataType: DataType[dataType] as LearntType }));
    return {
      io: [...this.#kinds].map(([name, kind]) => ({ name, kind })),
      data: named(this.#data.types),
      outputs: [...this.#outputs].map(([name, port]) => ({ name, fields: named(port.fields.types) })),
    };
  }

  /** Kinds of the IO points seen; a point first seen in a change without its kind is an input until listed. */
  readonly #kinds = new Map<string, IoPoint["kind"]>();

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
    this.#point(point, kind ?? this.#kinds.get(point) ?? "input").set(bool(value), new Date(time));
  }

  #point(point: string, kind: IoPoint["kind"]): TypedVariable {
    const known = this.#io.get(point);
    if (known && this.#kinds.get(point) === kind) return known;
    if (known) {
      // A point first heard in a change, now listed with its kind: only its writability can change.
      this.#kinds.set(point, kind);
      this.#learnt();
      if (kind !== "input") this.#writable(known.variable, point);
      return known;
    }
    this.#kinds.set(point, kind);
    this.#learnt();
    const writable = kind === "output" || kind === "virtual";
    const made = this.#io.create(point, bool(false), {
      writable,
      description: `${kind} point ${point}${writable ? "; an operator or engineer may write it" : ""}`,
    });
    if (writable) this.#writable(made.variable, point);
    return made;
  }

  #learnt(): void {
    if (!this.#building) this.#options.learnt?.();
  }

  #writable(variable: UAVariable, point: string): void {
    variable.accessLevel = AccessLevelFlag.CurrentRead | AccessLevelFlag.CurrentWrite;
    variable.userAccessLevel = AccessLevelFlag.CurrentRead | AccessLevelFlag.CurrentWrite;
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
    let learnt = false;
    for (const [name, datum] of Object.entries(report.results)) {
      learnt ||= !this.#data.get(name);
      this.#data.set(name, fromDatum(datum), at);
    }
    if (learnt) this.#learnt();
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

  /** A formatted output's folder, by its configured name: a port change keeps its NodeIds. */
  #output(name: string): { line: VariableSet; fields: VariableSet } {
    const known = this.#outputs.get(name);
    if (known) return known;
    const { own } = this.#options;
    const folder = own.addFolder(this.#serialFolder, {
      browseName: name,
      description: `formatted output ${name}`,
      nodeId: `s=${this.#serialFolder.nodeId.value}.${name}`,
    });
    const fields = own.addFolder(folder, {
      browseName: "Fields",
      nodeId: `s=${folder.nodeId.value}.Fields`,
      description: "the last line's fields, typed as the output's format parses them",
    });
    const port = {
      line: new VariableSet(own, folder),
      fields: new VariableSet(own, fields, {
        describe: (field) => `field ${field} of output ${name}'s last line`,
      }),
    };
    for (const [line, dataType, description] of LINE)
      port.line.create(line, { dataType, value: null }, { description });
    this.#outputs.set(name, port);
    this.#learnt();
    return port;
  }

  serial(event: SerialLineEvent): void {
    const port = this.#output(event.output);
    const at = new Date(event.time);
    for (const [name, value] of Object.entries(event.fields ?? {})) {
      const typed = fromSerial(value);
      if (!typed) {
        port.fields.get(name)?.status(StatusCodes.UncertainNoCommunicationLastUsableValue);
        continue;
      }
      const learnt = !port.fields.get(name);
      port.fields.set(name, typed, at);
      if (learnt) this.#learnt();
    }
    port.line.set("Error", str(event.error ?? ""), at);
    port.line.set("Time", { dataType: DataType.DateTime, value: at }, at);
    port.line.set("Line", str(event.raw), at);
    port.line.set("Port", u32(event.port), at);
    port.line.set("Seq", u32(event.seq), at);
  }
}
