import {
  DataType,
  makeEUInformation,
  type Namespace,
  type StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
  Variant,
} from "node-opcua";
import { type Datum, datumToJson, type SerialValue } from "../../camera/index.js";
import { readOnlySubtree } from "./permissions.js";

export interface Typed {
  readonly dataType: DataType;
  readonly value: unknown;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** One OPC UA type per datum type; records and lists, which SCADA tags cannot hold, become the JSON MQTT carries. */
export function fromDatum(datum: Datum): Typed {
  switch (datum.type) {
    case "bool":
      return { dataType: DataType.Boolean, value: datum.value };
    case "int":
      return { dataType: DataType.Int32, value: datum.value };
    case "float":
      return { dataType: DataType.Double, value: datum.value };
    case "text":
      return { dataType: DataType.String, value: datum.value };
    case "bytes":
      return { dataType: DataType.ByteString, value: Buffer.from(datum.value) };
    case "time":
      return { dataType: DataType.DateTime, value: new Date(datum.value) };
    default:
      return { dataType: DataType.String, value: JSON.stringify(datumToJson(datum).value) };
  }
}

/** A formatted-output field; null (an empty field) is undefined: the variable keeps its type. */
export function fromSerial(value: SerialValue): Typed | undefined {
  if (value === null) return undefined;
  if (typeof value === "number") return { dataType: DataType.Double, value };
  if (typeof value === "boolean") return { dataType: DataType.Boolean, value };
  return { dataType: DataType.String, value };
}

const NUMERIC = new Set([DataType.Int32, DataType.Double]);

/** The units the bridge knows, by UNECE code, with the range their values can take. */
const UNITS = {
  ms: { info: makeEUInformation("C26", "ms", "millisecond"), range: { low: 0, high: 86_400_000 } },
  count: { info: makeEUInformation("C62", "1", "one (a count)"), range: { low: 0, high: 2 ** 32 - 1 } },
} as const;
export type Unit = keyof typeof UNITS;

export interface VariableMeta {
  readonly description?: string | undefined;
  /** Known units make an AnalogItemType with EngineeringUnits and EURange. */
  readonly unit?: Unit | undefined;
  readonly writable?: boolean | undefined;
}

/**
 * A variable whose type is fixed when first seen. A later value of another type is converted when
 * both are numbers, and otherwise marked BadTypeMismatch rather than silently retyped under a client.
 */
export class TypedVariable {
  readonly variable: UAVariable;
  readonly dataType: DataType;
  /** Whether the last value came from the camera, so that it may turn Good again. */
  #real = false;

  constructor(
    namespace: Namespace,
    place: { parent: UAObject; browseName: string; nodeId: string },
    first: Typed,
    meta: VariableMeta = {},
  ) {
    this.dataType = first.dataType;
    const access = meta.writable ? "CurrentRead | CurrentWrite" : "CurrentRead";
    const options = {
      componentOf: place.parent,
      browseName: place.browseName,
      nodeId: place.nodeId,
      dataType: first.dataType,
      ...(meta.description ? { description: meta.description } : {}),
      minimumSamplingInterval: 0,
      accessLevel: access,
      userAccessLevel: access,
    } as const;
    const unit = meta.unit ? UNITS[meta.unit] : undefined;
    this.variable = unit
      ? namespace.addAnalogDataItem({
          ...options,
          dataType: DataType[first.dataType],
          engineeringUnits: unit.info,
          engineeringUnitsRange: unit.range,
        })
      : namespace.addVariable(options);
    // AnalogItemType's EURange is writable as instantiated; a range is the bridge's to say.
    if (unit) readOnlySubtree(this.variable);
    // Nothing here has a value yet: a read says so rather than showing a default as data.
    this.variable.setValueFromSource({ dataType: DataType.Null }, StatusCodes.BadWaitingForInitialData);
    this.#flushOnRead();
  }

  set(typed: Typed, timestamp?: Date): void {
    let { value } = typed;
    let status: StatusCode = StatusCodes.Good;
    if (typed.dataType !== this.dataType) {
      if (NUMERIC.has(typed.dataType) && NUMERIC.has(this.dataType)) value = Number(value);
      else status = StatusCodes.BadTypeMismatch;
    }
    if (this.dataType === DataType.Int32 && typeof value === "number") {
      if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
        status = StatusCodes.BadOutOfRange;
        value = undefined;
      }
    }
    if (status !== StatusCodes.Good) {
      this.status(status, timestamp);
      return;
    }
    this.#real = true;
    this.#last = { value };
    this.#write({ last: this.#last, status, timestamp });
  }

