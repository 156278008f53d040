import { afterEach, describe, expect, it } from "vitest";
import type { ReportPayload } from "../../src/bridges/mqtt/payloads.js";
import { subscriber } from "../bridges/mqtt/rig.js";
import { sleep } from "../camera/rig.js";
import { TestBroker } from "../support/mosquitto.js";
import type { Spawned } from "../support/process.js";
import { account, bootOf, describeAccounting, type GapNotice } from "./accounting.js";
import { daemonConfig, startDaemon, startSimulator, stopChild } from "./daemon-rig.js";

const children: Spawned[] = [];
const brokers: TestBroker[] = [];
const clients: { endAsync(force?: boolean): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(stopChild));
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  for (const broker of brokers.splice(0)) await broker.stop();
});

async function broker(): Promise<TestBroker> {
  const b = new TestBroker();
  await b.start();
  brokers.push(b);
  return b;
}

describe("the daemon process and the broker", () => {
  it("leaves its Will, a retained offline, when it is killed", async () => {
    const b = await broker();
    const { sim, basePort } = await startSimulator(1, 0);
    children.push(sim);
    const { file } = daemonConfig({ brokerUrl: b.url, basePort, cameras: 1, base: "will" });
    const daemon = startDaemon(file);
    children.push(daemon);
    const sub = await subscriber(b.url, "will/bridge/state");
    clients.push(sub.client);
    await sub.waitFor((m) => m.payload.toString() === "online", 10_000);
    daemon.child.kill("SIGKILL");
    await sub.waitFor((m) => m.payload.toString() === "offline", 10_000);
    const late = await subscriber(b.url, "will/bridge/state");
    clients.push(late.client);
    const retained = await late.waitFor(() => true);
    expect([retained.payload.toString(), retained.retain]).toEqual(["offline", true]);
  });

  it.each([
    ["a 20 s broker outage", false],
    ["a 20 s broker outage during which the daemon is SIGKILLed and restarted", true],
  ])(
    "loses no report over %s",
    async (_name, kill) => {
      const b = await broker();
      const { sim, basePort } = await startSimulator(2, 20);
      children.push(sim);
      const { file } = daemonConfig({ brokerUrl: b.url, basePort, cameras: 2, base: "fault" });
      let daemon = startDaemon(file);
      children.push(daemon);
      const sub = await subscriber(b.url, "fault/+/+/0");
      const state = await subscriber(b.url, "fault/bridge/state");
      const io = await subscriber(b.url, "fault/+/io/+");
      const text = await subscriber(b.url, "fault/+/serial/+");
      clients.push(sub.client, state.client, io.client, text.client);
      await sub.waitFor((m) => m.topic === "fault/cam2/report/0", 10_000);
      await text.waitFor((m) => m.topic.startsWith("fault/cam2/serial/"), 10_000);

      const outageStart = Date.now();
      await b.stop();
      await sleep(8_000);
      if (kill) {
        daemon.child.kill("SIGKILL");
        await daemon.exited;
        daemon = startDaemon(file);
        children.push(daemon);
      }
      await sleep(12_000);
      const outageEnd = Date.now();
      const mark = state.messages.length;
      await b.start();
      await state.waitFor(
        (m) => state.messages.indexOf(m) >= mark && m.payload.toString() === "online",
        15_000,
      );

      // Stop the cameras, then read how many cycles each ran: that is what must have arrived.
      const control = await subscriber(b.url, "fault/+/command/+/response");
      clients.push(control.client);
      const produced = new Map<string, number>();
      for (const camera of ["cam1", "cam2"]) {
        const stop = `fault/${camera}/command/stop`;
        await control.client.publishAsync(stop, JSON.stringify({ transaction: `stop-${camera}` }), {
          qos: 1,
        });
        await control.waitFor(
          (m) => m.topic === `${stop}/response` && m.payload.toString().includes('"ok"'),
          15_000,
        );
        await control.client.publishAsync(
          `fault/${camera}/command/status`,
          JSON.stringify({ transaction: `status-${camera}` }),
          { qos: 1 },
        );
        const status = await control.waitFor(
          (m) => m.topic === `fault/${camera}/command/status/response`,
          15_000,
        );
        produced.set(
          camera,
          (JSON.parse(status.payload.toString()) as { data: { inspections: number } }).data.inspections,
        );
      }

      const received = (camera: string) => {
        const parse = <T>(kind: string) =>
          sub.messages
            .filter((m) => m.topic === `fault/${camera}/${kind}/0`)
            .map((m) => JSON.parse(m.payload.toString()) as T);
        return { reports: parse<ReportPayload>("report"), gaps: parse<GapNotice>("gap") };
      };
      for (const [camera, total] of produced) {
        const first = received(camera).reports[0] as ReportPayload;
        const production = [{ bootTime: bootOf(first.id), lastCycle: total }];
        let result = account(production, received(camera).reports, received(camera).gaps, first.cycle);
        for (const deadline = Date.now() + 30_000; result.missing.length > 0 && Date.now() < deadline; ) {
          await sleep(100);
          result = account(production, received(camera).reports, received(camera).gaps, first.cycle);
        }
        console.info(
          describeAccounting(`${kill ? "SIGKILL during " : ""}broker outage, ${camera}`, 1, result),
        );
        expect(result.missing).toEqual([]);
        expect(result.strays).toBe(0);
        const { reports } = received(camera);
        // Replayed messages keep their own order; so do live ones.
        const replayed = reports.filter((r) => r.replayed).map((r) => r.cycle);
        expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
        if (!kill) {
          // In order, once the duplicates QoS 1 allows (resends of what lost its PUBACK) are set aside.
          const cycles = [...new Set(reports.map((r) => r.cycle))];
          expect(cycles).toEqual([...cycles].sort((a, b) => a - b));
        }
        // IO transitions made during the outage arrive, in order, point by point.
        const byPoint = new Map<string, number[]>();
        // Retained copies the broker hands out on a (re)subscription are states, not transitions.
        for (const m of io.messages.filter((m) => !m.retain && m.topic.startsWith(`fault/${camera}/io/`))) {
          // What a previous run left is replayed on its own cursor beside live messages: each in order.
          const key = `${m.topic}${io.json(m).replayed ? " (replayed)" : ""}`;
          const times = byPoint.get(key) ?? [];
          times.push(Date.parse(String(io.json(m).time)));
          byPoint.set(key, times);
        }
        const out0 = [...byPoint].flatMap(([key, times]) =>
          key.startsWith(`fault/${camera}/io/out0`) ? times : [],
        );
        const during = out0.filter((t) => t > outageStart + 1_000 && t < outageEnd - 1_000);
        for (const times of byPoint.values()) expect(times).toEqual([...times].sort((a, b) => a - b));
        // Formatted-output lines: every line the daemon read, once and in order (QoS 1 may repeat
        // one; seq counts per daemon run). Across a SIGKILL, lines the camera wrote while no
        // daemon read them are gone: TCP text has no acknowledgement.
        const lines = text.messages
          .filter((m) => m.topic.startsWith(`fault/${camera}/serial/`))
          .map((m) => text.json(m));
        const seqs = [...new Set(lines.map((l) => Number(l.seq)))];
        console.info(
          `[accounting] ${camera}: ${out0.length} out0 transitions (${during.length} during the outage), ${seqs.length} formatted-output lines`,
        );
        if (!kill) {
          expect(during.length).toBeGreaterThan(20);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        } else {
          const replayedSeqs = lines.filter((l) => l.replayed).map((l) => Number(l.seq));
          expect(replayedSeqs).toEqual([...replayedSeqs].sort((a, b) => a - b));
        }
      }
    },
    120_000,
  );
});
