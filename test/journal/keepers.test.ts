import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CameraEvent } from "../../src/camera/index.js";
import { Journal, journalGaps } from "../../src/journal/index.js";
import { captureLog } from "../support/log.js";
import { tempDir } from "../support/process.js";
import { until } from "../support/until.js";

const journals: Journal[] = [];
afterEach(() => {
  for (const j of journals.splice(0)) j.close();
});

const gap: CameraEvent = {
  type: "gap",
  cameraId: "cam1",
  inspection: 2,
  fromCycle: 10,
  toCycle: 14,
  bootTime: 1_700_000_000_000,
  reason: "no longer in the camera's part queue",
};

function journal(logger = captureLog().logger) {
  const j = new Journal({
    path: join(tempDir("keepers-"), "j.sqlite"),
    maxBytes: 65_536,
    policy: "dropOldest",
    fsync: false,
    logger,
    outputs: ["mqtt"],
  });
  j.open();
  journals.push(j);
  return j;
}

describe("the journal's gap recorder", () => {
  it("journals a camera's gap event, and the dropOldest policy keeps it", async () => {
    const j = journal();
    journalGaps(j, captureLog().logger)(gap);
    for (let cycle = 1; cycle <= 100; cycle++)
      await j.append({
        type: "serial",
        cameraId: "cam1",
        port: 1,
        output: "Output1",
        raw: "x".repeat(1_000),
        fields: undefined,
        error: undefined,
        time: 1,
        seq: cycle,
      });
    expect(j.dropped).toBeGreaterThan(0);
    const kept = j
      .output("mqtt")
      .range(0, Number.MAX_SAFE_INTEGER, 1_000)
      .filter((e) => e.record.type === "gap");
    expect(kept.map((e) => e.record)).toEqual([gap]);
  });

  it("logs a gap the journal refuses instead of failing the daemon with an unhandled rejection", async () => {
    const log = captureLog();
    const j = journal();
    j.close();
    journalGaps(j, log.logger)(gap);
    await until(() => log.records().some((r) => r.msg === "gap event not journaled"));
    expect(log.text()).toContain("journal is not open");
  });
});
