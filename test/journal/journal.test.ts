import { join } from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Report } from "../../src/camera/index.js";
import { Journal, type JournalOptions, type JournalRecord } from "../../src/journal/index.js";
import { captureLog } from "../support/log.js";
import { tempDir } from "../support/process.js";
import { until } from "../support/until.js";

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
    outputs: ["mqtt"],
    ...options,
  });
  journal.open();
  journals.push(journal);
  return journal;
}

const newPath = () => join(tempDir("journal-"), "j.sqlite");
const ALL = Number.MAX_SAFE_INTEGER;

function reportOf(cycle: number, bootTime = 5_000, camera = "cam1", inspection = 0): Report {
  return {
    cameraId: camera,
    id: `S1-${bootTime}-${inspection}-${cycle}`,
    serial: "S1",
    bootTime,
    inspection,
    cycle,
    time: 1_700_000_000_000 + cycle,
    passed: true,
    stats: { cycleTimeMs: 1, processTimeMs: 1, passedCount: cycle, failedCount: 0, dropped: 0 },
    results: {
      "Tool.Text": { type: "text", value: "x".repeat(60) },
      "Tool.Bytes": { type: "bytes", value: new Uint8Array([0, 255]) },
    },
    images: [],
    lossless: true,
    recovered: false,
  };
}

const report = (journal: Journal, cycle: number, bootTime = 5_000) =>
  journal.append({ type: "report", report: reportOf(cycle, bootTime) });

const line = (cycle: number): JournalRecord => ({
  type: "serial",
  cameraId: "cam1",
  port: 1,
  output: "Output1",
  raw: `line ${cycle}`,
  fields: undefined,
  error: undefined,
  time: 1,
  seq: cycle,
});

const gapsIn = (records: JournalRecord[]) =>
  records.flatMap((r) =>
    r.type === "gap" ? [{ bootTime: r.bootTime, fromCycle: r.fromCycle, toCycle: r.toCycle }] : [],
  );

const read = (journal: Journal, output = "mqtt") =>
  journal
    .output(output)
    .range(0, ALL, 10_000)
    .map((e) => e.record);

describe("the journal's dropOldest policy", () => {
  const dropping = (path = newPath(), outputs = ["mqtt"]) =>
    opened(path, { maxBytes: 2_500, policy: "dropOldest", outputs });

  it("tells of the reports it drops in one gap record that grows while unsent, and keeps the record", async () => {
    const journal = dropping();
    for (let cycle = 1; cycle <= 40; cycle++) await report(journal, cycle);
    expect(journal.bytes).toBeLessThanOrEqual(2_500);
    const records = read(journal);
    const kept = records.filter((r) => r.type === "report").length;
    expect(kept).toBeGreaterThan(0);
    expect(journal.dropped).toBe(40 - kept);
    // range() handed the record out: the next drops start a gap of their own.
    expect(gapsIn(records)).toEqual([{ bootTime: 5_000, fromCycle: 1, toCycle: 40 - kept }]);
    for (let cycle = 41; cycle <= 45; cycle++) await report(journal, cycle);
    const [first, second] = gapsIn(read(journal));
    expect(first).toMatchObject({ fromCycle: 1, toCycle: 40 - kept });
    expect(second?.fromCycle).toBe(41 - kept);
    // Every dropped report lies in exactly one gap, and the output's figures add up.
    const told = [first, second].reduce((sum, n) => sum + (n ? (n.toCycle ?? 0) - n.fromCycle + 1 : 0), 0);
    expect(told).toBe(journal.dropped);
    expect(journal.output("mqtt").figures()).toMatchObject({
      dropped: journal.dropped,
      delivered: 0,
      lost: 0,
    });
  });

  it("starts a new gap when the dropped cycles are not consecutive, or are of another boot", async () => {
    const journal = dropping();
    for (const [cycle, boot] of [
      [1, 5_000],
      [2, 5_000],
      [7, 5_000],
      [1, 9_000],
    ] as const)
      await report(journal, cycle, boot);
    for (let i = 0; i < 40; i++) await journal.append(line(i));
    expect(gapsIn(read(journal)).map((n) => [n.bootTime, n.fromCycle, n.toCycle])).toEqual([
      [5_000, 1, 2],
      [5_000, 7, 7],
      [9_000, 1, 1],
    ]);
  });

  it("tells a drop only to the outputs that did not have the report yet", async () => {
    const journal = dropping(newPath(), ["mqtt", "sparkplug"]);
    await report(journal, 1);
    const mqtt = journal.output("mqtt");
    const [first] = mqtt.range(0, ALL, 1);
    mqtt.ack(first?.seq ?? 0);
    for (let cycle = 2; cycle <= 40; cycle++) await report(journal, cycle);
    expect(gapsIn(read(journal, "sparkplug"))[0]).toMatchObject({ fromCycle: 1 });
    expect(gapsIn(read(journal, "mqtt"))[0]).toMatchObject({ fromCycle: 2 });
    for (const name of ["mqtt", "sparkplug"]) expect(journal.output(name).figures().lost).toBe(0);
  });
});

