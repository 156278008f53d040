import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { changedKeys } from "../../src/config/diff.js";
import { ConfigError } from "../../src/config/errors.js";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { loadConfig } from "../../src/config/load.js";
import { buildConfigSchema } from "../../src/config/schema.js";
import { Secret } from "../../src/config/secret.js";
import { tempDir } from "../support/process.js";

function write(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives the documented defaults when nothing is set", () => {
    const config = loadConfig({ env: {} });
    expect(config.http).toEqual({
      enabled: true,
      host: "127.0.0.1",
      port: 9180,
      // Read-only: no users, no login, no action.
      console: { enabled: true, users: [], sessionIdleMs: 8 * 3_600_000, maxClients: 100 },
    });
    expect(config.log.level).toBe("info");
    expect(config.daemon).toEqual({
      stateDirectory: "state",
      stopTimeoutMs: 10_000,
      heap: { growthPercent: 0, newSpaceGrowthFactor: 2 },
      overload: { lagMs: 500, windowMs: 5_000 },
    });
  });

  it("takes the state folder from systemd's STATE_DIRECTORY unless the config sets one", () => {
    expect(loadConfig({ env: { STATE_DIRECTORY: "/var/lib/x" } }).daemon.stateDirectory).toBe("/var/lib/x");
    const file = write("c.yaml", "daemon:\n  stateDirectory: /srv/y\n");
    expect(loadConfig({ file, env: { STATE_DIRECTORY: "/var/lib/x" } }).daemon.stateDirectory).toBe("/srv/y");
  });

  it("layers defaults < file < environment < flags", () => {
    const file = write("c.yaml", "http:\n  port: 1001\n  host: 0.0.0.0\nlog:\n  level: debug\n");
    const fromFile = loadConfig({ file, env: {} });
    expect([fromFile.http.port, fromFile.http.host, fromFile.log.level]).toEqual([1001, "0.0.0.0", "debug"]);
    const fromEnv = loadConfig({
      file,
      env: { SMARTCAM_HTTP_PORT: "1002", SMARTCAM_DAEMON_STOP_TIMEOUT_MS: "2500" },
    });
    expect([fromEnv.http.port, fromEnv.http.host, fromEnv.daemon.stopTimeoutMs]).toEqual([
      1002,
      "0.0.0.0",
      2500,
    ]);
    const fromFlag = loadConfig({ file, env: { SMARTCAM_HTTP_PORT: "1002" }, args: ["--http.port", "1003"] });
    expect(fromFlag.http.port).toBe(1003);
    expect(loadConfig({ env: {}, args: ["--http.enabled=false"] }).http.enabled).toBe(false);
  });

  it("reads JSON files as well as YAML", () => {
    const file = write("c.json", JSON.stringify({ http: { port: 4321 } }));
    expect(loadConfig({ file, env: {} }).http.port).toBe(4321);
  });

  it("names every bad key with its path and reason at once", () => {
    const file = write("c.yaml", "http:\n  port: 70000\n  prot: 1\nlog:\n  level: loud\nextra: true\n");
    const issues = issuesOf(() => loadConfig({ file, env: { SMARTCAM_DAEMON_STOP_TIMEOUT_MS: "soon" } }));
    const paths = issues.map((issue) => issue.path).sort();
    expect(paths).toEqual(["daemon.stopTimeoutMs", "extra", "http.port", "http.prot", "log.level"]);
    expect(issues.find((i) => i.path === "http.prot")?.message).toBe("unknown key");
    expect(issues.find((i) => i.path === "daemon.stopTimeoutMs")?.message).toMatch(/expected number/);
    expect(issues.find((i) => i.path === "http.port")?.message).toMatch(/65535/);
  });

  it("rejects an unknown flag, a missing file, a bad YAML file and a file that is not a mapping", () => {
    expect(issuesOf(() => loadConfig({ env: {}, args: ["--http.prot", "1"] }))[0]).toEqual({
      path: "--http.prot",
      message: "unknown flag: no such config key",
    });
    expect(issuesOf(() => loadConfig({ file: "/nonexistent/c.yaml", env: {} }))[0]?.message).toMatch(
      /ENOENT/,
    );
    expect(issuesOf(() => loadConfig({ file: write("c.yaml", "http: [\n"), env: {} }))[0]?.message).toMatch(
      /not valid YAML/,
    );
    expect(issuesOf(() => loadConfig({ file: write("c.yaml", "- 1\n"), env: {} }))[0]?.message).toMatch(
      /mapping/,
    );
  });

  it("accepts an empty file as all defaults", () => {
    expect(loadConfig({ file: write("c.yaml", ""), env: {} }).http.port).toBe(9180);
  });

  it("freezes the result deeply", () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe("secrets", () => {
  it("reads a secret from a file, dropping the trailing newline", () => {
    const secretFile = write("token", "tok-from-file\n");
    const file = write("c.yaml", `http:\n  metricsToken: { file: ${secretFile} }\n`);
    const token = loadConfig({ file, env: {} }).http.metricsToken;
    expect(token).toBeInstanceOf(Secret);
    expect(token?.reveal()).toBe("tok-from-file");
  });

  it("reads a systemd credential from $CREDENTIALS_DIRECTORY", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "metrics-token"), "tok-credential");
    const file = write("c.yaml", "http:\n  metricsToken: { credential: metrics-token }\n");
    const config = loadConfig({ file, env: { CREDENTIALS_DIRECTORY: dir } });
    expect(config.http.metricsToken?.reveal()).toBe("tok-credential");
    const issues = issuesOf(() => loadConfig({ file, env: {} }));
    expect(issues[0]).toEqual({
      path: "http.metricsToken",
      message: 'credential "metrics-token" given but CREDENTIALS_DIRECTORY is not set',
    });
  });

  it("takes SMARTCAM_<KEY>_FILE from the environment, and refuses it beside SMARTCAM_<KEY>", () => {
    const secretFile = write("token", "tok-env-file");
    const env = { SMARTCAM_HTTP_METRICS_TOKEN_FILE: secretFile };
    expect(loadConfig({ env }).http.metricsToken?.reveal()).toBe("tok-env-file");
    const both = { ...env, SMARTCAM_HTTP_METRICS_TOKEN: "x" };
    expect(issuesOf(() => loadConfig({ env: both }))[0]?.path).toBe("SMARTCAM_HTTP_METRICS_TOKEN_FILE");
  });

  it("names the key whose secret file cannot be read, without showing any secret", () => {
    const file = write("c.yaml", "http:\n  metricsToken: { file: /nonexistent/token }\n");
    expect(issuesOf(() => loadConfig({ file, env: {} }))).toEqual([
      { path: "http.metricsToken", message: "cannot read secret file /nonexistent/token: ENOENT" },
    ]);
  });

  it("never shows the value in JSON, strings or inspection", () => {
    const config = loadConfig({ env: { SMARTCAM_HTTP_METRICS_TOKEN: "hunter2-secret" } });
    expect(JSON.stringify(config)).not.toContain("hunter2");
    expect(JSON.stringify(config)).toContain('"metricsToken":"[redacted]"');
    expect(inspect(config, { depth: 10 })).not.toContain("hunter2");
    expect(`${config.http.metricsToken}`).toBe("[redacted]");
  });
});

