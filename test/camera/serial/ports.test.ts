import { afterEach, describe, expect, it } from "vitest";
import { CameraHub } from "../../../src/camera/hub.js";
import type { CameraEvent, SerialLineEvent } from "../../../src/camera/index.js";
import { vsCodec } from "../../../src/camera/wire/index.js";
import { buildConfigSchema } from "../../../src/config/schema.js";
import { systemClock } from "../../../src/lib/clock.js";
import { seededRandom } from "../../../src/lib/random.js";
import { captureLog } from "../../support/log.js";
import { TextServer } from "../../support/text-server.js";
import { sleep } from "../rig.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function textOnlyCamera(formattedOutput: (port: number) => Record<string, unknown>[]) {
  const server = new TextServer();
  await server.start();
  const log = captureLog("warn");
  const config = buildConfigSchema().parse({
    cameras: {
      discovery: { enabled: false },
      reconnect: { initialMs: 30, maxMs: 100 },
      static: [
        { id: "textcam", address: "127.0.0.1", binary: false, formattedOutput: formattedOutput(server.port) },
      ],
    },
  }).cameras;
  const hub = new CameraHub({
    config,
    codec: vsCodec,
    clock: systemClock,
    random: seededRandom(1),
    logger: log.logger,
    clientName: "t",
  });
  const events: CameraEvent[] = [];
  hub.events.subscribe((e) => events.push(e));
  await hub.start();
  stops.push(async () => {
    await hub.stop();
    await server.stop();
  });
  const waitFor = async (predicate: (e: CameraEvent) => boolean, after = 0) => {
    for (let i = 0; i < 300; i++) {
      const found = events.slice(after).find(predicate);
      if (found) return found;
      await sleep(10);
    }
    throw new Error(`not seen; events: ${events.map((e) => e.type).join(",")}`);
  };
  const lines = () => events.filter((e): e is SerialLineEvent => e.type === "serial");
  return { server, hub, events, waitFor, lines, log };
}

describe("formatted-output ports against a plain TCP server", () => {
  it("makes a camera with formatted output only a full citizen: online, lines parsed, offline, back", async () => {
    const cam = await textOnlyCamera((port) => [
      { port, parse: { format: "%s,%d,%.3f,%s\\r\\n", names: ["result", "cycle", "area", "lot"] } },
    ]);
    await cam.waitFor((e) => e.type === "online");
    expect(cam.hub.cameras).toMatchObject([{ id: "textcam", availability: "online" }]);
    cam.server.write("PASS,1,12.500,LOT-1\r\nFAIL,2,");
    cam.server.write("-3.250,LOT-2\r\n");
    await cam.waitFor((e) => e.type === "serial" && e.seq === 2);
    expect(cam.lines().map((l) => l.fields)).toEqual([
      { result: "PASS", cycle: 1, area: 12.5, lot: "LOT-1" },
      { result: "FAIL", cycle: 2, area: -3.25, lot: "LOT-2" },
    ]);
    const mark = cam.events.length;
    await cam.server.stop();
    await cam.waitFor((e) => e.type === "offline", mark);
    await cam.server.start();
    await cam.waitFor((e) => e.type === "online", mark);
    cam.server.write("PASS,3,1.000,LOT-3\r\n");
    await cam.waitFor((e) => e.type === "serial" && e.seq === 3);
    expect(cam.server.received).toBe(0);
    await expect(cam.hub.command("textcam", "status", {})).rejects.toMatchObject({ code: "NOT_ALLOWED" });
    const counters = cam.hub.serial.counters()[0]?.counters;
    expect(counters).toMatchObject({ lines: 3, parseErrors: 0, reconnects: 1 });
  });

  it("publishes an unparsable line raw with its error, and counts it and overlong lines", async () => {
    const cam = await textOnlyCamera((port) => [
      {
        port,
        maxLineLength: 16,
        framing: { terminator: "\\n" },
        parse: { csv: { names: ["a", "n"], types: { n: "int" } } },
      },
    ]);
    await cam.waitFor((e) => e.type === "online");
    cam.server.write("x,1\nonly-one-field\nthis line is far too long for the port\ny,2\n");
    await cam.waitFor((e) => e.type === "serial" && e.raw === "y,2");
    const [first, bad, last] = cam.lines();
    expect(first?.fields).toEqual({ a: "x", n: 1 });
    expect(bad).toMatchObject({ raw: "only-one-field", fields: undefined, error: "1 fields, 2 expected" });
    expect(last?.fields).toEqual({ a: "y", n: 2 });
    expect(cam.hub.serial.counters()[0]?.counters).toMatchObject({ lines: 3, parseErrors: 1, overlong: 1 });
  });

  it("goes on reading when a line keeper refuses lines: each counted, the failure logged once", async () => {
    const cam = await textOnlyCamera((port) => [{ port }]);
    cam.hub.addLineKeeper((line) =>
      line.seq % 2 === 0 ? Promise.reject(new Error("store refused")) : Promise.resolve(),
    );
    await cam.waitFor((e) => e.type === "online");
    cam.server.write(Array.from({ length: 600 }, (_, i) => `L${i + 1}\r\n`).join(""));
    await cam.waitFor((e) => e.type === "serial" && e.seq === 600);
    await sleep(20);
    expect(cam.hub.serial.counters()[0]?.counters).toMatchObject({ lines: 600, pending: 0, keepErrors: 300 });
    const refusals = cam.log.records().filter((r) => r.msg === "formatted output line not kept");
    expect(refusals).toHaveLength(1);
  });

  it("cuts lines by quiet time for a job whose format ends without a terminator", async () => {
    const cam = await textOnlyCamera((port) => [
      {
        port,
        framing: { quietMs: 40 },
        parse: { regex: "^(?<code>\\w+)=(?<value>-?\\d+)$", types: { value: "int" } },
      },
    ]);
    await cam.waitFor((e) => e.type === "online");
    cam.server.write("TEMP=");
    await sleep(10);
    cam.server.write("-7");
    await sleep(200);
    cam.server.write("HUM=55");
    await cam.waitFor((e) => e.type === "serial" && e.raw === "HUM=55");
    expect(cam.lines().map((l) => l.fields)).toEqual([
      { code: "TEMP", value: -7 },
      { code: "HUM", value: 55 },
    ]);
  });
});

