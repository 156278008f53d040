import { afterEach, describe, expect, it } from "vitest";
import type { ReportPayload } from "../../src/bridges/mqtt/payloads.js";
import { subscriber } from "../bridges/mqtt/rig.js";
import { sleep } from "../camera/rig.js";
import { TestBroker } from "../support/mosquitto.js";
import type { Spawned } from "../support/process.js";
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
      const sub = await subscriber(b.url, "fault/+/report/0");
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

      const report = (camera: string) =>
        sub.messages
          .filter((m) => m.topic === `fault/${camera}/report/0`)
          .map((m) => JSON.parse(m.payload.toString()) as ReportPayload);
      for (const [camera, total] of produced) {
        const deadline = Date.now() + 30_000;
        while (
          new Set(report(camera).map((r) => r.cycle)).size < total - (report(camera)[0]?.cycle ?? 1) + 1 &&
          Date.now() < deadline
        )
          await sleep(100);
      }
      for (const [camera, total] of produced) {
        const all = report(camera);
        const first = Math.min(...all.map((r) => r.cycle));
        const byId = new Map(all.map((r) => [r.id, r]));
        const cycles = new Set(all.map((r) => r.cycle));
        const missing: number[] = [];
        for (let cycle = first; cycle <= total; cycle++) if (!cycles.has(cycle)) missing.push(cycle);
        const replayed = all.filter((r) => r.replayed).map((r) => r.cycle);
        const recovered = all.filter((r) => r.recovered).length;
        console.info(
          `${camera}: produced ${total} cycles, first received ${first}; ${byId.size} distinct ids in ${all.length} messages (${all.length - byId.size} QoS 1 duplicates), ${replayed.length} replayed, ${recovered} recovered, missing ${missing.length}`,
        );
        expect(missing).toEqual([]);
        expect(byId.size).toBe(total - first + 1);
        // Replayed messages keep their own order; so do live ones.
        expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
        if (!kill)
          expect(all.map((r) => r.cycle)).toEqual([...all.map((r) => r.cycle)].sort((a, b) => a - b));
      }
    },
    120_000,
  );
});
