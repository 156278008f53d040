import { join } from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Journal, type JournalOptions } from "../../../src/bridges/mqtt/journal.js";
import { tempDir } from "../../support/process.js";

const journals: Journal[] = [];
afterEach(() => {
  for (const j of journals.splice(0)) j.close();
});

function opened(path: string, options: Partial<JournalOptions> = {}) {
  const journal = new Journal({
    path,
    maxBytes: 1 << 20,
    policy: "block",
    fsync: false,
    logger: pino({ level: "silent" }),
    ...options,
  });
  journal.open();
  journals.push(journal);
  return journal;
}

const dropping = (path = join(tempDir("journal-"), "j.sqlite")) =>
  opened(path, {
    maxBytes: 1_000,
    policy: "dropOldest",
    dropNotice: (run) => ({ topic: `gap/${run.camera}`, payload: JSON.stringify(run) }),
  });

const report = (journal: Journal, cycle: number, bootTime = 5_000) =>
  journal.append("report/cam1", "x".repeat(90), {
    position: { camera: "cam1", inspection: 0, bootTime, cycle },
  });

const notices = (journal: Journal) =>
  journal
    .range(0, Number.MAX_SAFE_INTEGER, 1_000)
    .filter((e) => e.topic.startsWith("gap/"))
    .map((e) => JSON.parse(e.payload.toString()) as { bootTime: number; fromCycle: number; toCycle: number });

describe("the journal's dropOldest policy", () => {
  it("tells of the reports it drops in one notice that grows while unsent, and keeps the notice", async () => {
    const journal = dropping();
    for (let cycle = 1; cycle <= 40; cycle++) await report(journal, cycle);
    expect(journal.bytes).toBeLessThanOrEqual(1_000);
    const entries = journal.range(0, Number.MAX_SAFE_INTEGER, 1_000);
    const kept = entries.filter((e) => e.topic === "report/cam1").length;
    expect(journal.dropped).toBe(40 - kept);
    // range() handed the notice out: the next drops start a notice of their own.
    expect(notices(journal)).toEqual([
      { camera: "cam1", inspection: 0, bootTime: 5_000, fromCycle: 1, toCycle: 40 - kept },
    ]);
    for (let cycle = 41; cycle <= 45; cycle++) await report(journal, cycle);
    const [first, second] = notices(journal);
    expect(first).toMatchObject({ fromCycle: 1, toCycle: 40 - kept });
    expect(second?.fromCycle).toBe(41 - kept);
    // Every dropped report lies in exactly one notice.
    const told = [first, second].reduce((sum, n) => sum + (n ? n.toCycle - n.fromCycle + 1 : 0), 0);
    expect(told).toBe(journal.dropped);
  });

  it("starts a new notice when the dropped cycles are not consecutive, or are of another boot", async () => {
    const journal = dropping();
    for (const [cycle, boot] of [
      [1, 5_000],
      [2, 5_000],
      [7, 5_000],
      [1, 9_000],
    ] as const)
      await report(journal, cycle, boot);
    for (let i = 0; i < 12; i++) await journal.append("serial/cam1", "y".repeat(90));
    expect(notices(journal).map((n) => [n.bootTime, n.fromCycle, n.toCycle])).toEqual([
      [5_000, 1, 2],
      [5_000, 7, 7],
      [9_000, 1, 1],
    ]);
  });

  it("opens a journal written before reports carried their position, and replays what it holds", () => {
    const path = join(tempDir("journal-"), "old.sqlite");
    const db = new Database(path);
    db.exec(
      "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL, bytes INTEGER NOT NULL)",
    );
    db.prepare("INSERT INTO outbox (topic, payload, bytes) VALUES (?, ?, ?)").run("t", Buffer.from("{}"), 2);
    db.close();
    const journal = dropping(path);
    expect(journal.range(0, journal.replayEnd, 10).map((e) => [e.topic, e.replayed])).toEqual([["t", true]]);
  });
});

describe("the journal's resume positions", () => {
  it("keeps the last position of each inspection appended in one batch, and they survive a reopen", async () => {
    const path = join(tempDir("journal-"), "j.sqlite");
    const journal = opened(path);
    const at = (camera: string, inspection: number, cycle: number) =>
      journal.append(`report/${camera}`, "x", { position: { camera, inspection, bootTime: 7, cycle } });
    // One turn of the event loop: one transaction holding all of them.
    await Promise.all([
      at("cam1", 0, 1),
      at("cam1", 1, 50),
      at("cam2", 0, 9),
      at("cam1", 0, 2),
      at("cam1", 0, 3),
    ]);
    journal.close();
    const reopened = opened(path);
    const byKey = (p: { camera: string; inspection: number }) => `${p.camera}/${p.inspection}`;
    expect([...reopened.positions()].sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual([
      { camera: "cam1", inspection: 0, bootTime: 7, cycle: 3 },
      { camera: "cam1", inspection: 1, bootTime: 7, cycle: 50 },
      { camera: "cam2", inspection: 0, bootTime: 7, cycle: 9 },
    ]);
    expect(reopened.count).toBe(5);
  });
});
