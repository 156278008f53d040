import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Journal } from "../../../src/bridges/mqtt/journal.js";
import { journalDropNotice, journalGaps } from "../../../src/bridges/mqtt/keepers.js";
import { schemas } from "../../../src/bridges/mqtt/payloads.js";
import { Topics } from "../../../src/bridges/mqtt/topics.js";
import type { CameraEvent } from "../../../src/camera/index.js";
import { captureLog } from "../../support/log.js";
import { tempDir } from "../../support/process.js";
import { until } from "../../support/until.js";

const journals: Journal[] = [];
afterEach(() => {
  for (const j of journals.splice(0)) j.close();
});

const topics = new Topics("plant");
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
    dropNotice: journalDropNotice(topics),
  });
  j.open();
  journals.push(j);
  return j;
}

describe("the journal's gap recorder", () => {
  it("journals a camera's gap event on its topic, and the dropOldest policy keeps it", async () => {
    const j = journal();
    journalGaps(j, topics, captureLog().logger)(gap);
    for (let cycle = 1; cycle <= 100; cycle++)
      await j.append("plant/cam1/report/0", "x".repeat(1_000), {
        position: { camera: "cam1", inspection: 0, bootTime: 5, cycle },
      });
    expect(j.dropped).toBeGreaterThan(0);
    const [kept] = j.range(0, Number.MAX_SAFE_INTEGER, 1_000).filter((e) => e.topic === "plant/cam1/gap/2");
    expect(schemas.gap.parse(JSON.parse(kept?.payload.toString() ?? "{}"))).toMatchObject({
      camera: "cam1",
      inspection: 2,
      fromCycle: 10,
      toCycle: 14,
      reason: "no longer in the camera's part queue",
    });
  });

  it("logs a gap the journal refuses instead of failing the daemon with an unhandled rejection", async () => {
    const log = captureLog();
    const j = journal();
    j.close();
    journalGaps(j, topics, log.logger)(gap);
    await until(() => log.records().some((r) => r.msg === "gap event not journaled"));
    expect(log.text()).toContain("journal is not open");
  });
});
