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
      clients.push(sub.client, state.client);
      await sub.waitFor((m) => m.topic === "fault/cam2/report/0", 10_000);

      await b.stop();
      await sleep(8_000);
      if (kill) {
        daemon.child.kill("SIGKILL");
        await daemon.exited;
        daemon = startDaemon(file);
        children.push(daemon);
      }
      await sleep(12_000);
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
          const cycles = reports.map((r) => r.cycle);
          expect(cycles).toEqual([...cycles].sort((a, b) => a - b));
        }
      }
    },
    120_000,
  );
});
