import { afterEach, describe, expect, it } from "vitest";
import type { ReportPayload } from "../../src/bridges/mqtt/payloads.js";
import { subscriber } from "../bridges/mqtt/rig.js";
import { reportCycles, TestHost } from "../bridges/sparkplug/host.js";
import { sleep } from "../camera/rig.js";
import { TestBroker } from "../support/mosquitto.js";
import type { Spawned } from "../support/process.js";
import { daemonConfig, startDaemon, startSimulator, stopChild } from "./daemon-rig.js";

const children: Spawned[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(stopChild));
  for (const close of closers.splice(0).reverse()) await close();
});

const count = 400;
const waitUntil = async (what: string, predicate: () => boolean) => {
  for (let i = 0; i < count * 10 && !predicate(); i++) await sleep(25);
  if (!predicate()) throw new Error(`never: ${what}`);
};

describe("the daemon with both outputs, the Sparkplug host and the broker failing", () => {
  it("host offline, then a broker outage with a SIGKILL of the daemon in between: every lossless report reaches both outputs, and neither output lost one", async () => {
    const broker = new TestBroker();
    await broker.start();
    closers.push(() => broker.stop());
    const { sim, basePort } = await startSimulator(1, 20);
    children.push(sim);
    const { file } = daemonConfig({
      brokerUrl: broker.url,
      basePort,
      cameras: 1,
      base: "both",
      extra: `sparkplug:\n  enabled: true\n  servers: [${broker.url}]\n  groupId: plant\n  nodeId: gw1\n  primaryHostId: scada\n  reconnect:\n    initialMs: 100\n    maxMs: 1000\n`,
    });
    const host = await TestHost.connect(broker.url);
    closers.push(() => host.stop());
    await host.state("scada", true, 1_000);
    const json = await subscriber(broker.url, "both/+/report/0");
    closers.push(() => json.client.endAsync(true));
    // Gap events: what a restart slower than the camera's part queue could not recover.
    const gaps = await subscriber(broker.url, "both/+/gap/0");
    closers.push(() => gaps.client.endAsync(true));
    let daemon = startDaemon(file);
    children.push(daemon);
    await host.waitFor((m) => m.type === "DDATA", "live data");

    // The host goes away: the node leaves the server and holds what comes in its journal.
    await host.state("scada", false, 2_000);
    await host.waitFor((m) => m.type === "NDEATH", "NDEATH when the host goes offline");
    await sleep(1_500);
    // Then the broker goes too, and the daemon is killed and started again meanwhile.
    await broker.stop();
    await sleep(2_000);
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    daemon = startDaemon(file);
    children.push(daemon);
    await sleep(2_000);
    await broker.start();
    await waitUntil("the host reconnected", () => host.client.connected);
    await host.state("scada", true, 3_000);
    await host.waitFor((m) => m.type === "DDATA" && m.metrics.some((x) => x.isHistorical), "historical data");

    // Stop the camera, and read how many cycles it ran: that is what both outputs must carry.
    const control = await subscriber(broker.url, "both/+/command/+/response");
    closers.push(() => control.client.endAsync(true));
    // The JSON bridge of the restarted daemon may subscribe to commands later than the Sparkplug
    // node came back (a busy machine): a command sent before that reaches nobody, so each is
    // asked again until it is answered.
    const ask = async (command: string) => {
      for (let attempt = 0; attempt < 60; attempt++) {
        const transaction = `${command}-${attempt}`;
        await control.client.publishAsync(`both/cam1/command/${command}`, JSON.stringify({ transaction }), {
          qos: 1,
        });
        const answer = await control
          .waitFor(
            (m) =>
              m.topic === `both/cam1/command/${command}/response` &&
              control.json(m).transaction === transaction,
            2_000,
          )
          .catch(() => undefined);
        if (answer) return answer;
      }
      throw new Error(`the daemon never answered ${command}`);
    };
    await ask("stop");
    const status = await ask("status");
    const produced = (JSON.parse(status.payload.toString()) as { data: { inspections: number } }).data
      .inspections;

    const viaJson = () =>
      new Set(json.messages.map((m) => (JSON.parse(m.payload.toString()) as ReportPayload).cycle));
    const viaSparkplug = () => new Set(reportCycles(host).map((d) => Number(d.cycle)));
    const first = Math.min(...viaJson());
    const missing = (seen: Set<number>) => {
      const out: number[] = [];
      for (let cycle = first; cycle <= produced; cycle++) if (!seen.has(cycle)) out.push(cycle);
      return out;
    };
    // A restart slower than the camera's part queue is long (a busy machine) leaves cycles that no
    // longer exist: they must be told in a gap event of known range, the same on both outputs.
    const inGaps = () => {
      const cycles = new Set<number>();
      for (const m of gaps.messages) {
        const gap = JSON.parse(m.payload.toString()) as { fromCycle: number; toCycle: number | null };
        if (gap.toCycle === null) continue;
        for (let cycle = gap.fromCycle; cycle <= gap.toCycle; cycle++) cycles.add(cycle);
      }
      return cycles;
    };
    const unaccounted = (seen: Set<number>) => missing(seen).filter((cycle) => !inGaps().has(cycle));
    await waitUntil(
      "every cycle on both outputs, or in a gap event",
      () => unaccounted(viaJson()).length + unaccounted(viaSparkplug()).length === 0,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}: produced ${produced} from ${first}; missing on JSON ${missing(viaJson()).join(",")}; on Sparkplug ${missing(viaSparkplug()).join(",")}; gap events ${gaps.messages.map((m) => m.payload.toString()).join(" ")}`,
      );
    });
    expect(unaccounted(viaJson())).toEqual([]);
    expect(unaccounted(viaSparkplug())).toEqual([]);
    expect(missing(viaSparkplug())).toEqual(missing(viaJson()));
    if (gaps.messages.length > 0)
      console.info(
        `[sparkplug-faults] gap events: ${gaps.messages.map((m) => m.payload.toString()).join(" ")}`,
      );
    // What the host missed came after the next birth, flagged historical.
    const historical = reportCycles(host).filter((d) => d.message.metrics.some((x) => x.isHistorical));
    expect(historical.length).toBeGreaterThan(0);
    // On Sparkplug a report comes twice only where a crash or a lost connection left it unproven,
    // and the second copy is historical. (MQTT's QoS 1 resends after a lost PUBACK carry the same
    // id, as docs/mqtt.md says.)
    const repeatsUnflagged = <T>(items: T[], cycle: (item: T) => number, flagged: (item: T) => boolean) => {
      const live = new Set<number>();
      const bad: number[] = [];
      for (const item of items) {
        if (flagged(item)) continue;
        if (live.has(cycle(item))) bad.push(cycle(item));
        live.add(cycle(item));
      }
      return bad;
    };
    expect(
      repeatsUnflagged(
        reportCycles(host),
        (d) => Number(d.cycle),
        (d) => d.message.metrics.some((x) => x.isHistorical),
      ),
    ).toEqual([]);

    // The journal's own account, per output, from the running daemon: nothing lost.
    const info = await subscriber(broker.url, "both/bridge/response/info");
    closers.push(() => info.client.endAsync(true));
    await info.client.publishAsync("both/bridge/request/info", "{}", { qos: 1 });
    const answer = JSON.parse((await info.waitFor(() => true, 30_000)).payload.toString()) as {
      data: { features: { journal: { outputs: Record<string, { lost: number; pending: number }> } } };
    };
    const outputs = answer.data.features.journal.outputs;
    expect(Object.keys(outputs).sort()).toEqual(["mqtt", "sparkplug"]);
    for (const figures of Object.values(outputs)) expect(figures.lost).toBe(0);
  }, 120_000);
});
