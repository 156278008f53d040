import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_ARGS } from "../../../src/bridges/command-schemas.js";
import { payloadJsonSchemas } from "../../../src/bridges/mqtt/payloads.js";
import { ROOT } from "../../support/process.js";

describe("docs/mqtt.md and docs/mqtt-schemas.json", () => {
  it("hold the payload schemas the code has (regenerate with smartcam-bridge mqtt-schema)", () => {
    const documented = JSON.parse(readFileSync(join(ROOT, "docs/mqtt-schemas.json"), "utf8")) as unknown;
    expect(documented).toEqual(JSON.parse(JSON.stringify(payloadJsonSchemas())));
  });

  it("name every command the bridge accepts", () => {
    const doc = readFileSync(join(ROOT, "docs/mqtt.md"), "utf8");
    for (const name of Object.keys(COMMAND_ARGS)) expect(doc).toContain(`\`${name}\``);
  });
});
