import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../src/config/json-schema.js";
import { CLI, ROOT, tempDir } from "./support/process.js";

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  return { code: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe("smartcam-bridge CLI", () => {
  it("prints the package version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(cli(["--version"]).stdout.trim()).toBe(version);
  });

  it("lists only the commands that exist", () => {
    const help = cli(["--help"]).stdout;
    for (const command of ["run", "check-config", "config-schema"]) expect(help).toContain(command);
  });

  it("check-config prints the effective config with secrets redacted and exits 0", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "tok-cli-SECRET");
    const file = join(dir, "c.yaml");
    writeFileSync(file, `http:\n  port: 9555\n  metricsToken: { file: ${join(dir, "token")} }\n`);
    const { code, stdout } = cli(["check-config", file, "--log.level", "warn"], {
      SMARTCAM_HTTP_HOST: "0.0.0.0",
    });
    expect(code).toBe(0);
    const effective = JSON.parse(stdout) as { http: Record<string, unknown>; log: { level: string } };
    expect(effective.http).toEqual({
      enabled: true,
      host: "0.0.0.0",
      port: 9555,
      metricsToken: "[redacted]",
      console: { enabled: true, users: [], sessionIdleMs: 8 * 3_600_000, maxClients: 100 },
    });
    expect(effective.log.level).toBe("warn");
    expect(stdout).not.toContain("tok-cli");
  });

  it("check-config --announce shows what the first matching discovery rule runs, secrets redacted", () => {
    const file = join(tempDir(), "c.yaml");
    writeFileSync(
      file,
      [
        "cameras:",
        "  discovery:",
        "    rules:",
        "      - match: { namePattern: '^line7-', model: VS-100 }",
        "        password: pw-RULE-SECRET",
        "        control: hold",
        "        commands: [status, trigger]",
        "        formattedOutput: [{ port: 49212, parse: { csv: { names: [result, cycle] } } }]",
        "      - match: { subnet: 10.9.0.0/16 }",
        "        adopt: false",
        "    adopt: { subnets: [10.0.0.0/8] }",
        "",
      ].join("\n"),
    );
    const run = (announce: Record<string, string>) =>
      cli(["check-config", file, "--announce", JSON.stringify(announce)]);
    const first = run({ name: "line7-cam", serial: "S7", ip: "10.9.1.7", model: "VS-100" });
    expect(first.code).toBe(0);
    const shown = JSON.parse(first.stdout) as {
      adopted: boolean;
      rule: number;
      camera: Record<string, unknown>;
    };
    expect(shown).toMatchObject({
      adopted: true,
      rule: 0,
      camera: {
        id: "line7-cam",
        address: "10.9.1.7",
        serial: "S7",
        password: "[redacted]",
        control: "hold",
        commands: ["status", "trigger"],
        formattedOutput: [{ port: 49212 }],
      },
    });
    expect(first.stdout).not.toContain("RULE-SECRET");
    // Another model: the first rule does not match, the second refuses the subnet.
    expect(
      JSON.parse(run({ name: "line7-cam", serial: "S8", ip: "10.9.1.8", model: "VS-200" }).stdout),
    ).toEqual({
      adopted: false,
      why: "rule 1, the first that matches, says adopt: false",
    });
    // The adopt shorthand comes last, with the defaults.
    expect(JSON.parse(run({ name: "x", serial: "S9", ip: "10.1.1.1" }).stdout)).toMatchObject({
      adopted: true,
      rule: 2,
      camera: { control: "onDemand", firstContact: "recover", formattedOutput: [] },
    });
    const bad = run({ name: "x", ip: "10.1.1.1" });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("--announce serial");
  });

  it("check-config exits 78 and names the keys on a bad config", () => {
    const file = join(tempDir(), "c.yaml");
    writeFileSync(file, "log:\n  levle: info\n");
    const { code, stderr, stdout } = cli(["check-config", file]);
    expect(code).toBe(78);
    expect(stderr).toContain("log.levle: unknown key");
    expect(stdout).toBe("");
  });

  it("validates the shipped example and demo configs", () => {
    for (const file of ["config/example.yaml", "config/demo.yaml"])
      expect(cli(["check-config", file]).code).toBe(0);
  });

  it("config-schema prints a JSON Schema generated from the config schema", () => {
    const schema = JSON.parse(execFileSync(process.execPath, [CLI, "config-schema"]).toString()) as {
      $schema: string;
      properties: Record<string, unknown>;
    };
    expect(schema.$schema).toMatch(/json-schema/);
    // What it prints is what the config module generates (whose sections test/config checks).
    expect(schema).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });
});
