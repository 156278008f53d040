import type { Field, KindName, Value } from "./types.js";

/** Builders for the fields of a message, so that call sites read like the profile's tables. */
export const f = {
  bool: (name: string, value: boolean): Field => ({ name, kind: "BOOL", value }),
  int: (name: string, value: number): Field => ({ name, kind: "INT", value }),
  float: (name: string, value: number): Field => ({ name, kind: "FLOAT", value }),
  text: (name: string, value: string): Field => ({ name, kind: "TEXT", value }),
  bytes: (name: string, value: Uint8Array): Field => ({ name, kind: "BYTES", value }),
  time: (name: string, value: number): Field => ({ name, kind: "TIME", value }),
  record: (name: string, value: readonly Field[]): Field => ({ name, kind: "RECORD", value }),
  list: (name: string, value: readonly Value[]): Field => ({ name, kind: "LIST", value }),
};

/** A required field that is missing or of another kind: the camera answers BAD_REQUEST for it. */
export class FieldError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = "FieldError";
    this.field = field;
  }
}

interface ValueMap {
  BOOL: boolean;
  INT: number;
  FLOAT: number;
  TEXT: string;
  BYTES: Uint8Array;
  TIME: number;
  RECORD: readonly Field[];
  LIST: readonly Value[];
}
type ValueOf<K extends KindName> = ValueMap[K];

/** Reads typed fields out of a message by name; the first field of a name wins. */
export class FieldReader {
  readonly #fields: readonly Field[];

  constructor(fields: readonly Field[]) {
    this.#fields = fields;
  }

  has(name: string): boolean {
    return this.#fields.some((field) => field.name === name);
  }

  optional<K extends KindName>(name: string, kind: K): ValueOf<K> | undefined {
    const field = this.#fields.find((candidate) => candidate.name === name);
    if (!field) return undefined;
    if (field.kind !== kind) throw new FieldError(name, `field ${name} is ${field.kind}, not ${kind}`);
    return field.value as unknown as ValueOf<K>;
  }

  required<K extends KindName>(name: string, kind: K): ValueOf<K> {
    const value = this.optional(name, kind);
    if (value === undefined) throw new FieldError(name, `field ${name} (${kind}) is missing`);
    return value;
  }

  text(name: string): string {
    return this.required(name, "TEXT");
  }
  int(name: string): number {
    return this.required(name, "INT");
  }
  float(name: string): number {
    return this.required(name, "FLOAT");
  }
  bool(name: string): boolean {
    return this.required(name, "BOOL");
  }
  time(name: string): number {
    return this.required(name, "TIME");
  }
  record(name: string): FieldReader {
    return new FieldReader(this.required(name, "RECORD"));
  }
  list(name: string): readonly Value[] {
    return this.required(name, "LIST");
  }
}

export function read(fields: readonly Field[]): FieldReader {
  return new FieldReader(fields);
}
