import { afterEach, describe, expect, it } from "vitest";
import type { ReportPayload } from "../../src/bridges/mqtt/payloads.js";
import { BASE, type Message, type MqttRig, startMqttRig } from "../bridges/mqtt/rig.js";
import { sleep } from "../camera/rig.js";
import {
  type Accounting,
  account,
  describeAccounting,
  type GapNotice,
  ProductionLedger,
} from "./accounting.js";

let rig: MqttRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const REPORT = `${BASE}/cam1/report/0`;
const GAP = `${BASE}/cam1/gap/0`;

function received(messages: readonly Message[]) {
  const parse = <T>(topic: string) =>
    messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload.toString()) as T);
  return { reports: parse<ReportPayload>(REPORT), gaps: parse<GapNotice>(GAP) };
}

/** The rig with a ledger of what its simulator produces, once the first report has arrived. */
async function faultRig(options: Parameters<typeof startMqttRig>[0]) {
  const r = await startMqttRig(options);
  rig = r;
  const first = await r.sub.waitFor((m) => m.topic === REPORT, 10_000);
  const firstCycle = (JSON.parse(first.payload.toString()) as ReportPayload).cycle;
  return { rig: r, sim: r.camera.camera, ledger: new ProductionLedger(r.camera.camera), firstCycle };
}

/**
 * Stops the simulator's cycles and waits until every cycle it produced is accounted for at each
 * subscriber (or a deadline passes), then prints the accounting and holds it to nothing missing.
 */
async function settle(
  label: string,
  fault: Awaited<ReturnType<typeof faultRig>>,
  subscribers: readonly { messages: Message[]; firstCycle: number }[] = [
    { messages: fault.rig.sub.messages, firstCycle: fault.firstCycle },
  ],
): Promise<Accounting[]> {
  fault.sim.status = "stopped";
  fault.ledger.mark();
  const results: Accounting[] = [];
  for (const [n, sub] of subscribers.entries()) {
    let result: Accounting;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { reports, gaps } = received(sub.messages);
      result = account(fault.ledger.boots, reports, gaps, sub.firstCycle);
      if (result.missing.length === 0 || Date.now() > deadline) break;
      await sleep(100);
    }
    const name = subscribers.length > 1 ? `${label} (subscriber ${n + 1})` : label;
    console.info(describeAccounting(name, fault.ledger.boots.length, result));
    expect(result.missing).toEqual([]);
    expect(result.strays).toBe(0);
    results.push(result);
  }
  return results;
}

describe("fault suite: each fault ends with every produced report accounted for", () => {
  it("a half-open camera (frozen without FIN or RST) goes offline and comes back", async () => {
    const fault = await faultRig({ rateHz: 50 });
    await sleep(300);
    fault.sim.freeze();
    await fault.rig.camera.waitFor((e) => e.type === "offline", 3_000);
    fault.sim.resume();
    const mark = fault.rig.camera.events.length;
    await fault.rig.camera.waitFor((e) => e.type === "online", 5_000, mark);
    await sleep(500);
    await settle("half-open freeze and resume", fault);
  });

  it("a camera that drops its connections with RST, three times", async () => {
    const fault = await faultRig({ rateHz: 50 });
    for (let i = 0; i < 3; i++) {
      await sleep(400);
      const mark = fault.rig.camera.events.length;
      fault.sim.dropWithReset();
      await fault.rig.camera.waitFor((e) => e.type === "online", 5_000, mark);
    }
    await sleep(400);
    await settle("RST drops", fault);
  });

  it("a camera restart with its counters reset: a gap for the old boot, the new boot from cycle 1", async () => {
    const fault = await faultRig({ rateHz: 50 });
    // Boots well apart, as a real camera's are: the ledger matches boots by time.
    await sleep(1_500);
    fault.ledger.mark();
    fault.sim.restart();
    await sleep(1_000);
    const [result] = await settle("camera restart", fault);
    expect(fault.ledger.boots).toHaveLength(2);
    expect(result?.gapEvents).toBeGreaterThan(0);
  });

  it("a camera that sends a malformed frame mid-stream, on the report and the monitor connections", async () => {
    const fault = await faultRig({ rateHz: 50 });
    for (const port of ["reports", "monitor"] as const) {
      await sleep(400);
      const mark = fault.rig.camera.events.length;
      fault.sim.sendMalformed(port);
      await fault.rig.camera.waitFor((e) => e.type === "offline", 3_000, mark);
      await fault.rig.camera.waitFor((e) => e.type === "online", 5_000, mark);
    }
    await sleep(400);
    await settle("malformed frames mid-stream", fault);
  });

  it("the journal at its byte bound with policy block: the camera waits, nothing is dropped", async () => {
    const fault = await faultRig({ rateHz: 200, mqtt: { journal: { maxBytes: 65_536, policy: "block" } } });
    await fault.rig.broker.stop();
    await sleep(1_500);
    expect(fault.rig.journal.blocked).toBeGreaterThan(0);
    expect(fault.rig.journal.bytes).toBeLessThanOrEqual(65_536);
    await fault.rig.broker.start();
    await sleep(1_000);
    const [result] = await settle("journal bound, policy block", fault);
    expect(fault.rig.journal.dropped).toBe(0);
    expect(result?.inGaps).toBe(0);
  });

  it("the journal at its byte bound with policy dropOldest: what it drops is told in gap events", async () => {
    const fault = await faultRig({
      rateHz: 200,
      mqtt: { journal: { maxBytes: 65_536, policy: "dropOldest" } },
    });
    await fault.rig.broker.stop();
    await sleep(1_500);
    expect(fault.rig.journal.dropped).toBeGreaterThan(0);
    expect(fault.rig.journal.bytes).toBeLessThanOrEqual(65_536 + 1_024);
    await fault.rig.broker.start();
    await sleep(1_000);
    const [result] = await settle("journal bound, policy dropOldest", fault);
    expect(result?.inGaps).toBeGreaterThanOrEqual(fault.rig.journal.droppedReports - 50);
    // One growing notice for the outage's run, not one per dropped report.
    expect(result?.gapEvents).toBeLessThanOrEqual(3);
    const { gaps } = received(fault.rig.sub.messages);
    expect(gaps[0]?.reason).toMatch(/dropOldest/);
  });

  it("a slow subscriber holds back neither the daemon nor the other subscribers", async () => {
    const fault = await faultRig({ rateHz: 100 });
    const slow = await fault.rig.extraSubscriber(`${BASE}/cam1/+/0`);
    // mqtt.js takes the next packet only when this calls back: 40 ms a message, 25 a second.
    slow.client.handleMessage = (_packet, done) => void setTimeout(done, 40);
    const fastBefore = fault.rig.sub.messages.length;
    await sleep(3_000);
    const slowCount = slow.messages.length;
    const fastCount = fault.rig.sub.messages.length - fastBefore;
    expect(slowCount).toBeLessThan(fastCount / 2);
    expect(fault.rig.journal.count).toBeLessThan(50);
    slow.client.handleMessage = (_packet, done) => done();
    const slowFirst = Math.min(...received(slow.messages).reports.map((r) => r.cycle));
    await settle("slow subscriber", fault, [
      { messages: fault.rig.sub.messages, firstCycle: fault.firstCycle },
      { messages: slow.messages, firstCycle: slowFirst },
    ]);
    console.info(
      `[accounting] slow subscriber: ${slowCount} messages in 3 s against ${fastCount} for the other`,
    );
  });
});