describe("the journal's outputs", () => {
  it("keeps a record until every output has acknowledged it, and each output resumes on its own after a reopen", async () => {
    const path = newPath();
    const journal = opened(path, { outputs: ["mqtt", "sparkplug"] });
    for (let cycle = 1; cycle <= 10; cycle++) await report(journal, cycle);
    const mqtt = journal.output("mqtt");
    for (const entry of mqtt.range(0, ALL, 100)) mqtt.ack(entry.seq);
    await new Promise((r) => setImmediate(r));
    expect(journal.count).toBe(10);
    expect(mqtt.figures()).toEqual({ delivered: 10, pending: 0, dropped: 0, lost: 0 });
    const sparkplug = journal.output("sparkplug");
    for (const entry of sparkplug.range(0, ALL, 4)) sparkplug.ack(entry.seq);
    // Released within the journal's release delay, with no append to ride on.
    await until(() => journal.count === 6);
    expect(journal.count).toBe(6);
    journal.close();

    const reopened = opened(path, { outputs: ["mqtt", "sparkplug"] });
    expect(reopened.output("mqtt").range(0, ALL, 100)).toEqual([]);
    const again = reopened.output("sparkplug").range(0, ALL, 100);
    expect(again.map((e) => (e.record.type === "report" ? e.record.report.cycle : -1))).toEqual([
      5, 6, 7, 8, 9, 10,
    ]);
    expect(again.every((e) => e.replayed)).toBe(true);
    // Bytes come back as bytes, not as JSON of them.
    const first = again[0]?.record;
    expect(first?.type === "report" && first.report.results["Tool.Bytes"]).toEqual({
      type: "bytes",
      value: new Uint8Array([0, 255]),
    });
    expect(reopened.output("sparkplug").figures()).toMatchObject({ pending: 6, lost: 0 });
  });

  it("starts a new output at the end, and releases what a removed output alone held", async () => {
    const path = newPath();
    const journal = opened(path, { outputs: ["mqtt"] });
    for (let cycle = 1; cycle <= 5; cycle++) await report(journal, cycle);
    journal.close();
    const both = opened(path, { outputs: ["mqtt", "sparkplug"] });
    expect(both.output("sparkplug").range(0, ALL, 100)).toEqual([]);
    expect(both.output("mqtt").range(0, ALL, 100)).toHaveLength(5);
    await report(both, 6);
    expect(both.output("sparkplug").range(0, ALL, 100)).toHaveLength(1);
    both.close();
    const alone = opened(path, { outputs: ["sparkplug"] });
    expect(alone.count).toBe(1);
    expect(alone.output("sparkplug").figures()).toMatchObject({ pending: 1, lost: 0 });
  });

  it("carries a record marked for some outputs to those alone", async () => {
    const journal = opened(newPath(), { outputs: ["mqtt", "sparkplug"] });
    await journal.append(
      { type: "io", cameraId: "cam1", point: "In1", value: true, time: 1 },
      { only: ["mqtt"] },
    );
    expect(read(journal, "mqtt")).toHaveLength(1);
    expect(read(journal, "sparkplug")).toHaveLength(0);
  });

  it("holds appends under the block policy until every output has acknowledged enough", async () => {
    const journal = opened(newPath(), { maxBytes: 65_536, outputs: ["mqtt", "sparkplug"] });
    const appends: Promise<void>[] = [];
    for (let cycle = 1; cycle <= 400; cycle++) appends.push(report(journal, cycle));
    await Promise.race([Promise.all(appends), new Promise((r) => setTimeout(r, 50))]);
    expect(journal.blocked).toBeGreaterThan(0);
    expect(journal.bytes).toBeLessThanOrEqual(65_536);
    const cursors = new Map<string, number>();
    const drain = (name: string) => {
      const output = journal.output(name);
      const entries = output.range(cursors.get(name) ?? 0, ALL, 50);
      for (const entry of entries) output.ack(entry.seq);
      cursors.set(name, entries.at(-1)?.seq ?? cursors.get(name) ?? 0);
    };
    let settled = 0;
    for (const append of appends) void append.then(() => settled++);
    // One output acknowledging everything frees nothing while the other holds it.
    for (let round = 0; round < 20; round++) {
      drain("mqtt");
      await new Promise((r) => setImmediate(r));
    }
    expect(journal.blocked).toBeGreaterThan(0);
    const blockedBefore = journal.blocked;
    for (let round = 0; round < 2_000 && settled < appends.length; round++) {
      drain("mqtt");
      drain("sparkplug");
      await new Promise((r) => setImmediate(r));
    }
    expect(blockedBefore).toBeGreaterThan(0);
    expect(settled).toBe(appends.length);
    expect(journal.dropped).toBe(0);
  });

  it("reads records the memory cache let go from disk, in order", async () => {
    const journal = opened(newPath(), { cacheBytes: 1_000 });
    for (let cycle = 1; cycle <= 30; cycle++) await report(journal, cycle);
    const cycles = read(journal).map((r) => (r.type === "report" ? r.report.cycle : -1));
    expect(cycles).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("drops a damaged row for the output that reads it, says so, and reads on", async () => {
    const path = newPath();
    const journal = opened(path);
    for (let cycle = 1; cycle <= 3; cycle++) await report(journal, cycle);
    journal.close();
    const db = new Database(path);
    db.prepare("UPDATE records SET record = ? WHERE seq = 2").run(Buffer.from("not v8"));
    db.close();
    const log = captureLog();
    const reopened = opened(path, { logger: log.logger });
    expect(read(reopened).map((r) => (r.type === "report" ? r.report.cycle : -1))).toEqual([1, 3]);
    expect(log.text()).toContain("journal record unreadable; dropped");
    expect(reopened.output("mqtt").figures()).toMatchObject({ dropped: 1, lost: 0 });
  });
});

describe("a journal written by an older daemon", () => {
  it("becomes records for the MQTT output alone, replayed in their order", () => {
    const path = newPath();
    const db = new Database(path);
    db.exec(
      "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL, bytes INTEGER NOT NULL, retain INTEGER NOT NULL DEFAULT 0)",
    );
    const insert = db.prepare("INSERT INTO outbox (topic, payload, bytes, retain) VALUES (?, ?, ?, ?)");
    insert.run("a", Buffer.from("{}"), 2, 0);
    insert.run("b", Buffer.from('{"value":true}'), 14, 1);
    db.close();
    const journal = opened(path, { outputs: ["mqtt", "sparkplug"], legacyOutput: "mqtt" });
    const entries = journal.output("mqtt").range(0, journal.replayEnd, 10);
    expect(entries.map((e) => [e.record.type === "message" && e.record.topic, e.replayed])).toEqual([
      ["a", true],
      ["b", true],
    ]);
    expect(journal.output("sparkplug").range(0, ALL, 10)).toEqual([]);
  });
});

describe("the journal's resume positions", () => {
  it("keeps the last position of each inspection appended in one batch, and they survive a reopen", async () => {
    const path = newPath();
    const journal = opened(path);
    const at = (camera: string, inspection: number, cycle: number) =>
      journal.append({ type: "report", report: reportOf(cycle, 7, camera, inspection) });
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
