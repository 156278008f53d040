import { z } from "zod";
import { SECRET_META } from "./secret.js";

/** How a string from the environment or a flag becomes a value of the key's type. */
export type LeafKind = "number" | "boolean" | "string" | "list" | "json" | "secret";

export interface Leaf {
  readonly path: readonly string[];
  readonly kind: LeafKind;
  /** SMARTCAM_ + the key path in capitals: http.port -> SMARTCAM_HTTP_PORT, stopTimeoutMs -> STOP_TIMEOUT_MS. */
  readonly env: string;
  /** The command-line flag, without dashes: the dotted key path. */
  readonly arg: string;
}

type AnySchema = z.core.$ZodType;

const WRAPPERS = new Set(["default", "prefault", "optional", "nullable", "readonly", "catch", "nonoptional"]);

function isSecret(schema: AnySchema): boolean {
  return z.globalRegistry.get(schema)?.[SECRET_META] === true;
}

function unwrap(schema: AnySchema): { inner: AnySchema; secret: boolean } {
  let current = schema;
  let secret = isSecret(current);
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else return { inner: current, secret };
    secret ||= isSecret(current);
  }
}

function kindOf(schema: AnySchema): LeafKind {
  switch (schema._zod.def.type) {
    case "number":
    case "int":
      return "number";
    case "boolean":
      return "boolean";
    case "string":
    case "enum":
    case "literal":
      return "string";
    case "array":
      return "list";
    default:
      return "json";
  }
}

export function envName(path: readonly string[]): string {
  const words = path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, "$1_$2"));
  return `SMARTCAM_${words.join("_").toUpperCase()}`;
}

/** Every leaf key of the schema: nested objects are walked, anything else is one value. */
export function configLeaves(schema: AnySchema): Leaf[] {
  const leaves: Leaf[] = [];
  const visit = (node: AnySchema, path: string[]) => {
    const { inner, secret } = unwrap(node);
    const def = inner._zod.def as { type: string; shape?: Record<string, AnySchema> };
    if (!secret && def.type === "object" && def.shape) {
      for (const [key, child] of Object.entries(def.shape)) visit(child, [...path, key]);
      return;
    }
    leaves.push({ path, kind: secret ? "secret" : kindOf(inner), env: envName(path), arg: path.join(".") });
  };
  visit(schema, []);
  return leaves;
}