describe("changedKeys", () => {
  it("lists the leaf paths that differ, comparing secrets by value", () => {
    const a = loadConfig({ env: { SMARTCAM_HTTP_METRICS_TOKEN: "one" } });
    const b = loadConfig({ env: { SMARTCAM_HTTP_METRICS_TOKEN: "two" }, args: ["--log.level", "debug"] });
    expect(changedKeys(a, b).sort()).toEqual(["http.metricsToken", "log.level"]);
    expect(changedKeys(a, loadConfig({ env: { SMARTCAM_HTTP_METRICS_TOKEN: "one" } }))).toEqual([]);
  });
});

describe("configJsonSchema", () => {
  it("refuses Sparkplug ids that are not one topic level, naming the key", () => {
    for (const key of ["groupId", "nodeId", "primaryHostId"])
      for (const id of ["a/b", "plant+", "#"]) {
        const result = buildConfigSchema().safeParse({ sparkplug: { [key]: id } });
        expect(result.success).toBe(false);
        expect(result.error?.issues[0]).toMatchObject({ path: ["sparkplug", key], message: "no +, # or /" });
      }
  });

  it("describes every section with defaults and forbids unknown keys", () => {
    const schema = configJsonSchema() as {
      additionalProperties: boolean;
      properties: Record<string, { properties: Record<string, { default?: unknown; description?: string }> }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual([
      "cameras",
      "daemon",
      "http",
      "log",
      "mqtt",
      "opcua",
      "simulator",
      "sparkplug",
    ]);
    expect(schema.properties.http?.properties.port?.default).toBe(9180);
    expect(schema.properties.sparkplug?.properties.enabled?.default).toBe(false);
    expect(schema.properties.opcua?.properties.allowUnsecured?.default).toBe(false);
    expect(schema.properties.opcua?.properties.autoAcceptCertificates?.default).toBe(false);
    expect(schema.properties.http?.properties.metricsToken?.description).toMatch(/Bearer/);
  });
});

describe("the cameras section", () => {
  it("takes static cameras with secrets, and names a bad entry by its index", () => {
    const secretFile = write("cam-pw", "pw-cam\n");
    const file = write(
      "c.yaml",
      `cameras:\n  static:\n    - id: line1\n      address: 10.0.0.5\n      password: { file: ${secretFile} }\n    - id: "bad id"\n      address: not-an-ip\n      control: sometimes\n`,
    );
    const issues = issuesOf(() => loadConfig({ file, env: {} }));
    expect(issues.map((i) => i.path).sort()).toEqual([
      "cameras.static.1.address",
      "cameras.static.1.control",
      "cameras.static.1.id",
    ]);
    const good = write(
      "g.yaml",
      `cameras:\n  static:\n    - id: line1\n      address: 10.0.0.5\n      password: { file: ${secretFile} }\n`,
    );
    const config = loadConfig({ file: good, env: {} });
    expect(config.cameras.static[0]?.password?.reveal()).toBe("pw-cam");
    expect(JSON.stringify(config)).not.toContain("pw-cam");
  });

  it("takes the default camera password from SMARTCAM_CAMERAS_DEFAULTS_PASSWORD_FILE", () => {
    const secretFile = write("cam-pw", "pw-default");
    const config = loadConfig({ env: { SMARTCAM_CAMERAS_DEFAULTS_PASSWORD_FILE: secretFile } });
    expect(config.cameras.defaults.password?.reveal()).toBe("pw-default");
  });
});
