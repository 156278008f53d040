import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ReportPayload } from "../../../src/bridges/mqtt/payloads.js";
import { sleep } from "../../camera/rig.js";
import { tempDir } from "../../support/process.js";
import { BASE, type Message, type MqttRig, startMqttRig } from "./rig.js";

let rig: MqttRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function reports(messages: readonly Message[]): ReportPayload[] {
  return messages
    .filter((m) => m.topic === `${BASE}/cam1/report/0`)
    .map((m) => JSON.parse(m.payload.toString()) as ReportPayload);
}

function gaps(messages: readonly Message[]): [number, number][] {
  return messages
    .filter((m) => m.topic === `${BASE}/cam1/gap/0`)
    .map((m) => JSON.parse(m.payload.toString()) as { fromCycle: number; toCycle: number | null })
    .map((g) => [g.fromCycle, g.toCycle ?? Number.MAX_SAFE_INTEGER]);
}

/**
 * Every cycle from the first to the last seen arrived at least once, or lies in a gap event (the
 * camera dropped it, and said so); first arrivals in order.
 */
function accounting(list: readonly ReportPayload[], gapRanges: readonly [number, number][] = []) {
  const firsts: number[] = [];
  const seen = new Set<string>();
  for (const report of list) {
    if (seen.has(report.id)) continue;
    seen.add(report.id);
    firsts.push(report.cycle);
  }
  const first = Math.min(...firsts);
  const last = Math.max(...firsts);
  const missing: number[] = [];
  const inGap = (cycle: number) => gapRanges.some(([from, to]) => cycle >= from && cycle <= to);
  for (let cycle = first; cycle <= last; cycle++)
    if (!firsts.includes(cycle) && !inGap(cycle)) missing.push(cycle);
  const ordered = firsts.every((cycle, i) => i === 0 || cycle > (firsts[i - 1] as number));
  return { first, last, unique: seen.size, missing, ordered, duplicates: list.length - seen.size };
}

describe("lossless delivery through the journal", () => {
  it("delivers every cycle, in order, across a broker outage", async () => {
    rig = await startMqttRig({ rateHz: 50 });
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/report/0`);
    await rig.broker.stop();
    await sleep(1_500);
    expect(rig.journal.count).toBeGreaterThan(0);
    await rig.broker.start();
    const target = (rig.camera.camera.inspections[0]?.cycle ?? 0) + 20;
    await rig.sub.waitFor(
      (m) =>
        m.topic === `${BASE}/cam1/report/0` &&
        (JSON.parse(m.payload.toString()) as ReportPayload).cycle >= target,
      10_000,
    );
    const result = accounting(reports(rig.sub.messages), gaps(rig.sub.messages));
    expect(result.missing).toEqual([]);
    expect(result.ordered).toBe(true);
    await sleep(200);
    expect(rig.journal.count).toBeLessThan(20);
  });

  it("at its bound with policy block, stops acknowledging: the camera waits and nothing is lost", async () => {
    rig = await startMqttRig({ rateHz: 200, mqtt: { journal: { maxBytes: 65_536, policy: "block" } } });
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/report/0`);
    await rig.broker.stop();
    await sleep(1_500);
    const stalledAt = rig.camera.camera.inspections[0]?.cycle ?? 0;
    expect(rig.journal.bytes).toBeLessThanOrEqual(65_536);
    expect(rig.journal.blocked).toBeGreaterThan(0);
    await sleep(300);
    // The camera is held by its full window: no cycle runs while the journal is full.
    expect(rig.camera.camera.inspections[0]?.cycle).toBe(stalledAt);
    expect(rig.camera.camera.services.reporting.stalls).toBeGreaterThan(10);
    expect(rig.journal.dropped).toBe(0);
    await rig.broker.start();
    await rig.sub.waitFor(
      (m) =>
        m.topic === `${BASE}/cam1/report/0` &&
        (JSON.parse(m.payload.toString()) as ReportPayload).cycle >= stalledAt + 50,
      15_000,
    );
    expect(accounting(reports(rig.sub.messages)).missing).toEqual([]);
  });

  it("at its bound with policy dropOldest, drops the oldest and counts them", async () => {
    rig = await startMqttRig({ rateHz: 200, mqtt: { journal: { maxBytes: 65_536, policy: "dropOldest" } } });
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/report/0`);
    await rig.broker.stop();
    await sleep(1_500);
    expect(rig.journal.dropped).toBeGreaterThan(0);
    expect(rig.journal.bytes).toBeLessThanOrEqual(65_536);
    expect(rig.journal.blocked).toBe(0);
    const metrics = await rig.metrics.metrics();
    expect(metrics).toMatch(/smartcam_mqtt\{figure="journal_dropped"\} [1-9]/);
  });

  it("replays what a previous run left in the journal, flagged replayed", async () => {
    const journalPath = join(tempDir("journal-"), "journal.sqlite");
    rig = await startMqttRig({ rateHz: 50, journalPath });
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/report/0`);
    await rig.broker.stop();
    await sleep(800);
    const left = rig.journal.count;
    expect(left).toBeGreaterThan(5);
    await rig.stop();
    rig = await startMqttRig({ rateHz: 50, journalPath });
    expect(rig.journal.replayEnd).toBeGreaterThan(0);
    await rig.sub.waitFor(
      (m) => m.topic === `${BASE}/cam1/report/0` && m.payload.toString().includes('"replayed":true'),
      5_000,
    );
    await sleep(1_000);
    // The journal held reports and IO transitions: every one of them comes again, flagged.
    const flagged = rig.sub.messages.filter((m) => m.payload.toString().includes('"replayed":true'));
    expect(flagged.length).toBeGreaterThanOrEqual(left);
    const replayed = reports(rig.sub.messages).filter((r) => r.replayed);
    expect(replayed.length).toBeGreaterThan(0);
    const cycles = replayed.map((r) => r.cycle);
    expect(cycles).toEqual([...cycles].sort((a, b) => a - b));
  });
});
