import { createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TestBroker } from "../../support/mosquitto.js";
import { freePort } from "../../support/process.js";
import { encodeCommand, type HostMessage, reportCycles, TestHost } from "./host.js";
import { type SparkplugRig, startSparkplugRig } from "./rig.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rigWith(options: Parameters<typeof startSparkplugRig>[0] = {}): Promise<SparkplugRig> {
  const rig = await startSparkplugRig(options);
  cleanups.push(() => rig.stop());
  return rig;
}

async function hostOn(url: string): Promise<TestHost> {
  const host = await TestHost.connect(url);
  cleanups.push(() => host.stop());
  return host;
}

const metric = (m: HostMessage, name: string) => m.metrics.find((x) => x.name === name);

const bdSeqOf = (m: HostMessage) => metric(m, "bdSeq")?.value;

/**
 * A TCP relay to the broker whose connections the test can cut, as a crash or a network loss
 * would, and can first stall (what the node sends then is taken by TCP, and never arrives).
 */
async function relay(
  to: number,
): Promise<{ url: string; stall: () => void; cut: () => void; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const inbounds = new Set<Socket>();
  const port = await freePort();
  const server: Server = createServer((inbound) => {
    const outbound = new Socket();
    outbound.connect(to, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
    inbounds.add(inbound);
    inbound.on("close", () => inbounds.delete(inbound));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stall: () => {
      for (const s of inbounds) {
        s.unpipe();
        s.on("data", () => undefined);
      }
    },
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A broker of the test's own, a host on it, and the node reaching it through a relay the test can stall and cut. */
async function relayed(options: Parameters<typeof startSparkplugRig>[0] = {}) {
  const broker = new TestBroker();
  await broker.start();
  cleanups.push(() => broker.stop());
  const link = await relay(broker.port);
  cleanups.push(() => link.close());
  const host = await hostOn(broker.url);
  const rig = await rigWith({ ...options, brokers: [broker], sparkplug: { servers: [link.url] } });
  return { link, host, rig };
}

describe("the Sparkplug B edge node, against a host of the test's own on a real Mosquitto", () => {
  it("session establishment: subscribes, then births with bdSeq and Rebirth under unique aliases; bdSeq rises on every CONNECT and across restarts", async () => {
    const broker = new TestBroker();
    await broker.start();
    cleanups.push(() => broker.stop());
    const host = await hostOn(broker.url);
    const rig = await rigWith({ brokers: [broker] });
    await rig.camera.online();
    // The host answers the first NBIRTH with a rebirth at once: only a node subscribed before its birth hears it.
    host.client.on("message", (topic) => {
      if (topic === "spBv1.0/plant/NBIRTH/gw1" && host.of("NBIRTH").length === 1)
        void host.client.publishAsync(
          "spBv1.0/plant/NCMD/gw1",
          encodeCommand([{ name: "Node Control/Rebirth", datatype: 11, value: true }]),
        );
    });
    rig.node.start();
    const [nbirth] = await host.waitFor((m) => m.type === "NBIRTH", "NBIRTH");
    const [dbirth] = await host.waitFor((m) => m.type === "DBIRTH" && m.device === "cam1", "DBIRTH");
    if (!nbirth || !dbirth) throw new Error("unreachable");
    expect([nbirth.qos, nbirth.retain, nbirth.seq]).toEqual([0, false, 0n]);
    expect(metric(nbirth, "bdSeq")).toMatchObject({ datatype: 4, value: 0n });
    expect(metric(nbirth, "Node Control/Rebirth")).toMatchObject({ datatype: 11, value: false });
    expect([dbirth.qos, dbirth.retain, dbirth.seq]).toEqual([0, false, 1n]);
    for (const m of [...nbirth.metrics, ...dbirth.metrics]) {
      expect(m.name).toBeTruthy();
      expect(m.datatype).toBeGreaterThan(0);
      expect(m.timestamp).toBeDefined();
    }
    const aliases = [...nbirth.metrics, ...dbirth.metrics].map((m) => m.alias);
    expect(new Set(aliases).size).toBe(aliases.length);
    expect(dbirth.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(["Status", "Job", "Counters/Inspections", "IO/out0", "Commands/Trigger"]),
    );
    expect(metric(dbirth, "Status")?.value).toBe("running");
    await host.waitFor((m) => m.type === "NBIRTH", "the rebirth the host asked for", 0, 2);

    await rig.restartNode();
    const births = await host.waitFor((m) => m.type === "NBIRTH", "NBIRTH after a restart", 0, 3);
    expect(births.map(bdSeqOf)).toEqual([0n, 0n, 1n]);
  });

  it("session termination: NDEATH with the session's bdSeq, as the Will on a lost connection and on a stop; DDEATH when the camera goes", async () => {
    const { link, host, rig } = await relayed();
    await rig.camera.online();
    rig.node.start();
    await host.waitFor((m) => m.type === "DBIRTH", "DBIRTH");
    link.cut();
    const [will] = await host.waitFor((m) => m.type === "NDEATH", "the Will");
    expect(will?.qos).toBe(1);
    expect(will?.retain).toBe(false);
    expect(will?.seq).toBeUndefined();
    expect(will?.metrics.map((m) => [m.name, m.datatype, m.value])).toEqual([["bdSeq", 4, 0n]]);
    // Back on a new CONNECT, with the next bdSeq in the Will and the NBIRTH alike.
    const [, reborn] = await host.waitFor((m) => m.type === "NBIRTH", "NBIRTH after the loss", 0, 2);
    expect(reborn && bdSeqOf(reborn)).toBe(1n);
    const before = host.messages.length;
    await rig.camera.camera.stop();
    const [ddeath] = await host.waitFor((m) => m.type === "DDEATH" && m.device === "cam1", "DDEATH", before);
    expect(ddeath?.qos).toBe(0);
    await rig.node.stop();
    const deaths = await host.waitFor((m) => m.type === "NDEATH", "NDEATH on a stop", 0, 2);
    expect(deaths.map(bdSeqOf)).toEqual([0n, 1n]);
  });

  it("a lost connection loses no report: what it took before the server proved it had it comes again after the next birth, historical", async () => {
    const { link, host, rig } = await relayed({ rateHz: 500 });
    await rig.camera.online();
    rig.node.start();
    for (let cut = 1; cut <= 3; cut++) {
      await host.waitFor((m) => m.type === "NBIRTH", `birth ${cut}`, 0, cut);
      await host.waitFor((m) => m.type === "DDATA", "data flowing", host.messages.length, 50);
      // What the node sends from here is lost with the connection: only a proof from the server
      // may let it go from the journal.
      link.stall();
      await new Promise((r) => setTimeout(r, 100));
      link.cut();
    }
    await host.waitFor((m) => m.type === "NBIRTH", "the last birth", 0, 4);
    await host.waitFor((m) => m.type === "DDATA", "data after it", host.messages.length, 100);
    const last = Number((reportCycles(host).at(-1) as { cycle: bigint }).cycle);
    const first = Math.min(...rig.camera.reports().map((r) => r.cycle));
    const seen = () => new Set(reportCycles(host).map((d) => Number(d.cycle)));
    const missing = () => {
      const out: number[] = [];
      for (let cycle = first; cycle <= last; cycle++) if (!seen().has(cycle)) out.push(cycle);
      return out;
    };
    for (let i = 0; i < 1_000 && missing().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(missing()).toEqual([]);
  });

  it("a burst far past what may wait for the server's proof all reaches the host", async () => {
    const rig = await rigWith();
    const host = await hostOn(rig.brokers[0]?.url ?? "");
    await rig.camera.online();
    rig.node.start();
    await host.waitFor((m) => m.type === "DBIRTH", "DBIRTH");
    const burst = 3_000;
    await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        rig.journal.append({
          type: "report",
          report: {
            cameraId: "cam1",
            id: `burst-${i}`,
            serial: "SIM-0001",
            bootTime: 1,
            inspection: 0,
            cycle: 1_000_000 + i,
            time: Date.now(),
            passed: true,
            stats: { cycleTimeMs: 1, processTimeMs: 1, passedCount: i, failedCount: 0, dropped: 0 },
            results: { Count: { type: "int", value: i } },
            images: [],
            lossless: true,
            recovered: false,
          },
        }),
      ),
    );
    const seen = () => reportCycles(host).filter((d) => d.cycle >= 1_000_000n).length;
    for (let i = 0; i < 2_000 && seen() < burst; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen()).toBe(burst);
  });

  it("send data: one DDATA per report, by alias, at the report's time, seq one more each message and wrapping past 255", async () => {
    const rig = await rigWith({ rateHz: 200 });
    const host = await hostOn(rig.brokers[0]?.url ?? "");
    await rig.camera.online();
    rig.node.start();
    await host.waitFor((m) => m.type === "DDATA", "300 DDATA", 0, 300);
    const data = reportCycles(host);
    const cycles = data.map((d) => d.cycle);
    // Every report once, each in a DDATA of its own whose metrics carry no names; live ones in
    // order, and those journaled before the birth (historical) in order among themselves.
    expect(cycles.length).toBeGreaterThan(100);
    expect(new Set(cycles).size).toBe(cycles.length);
    const sorted = (list: bigint[]) => [...list].sort((a, b) => (a < b ? -1 : 1));
    for (const historical of [true, false]) {
      const part = data
        .filter((d) => (d.message.metrics[0]?.isHistorical ?? false) === historical)
        .map((d) => d.cycle);
      expect(sorted(part)).toEqual(part);
    }
    expect(data.every((d) => d.message.metrics.every((x) => x.name === undefined))).toBe(true);
    const byCycle = new Map(rig.camera.reports().map((r) => [BigInt(r.cycle), r.time]));
    const first = data[0] as (typeof data)[number];
    expect(first.message.metrics[0]?.timestamp).toBe(BigInt(byCycle.get(first.cycle) ?? -1));
    // seq: NBIRTH 0, then one more per message of the node, 255 rolling over to 0.
    const seqs = host.messages.filter((m) => m.type !== "NDEATH").map((m) => Number(m.seq));
    expect(seqs[0]).toBe(0);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(((seqs[i - 1] as number) + 1) % 256);
    expect(seqs.length).toBeGreaterThan(256);
  });

  it("receive command: NCMD Rebirth births again under the same bdSeq; a DCMD the allow-list permits runs, a refused or unknown one asks nothing", async () => {
    const rig = await rigWith({ commands: { perCamera: { cam1: ["status", "trigger"] } } });
    const host = await hostOn(rig.brokers[0]?.url ?? "");
    await rig.camera.online();
    rig.node.start();
    const [dbirth] = await host.waitFor((m) => m.type === "DBIRTH", "DBIRTH");
    await host.client.publishAsync(
      "spBv1.0/plant/NCMD/gw1",
      encodeCommand([{ name: "Node Control/Rebirth", datatype: 11, value: true }]),
    );
    const births = await host.waitFor((m) => m.type === "NBIRTH", "the rebirth", 0, 2);
    expect(births.map(bdSeqOf)).toEqual([0n, 0n]);
    expect(births[1]?.seq).toBe(0n);
    await host.waitFor((m) => m.type === "DBIRTH", "DBIRTH again", 0, 2);
    // A report with new datums births the device again, under new aliases: always the latest.
    const alias = (name: string) =>
      Number((host.of("DBIRTH", "cam1").at(-1) as HostMessage).metrics.find((m) => m.name === name)?.alias);
    expect(alias("Commands/Trigger")).toBeGreaterThan(0);
    expect(dbirth).toBeDefined();

    const reportsBefore = rig.camera.reports().length;
    const mark = host.messages.length;
    await host.client.publishAsync(
      "spBv1.0/plant/DCMD/gw1/cam1",
      encodeCommand([{ alias: alias("Commands/Trigger"), datatype: 11, value: true }]),
    );
    await rig.camera.waitFor((e) => e.type === "report", 5_000, rig.camera.events.length - 1);
    expect(rig.camera.reports().length).toBeGreaterThan(reportsBefore);
    expect(rig.node.commandFigures.sent).toBe(1);
    // The first report names new datums: the device is born again, under new aliases, before its DDATA.
    const [rebirth] = await host.waitFor(
      (m) => m.type === "DBIRTH",
      "the DBIRTH naming the report's datums",
      mark,
    );
    expect(rebirth?.metrics.some((m) => m.name === "Inspection 0/Cycle")).toBe(true);
    await host.waitFor((m) => m.type === "DDATA" && m.at >= (rebirth?.at ?? 0), "the report's DDATA", mark);

    const ioWrites = () => rig.camera.events.filter((e) => e.type === "io" && e.point === "v0").length;
    const writesBefore = ioWrites();
    await host.client.publishAsync(
      "spBv1.0/plant/DCMD/gw1/cam1",
      encodeCommand([
        { alias: alias("Commands/Start"), datatype: 11, value: true },
        { alias: 99_999, datatype: 11, value: true },
        { name: "IO/v0", datatype: 11, value: true },
      ]),
    );
    for (let i = 0; i < 400 && rig.node.commandFigures.refused + rig.node.commandFigures.unknown < 3; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(rig.node.commandFigures).toMatchObject({ sent: 1, refused: 2, unknown: 1 });
    // The refused IO write reached no camera: v0 (a virtual point, which only writes change) did not move.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
    expect(ioWrites()).toBe(writesBefore);
  });

  it("primary host: waits for its STATE online, leaves on an offline as new as the last online, ignores a stale one", async () => {
    const rig = await rigWith({ sparkplug: { primaryHostId: "scada" } });
    const host = await hostOn(rig.brokers[0]?.url ?? "");
    await rig.camera.online();
    rig.node.start();
    for (let i = 0; i < 40; i++) await new Promise((r) => setTimeout(r, 5));
    expect(host.of("NBIRTH")).toEqual([]);
    await host.state("other-host", true, 1_000);
    await host.state("scada", true, 2_000);
    await host.waitFor((m) => m.type === "DBIRTH", "births once the host is online");
    await host.state("scada", false, 1_500);
    await host.state("scada", true, 2_000);
    for (let i = 0; i < 40; i++) await new Promise((r) => setTimeout(r, 5));
    expect(host.of("NDEATH")).toEqual([]);
    expect(rig.node.figures.staleOffline).toBe(1);
    await host.state("scada", false, 3_000);
    const [death] = await host.waitFor((m) => m.type === "NDEATH", "NDEATH on the host's offline");
    expect(death && bdSeqOf(death)).toBe(0n);
    // The retained offline holds it back on its return: no birth until the host is online again.
    await host.waitFor(() => rig.node.connected, "the reconnect");
    expect(host.of("NBIRTH")).toHaveLength(1);
    await host.state("scada", true, 4_000);
    const births = await host.waitFor((m) => m.type === "NBIRTH", "a birth on the host's return", 0, 2);
    expect(births.map(bdSeqOf)).toEqual([0n, 1n]);
  });

  it("multiple servers: moves to the next server when the primary host goes offline, and is never on both", async () => {
    const a = new TestBroker();
    const b = new TestBroker();
    await a.start();
    await b.start();
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    const onA = await hostOn(a.url);
    const onB = await hostOn(b.url);
    await onA.state("scada", true, 1_000);
    await onB.state("scada", true, 1_000);
    const rig = await rigWith({ brokers: [a, b], sparkplug: { primaryHostId: "scada" }, rateHz: 20 });
    await rig.camera.online();
    rig.node.start();
    await onA.waitFor((m) => m.type === "DDATA", "data on the first server");
    expect(onB.messages).toEqual([]);
    await onA.state("scada", false, 2_000);
    await onA.waitFor((m) => m.type === "NDEATH", "NDEATH on the first server");
    await onB.waitFor((m) => m.type === "DDATA", "data on the second server");
    const leftA = onA.messages.length;
    for (let i = 0; i < 40; i++) await new Promise((r) => setTimeout(r, 5));
    expect(onA.messages.length).toBe(leftA);
    expect(metric(onB.of("NBIRTH")[0] as HostMessage, "bdSeq")?.value).toBe(1n);
  });

  it("store and forward: what a host missed while offline arrives after the next birth, in order, as is_historical, live data flowing too", async () => {
    const rig = await rigWith({ sparkplug: { primaryHostId: "scada" }, rateHz: 50 });
    const host = await hostOn(rig.brokers[0]?.url ?? "");
    await host.state("scada", true, 1_000);
    await rig.camera.online();
    rig.node.start();
    await host.waitFor((m) => m.type === "DDATA", "live data");
    await host.state("scada", false, 2_000);
    await host.waitFor((m) => m.type === "NDEATH", "NDEATH");
    const offlineAt = rig.camera.reports().length;
    for (let i = 0; i < 60; i++) await new Promise((r) => setTimeout(r, 5));
    await host.state("scada", true, 3_000);
    await host.waitFor((m) => m.type === "DDATA" && m.metrics.some((x) => x.isHistorical), "historical data");
    const producedWhileAway = rig.camera.reports().length - offlineAt;
    expect(producedWhileAway).toBeGreaterThan(0);
    // Every report the camera produced reaches the host, live or historical.
    const last = rig.camera.reports().at(-1)?.cycle ?? 0;
    const seen = () => new Set(reportCycles(host).map((d) => d.cycle));
    for (let i = 0; i < 2_000 && !seen().has(BigInt(last)); i++) await new Promise((r) => setTimeout(r, 5));
    const firstCycle = Math.min(...rig.camera.reports().map((r) => r.cycle));
    const missing = [];
    for (let cycle = firstCycle; cycle <= last; cycle++) if (!seen().has(BigInt(cycle))) missing.push(cycle);
    expect(missing).toEqual([]);
    const historical = host.of("DDATA").filter((m) => m.metrics.some((x) => x.isHistorical));
    expect(historical.length).toBeGreaterThan(0);
  });
});
