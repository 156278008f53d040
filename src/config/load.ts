import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { extname } from "node:path";
import convict from "convict";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { buildConfigSchema, type Config } from "./schema.js";
import { configLeaves, type Leaf, type LeafKind } from "./walk.js";

export interface ConfigSources {
  /** A JSON or YAML file; absent means defaults, environment and flags only. */
  readonly file?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Flags that set keys: `--http.port 9000` or `--http.port=9000`. */
  readonly args?: readonly string[];
}

// A string from the environment or a flag that does not convert stays a string, so that zod
// reports it with the key's path instead of convict throwing on the first one.
const COERCE: Record<LeafKind, (value: string) => unknown> = {
  number: (value) => (value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value),
  boolean: (value) =>
    ({ true: true, "1": true, yes: true, false: false, "0": false, no: false })[value] ?? value,
  string: (value) => value,
  secret: (value) => value,
  list: (value) =>
    value.trim().startsWith("[") ? tryJson(value) : value.split(",").map((item) => item.trim()),
  json: (value) => tryJson(value),
};

function tryJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function registerFormats(): void {
  for (const [kind, coerce] of Object.entries(COERCE)) {
    convict.addFormat({ name: `smartcam-${kind}`, validate: () => undefined, coerce });
  }
}

function convictSchema(leaves: readonly Leaf[]): convict.Schema<Record<string, unknown>> {
  const root: Record<string, unknown> = {};
  for (const leaf of leaves) {
    // null marks "not given"; zod's defaults fill it, so defaults live in one place only.
    setPath(root, leaf.path, {
      default: null,
      nullable: true,
      format: `smartcam-${leaf.kind}`,
      env: leaf.env,
      arg: leaf.arg,
    });
  }
  return root as convict.Schema<Record<string, unknown>>;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([{ path: file, message: `cannot read: ${(error as NodeJS.ErrnoException).code}` }]);
  }
  let data: unknown;
  try {
    data = extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError([
      {
        path: file,
        message: `not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(error as Error).message}`,
      },
    ]);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError([{ path: file, message: "must hold a mapping of keys at the top" }]);
  }
  return data as Record<string, unknown>;
}

function checkFlags(args: readonly string[], leaves: readonly Leaf[]): ConfigIssue[] {
  const known = new Set(leaves.map((leaf) => leaf.arg));
  return args
    .filter((arg) => arg.startsWith("--"))
    .map((arg) => arg.slice(2).split("=")[0] as string)
    .filter((name) => !known.has(name))
    .map((name) => ({ path: `--${name}`, message: "unknown flag: no such config key" }));
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** `SMARTCAM_X_FILE=/path` gives a secret key's value as a file, as container images commonly do. */
function secretFilesFromEnv(raw: Record<string, unknown>, leaves: readonly Leaf[], sources: ConfigSources) {
  const issues: ConfigIssue[] = [];
  for (const leaf of leaves.filter((l) => l.kind === "secret")) {
    const file = sources.env[`${leaf.env}_FILE`];
    if (file === undefined) continue;
    if (sources.env[leaf.env] !== undefined) {
      issues.push({
        path: `${leaf.env}_FILE`,
        message: `set either ${leaf.env} or ${leaf.env}_FILE, not both`,
      });
    } else if (!(sources.args ?? []).some((arg) => arg.startsWith(`--${leaf.arg}`))) {
      setPath(raw, leaf.path, { file });
    }
  }
  return issues;
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) if (child !== null) out[key] = withoutNulls(child);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: path ? `${path}.${key}` : key, message: "unknown key" }));
    }
    return [{ path: path || "(root)", message: issue.message }];
  });
}

/**
 * Layers defaults < file < environment < flags, validates the whole result against the schema,
 * resolves secrets and freezes it. Throws ConfigError listing every bad key at once.
 */
export function loadConfig(sources: ConfigSources): Config {
  const schema = buildConfigSchema({
    credentialsDirectory: sources.env.CREDENTIALS_DIRECTORY,
    stateDirectory: sources.env.STATE_DIRECTORY,
    hostname: hostname(),
  });
  const leaves = configLeaves(schema);
  const args = sources.args ?? [];
  const flagIssues = checkFlags(args, leaves);
  if (flagIssues.length > 0) throw new ConfigError(flagIssues);

  const file = sources.file === undefined ? {} : readConfigFile(sources.file);
  registerFormats();
  let raw: Record<string, unknown>;
  try {
    const layered = convict(convictSchema(leaves), { env: { ...sources.env }, args: [...args] });
    raw = layered.load(file).getProperties();
  } catch (error) {
    throw new ConfigError([{ path: sources.file ?? "(config)", message: (error as Error).message }]);
  }
  const envIssues = secretFilesFromEnv(raw, leaves, sources);
  const parsed = schema.safeParse(withoutNulls(raw));
  const issues = [...envIssues, ...(parsed.success ? [] : formatZodIssues(parsed.error.issues))];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  return deepFreeze(parsed.data) as Config;
}