  /** The camera is back: its last value is current again until the camera says otherwise. */
  restore(): void {
    if (this.#real && this.#status !== StatusCodes.Good) this.status(StatusCodes.Good);
  }

  /** Keeps the last value and changes only its status: what SCADA expects of a lost device. */
  status(status: StatusCode, timestamp?: Date): void {
    this.#write({ last: this.#last, status, timestamp });
  }

  #last: { readonly value: unknown } | undefined;
  #status: StatusCode = StatusCodes.BadWaitingForInitialData;
  #pending: Pending | undefined;

  /**
   * A value nobody monitors waits here, unbuilt, until a client reads the variable or starts
   * monitoring it: node-opcua's Variant and DataValue per change are most of what a report costs,
   * and a camera's variables are mostly unwatched.
   */
  #write(change: Pending): void {
    this.#status = change.status;
    if (this.variable.listenerCount("value_changed") === 0) {
      this.#pending = change;
      return;
    }
    // A change held back before the first monitor came is delivered too, in order.
    this.#flush();
    this.#apply(change);
  }

  #flush(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    this.#apply(pending);
  }

  #apply({ last, status, timestamp }: Pending): void {
    const variant = last
      ? new Variant({ dataType: this.dataType, value: last.value })
      : new Variant({ dataType: DataType.Null });
    this.variable.setValueFromSource(variant, status, timestamp);
  }

  /** Every read (a client's Read, a sampling monitor, a new monitor's first value) sees the latest. */
  #flushOnRead(): void {
    const variable = this.variable as unknown as { readValue: (...args: unknown[]) => unknown };
    const read = variable.readValue.bind(variable);
    variable.readValue = (...args: unknown[]) => {
      this.#flush();
      return read(...args);
    };
  }
}

interface Pending {
  readonly last: { readonly value: unknown } | undefined;
  readonly status: StatusCode;
  readonly timestamp: Date | undefined;
}

/**
 * Every TypedVariable under a parent, by name: made on first sight. Its NodeId is the parent's
 * and the name, whole; with `paths`, a dotted name (a datum path such as Snapshot1.Blob1.Count)
 * is browsed as folders, Snapshot1/Blob1/Count, under the same NodeId.
 */
export class VariableSet {
  readonly #namespace: Namespace;
  readonly #parent: UAObject;
  readonly #paths: boolean;
  readonly #variables = new Map<string, TypedVariable>();
  readonly #folders = new Map<string, UAObject>();

  readonly #describe: ((name: string) => string) | undefined;

  constructor(
    namespace: Namespace,
    parent: UAObject,
    options: { paths?: boolean; describe?: (name: string) => string } = {},
  ) {
    this.#namespace = namespace;
    this.#parent = parent;
    this.#paths = options.paths ?? false;
    this.#describe = options.describe;
  }

  get names(): string[] {
    return [...this.#variables.keys()];
  }

  #place(name: string): { parent: UAObject; browseName: string; nodeId: string } {
    const nodeId = `s=${this.#parent.nodeId.value}.${name}`;
    const parts = this.#paths ? name.split(".").filter(Boolean) : [name];
    if (parts.length < 2) return { parent: this.#parent, browseName: name, nodeId };
    let parent = this.#parent;
    let path = "";
    for (const part of parts.slice(0, -1)) {
      path = path ? `${path}.${part}` : part;
      const existing =
        this.#folders.get(path) ?? (this.#variables.get(path)?.variable as UAObject | undefined);
      parent =
        existing ??
        this.#namespace.addFolder(parent, {
          browseName: part,
          nodeId: `s=${this.#parent.nodeId.value}.${path}`,
          description: `the datums under ${path}`,
        });
      if (!existing) this.#folders.set(path, parent);
    }
    return { parent, browseName: parts.at(-1) as string, nodeId };
  }

  get(name: string): TypedVariable | undefined {
    return this.#variables.get(name);
  }

  /** Writes the value, making the variable (read-only) on first sight. */
  set(name: string, typed: Typed, timestamp?: Date): TypedVariable {
    const variable = this.#variables.get(name) ?? this.create(name, typed);
    variable.set(typed, timestamp);
    return variable;
  }

  /** Makes a variable without a value yet (it reads BadWaitingForInitialData until set). */
  create(name: string, first: Typed, meta: VariableMeta = {}): TypedVariable {
    const made = new TypedVariable(this.#namespace, this.#place(name), first, {
      description: this.#describe?.(name),
      ...meta,
    });
    this.#variables.set(name, made);
    return made;
  }

  /** Each variable's name and type, for the model store. */
  get types(): { name: string; dataType: DataType }[] {
    return [...this.#variables].map(([name, variable]) => ({ name, dataType: variable.dataType }));
  }

  status(status: StatusCode): void {
    for (const variable of this.#variables.values()) variable.status(status);
  }

  restore(): void {
    for (const variable of this.#variables.values()) variable.restore();
  }
}