describe("formatted output of a camera with a binary session (the simulator)", () => {
  it("reads a line per cycle, and a malformed REPORT frame that drops the session costs no line", async () => {
    const { startRig } = await import("../rig.js");
    const rig = await startRig({ formattedOutput: true, heartbeatMs: 100, timeoutMs: 400, rateHz: 0 });
    stops.push(() => rig.stop());
    await rig.online();
    // The text port connects on its own: trigger until its first line arrives.
    let cycle = 0;
    for (let i = 0; i < 100 && !rig.events.some((e) => e.type === "serial"); i++) {
      cycle = (await rig.hub.command("cam1", "trigger", {})).cycle;
      await sleep(20);
    }
    const line = await rig.waitFor((e) => e.type === "serial" && e.fields?.cycle === cycle);
    expect(line.type === "serial" && line.fields).toMatchObject({
      cycle,
      lot: expect.stringMatching(/^LOT-\d+$/),
    });
    const before = rig.hub.serial.counters()[0]?.counters.reconnects ?? 0;
    const mark = rig.events.length;
    rig.camera.sendMalformed("reports");
    await rig.waitFor((e) => e.type === "offline", 3_000, mark);
    // The camera writes its text while the binary session is down and while it comes back.
    for (let i = 0; i < 10; i++) {
      rig.camera.services.reporting.tick();
      await sleep(10);
    }
    await rig.online(mark);
    const last = (await rig.hub.command("cam1", "trigger", {})).cycle;
    await rig.waitFor((e) => e.type === "serial" && e.fields?.cycle === last, 3_000);
    const seen = rig.events.flatMap((e) => (e.type === "serial" ? [Number(e.fields?.cycle)] : []));
    const from = seen.indexOf(cycle);
    expect(seen.slice(from)).toEqual(Array.from({ length: last - cycle + 1 }, (_, i) => cycle + i));
    expect(rig.hub.serial.counters()[0]?.counters.reconnects).toBe(before);
  });
});
