import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/process.js";

const UNIT = join(ROOT, "deploy/systemd/smartcam-bridge.service");
// CI installs systemd, so there these checks always run; elsewhere they need systemd-analyze.
const runChecks = process.env.CI === "true" || spawnSync("systemd-analyze", ["--version"]).status === 0;

describe.runIf(runChecks)("the systemd unit", () => {
  it("passes systemd-analyze verify without a single warning", () => {
    const result = spawnSync("systemd-analyze", ["verify", UNIT], { encoding: "utf8" });
    // verify exits 0 even on parse errors: what it prints is the verdict.
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.status).toBe(0);
  });

  it("has an exposure score of 2.0 or lower in systemd-analyze security", () => {
    const result = spawnSync("systemd-analyze", ["security", "--offline=true", UNIT], { encoding: "utf8" });
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(result.stdout)?.[1]);
    console.info(`systemd-analyze security exposure: ${score}`);
    expect(score).toBeLessThanOrEqual(2.0);
  });

  it("declares what the daemon relies on", () => {
    const unit = readFileSync(UNIT, "utf8");
    for (const line of [
      "Type=notify",
      "Restart=on-failure",
      "RestartPreventExitStatus=78",
      "DynamicUser=yes",
      "StateDirectory=smartcam-bridge",
      "ConfigurationDirectory=smartcam-bridge",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(unit).toMatch(/^WatchdogSec=\d+s$/m);
    expect(unit).toMatch(/^LoadCredential=/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });
});
