import { afterEach, describe, expect, it } from "vitest";
import type { CameraEvent, Report } from "../../src/camera/index.js";
import { type Rig, sleep, startRig } from "./rig.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function cycles(reports: readonly Report[]): number[] {
  return reports.map((r) => r.cycle);
}

function contiguous(list: readonly number[]): boolean {
  return list.every((cycle, i) => i === 0 || cycle === (list[i - 1] as number) + 1);
}

const gaps = (events: readonly CameraEvent[]) => events.filter((e) => e.type === "gap");

describe("report streams", () => {
  it("lossless: a slow keeper fills the window, the camera waits, and resumes without a gap", async () => {
    rig = await startRig({
      rateHz: 100,
      reports: [{ inspection: 0, lossless: true, window: 4 }],
      firstContact: "live",
    });
    let release: () => void = () => undefined;
    let held = true;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    rig.hub.addKeeper(() => (held ? gate : Promise.resolve()));
    await rig.online();
    await sleep(300);
    // Nothing acknowledged: exactly one window of reports, then the inspection waits. (The camera
    // ran freely before the stream opened; with firstContact live nobody fetches those cycles.)
    const first = rig.reports()[0]?.cycle ?? 0;
    expect(cycles(rig.reports())).toEqual([first, first + 1, first + 2, first + 3]);
    expect(rig.camera.services.reporting.stalls).toBeGreaterThan(5);
    expect(rig.camera.inspections[0]?.cycle).toBe(first + 3);
    held = false;
    release();
    await rig.waitFor((e) => e.type === "report" && e.report.cycle >= 30, 3_000);
    const got = cycles(rig.reports());
    expect(got[0]).toBe(first);
    expect(contiguous(got)).toBe(true);
    expect(gaps(rig.events)).toEqual([]);
  });

  it("first contact: recover fetches what the part queue holds before the first live report, live does not", async () => {
    for (const firstContact of ["recover", "live"] as const) {
      rig = await startRig({ rateHz: 0, firstContact });
      // Cycles the camera ran before the daemon first heard of it sit in its part queue.
      for (let i = 0; i < 5; i++) rig.camera.services.reporting.tick();
      await rig.online();
      await rig.hub.command("cam1", "trigger", {});
      await rig.waitFor((e) => e.type === "report" && !e.report.recovered);
      const got = rig.reports().map((r) => [r.cycle, r.recovered]);
      if (firstContact === "recover")
        expect(got).toEqual([
          [1, true],
          [2, true],
          [3, true],
          [4, true],
          [5, true],
          [6, false],
        ]);
      else expect(got).toEqual([[6, false]]);
      expect(gaps(rig.events)).toEqual([]);
      await rig.stop();
      rig = undefined;
    }
  });

  it("lossy: at most maxRate reports a second, the rest counted as dropped", async () => {
    rig = await startRig({ rateHz: 100, reports: [{ inspection: 0, lossless: false, maxRate: 10 }] });
    await rig.online();
    const start = rig.reports().length;
    await sleep(1_000);
    const received = rig.reports().slice(start);
    expect(received.length).toBeGreaterThanOrEqual(6);
    expect(received.length).toBeLessThanOrEqual(12);
    expect(received.at(-1)?.stats.dropped).toBeGreaterThan(40);
    expect(received.every((r) => !r.lossless)).toBe(true);
  });

  it("recovers cycles missed during a drop from the part queue, marked recovered", async () => {
    rig = await startRig({ rateHz: 50 });
    await rig.online();
    await rig.waitFor((e) => e.type === "report" && e.report.cycle >= 5);
    const mark = rig.events.length;
    rig.camera.dropWithReset();
    await rig.waitFor((e) => e.type === "offline", 2_000, mark);
    await rig.online(mark);
    await rig.waitFor(
      (e) => e.type === "report" && !e.report.recovered,
      3_000,
      rig.events.findIndex((e, i) => i > mark && e.type === "online"),
    );
    const all = rig.reports();
    expect(contiguous(cycles(all))).toBe(true);
    expect(all.some((r) => r.recovered)).toBe(true);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    expect(gaps(rig.events)).toEqual([]);
  });

  it("reports a gap with the range when the queue has rolled over", async () => {
    rig = await startRig({ rateHz: 100, queueCapacity: 4 });
    await rig.online();
    await rig.waitFor((e) => e.type === "report" && e.report.cycle >= 3);
    const before = rig.reports().at(-1)?.cycle ?? 0;
    rig.camera.freeze();
    await rig.waitFor((e) => e.type === "offline", 2_000);
    // While frozen the camera writes nothing and runs no cycles; afterwards it runs freely until
    // the client is back, far more than the queue's four places.
    rig.camera.resume();
    await sleep(5);
    const gap = await rig.waitFor((e) => e.type === "gap", 3_000);
    if (gap.type !== "gap") throw new Error("unreachable");
    expect(gap.fromCycle).toBeGreaterThan(before);
    expect(gap.toCycle).toBeGreaterThanOrEqual(gap.fromCycle);
    const after = rig.reports().filter((r) => r.cycle > (gap.toCycle ?? 0));
    expect(after[0]?.cycle).toBe((gap.toCycle ?? 0) + 1);
    // Every cycle is either received or inside the gap.
    const got = new Set(cycles(rig.reports()));
    const last = Math.max(...got);
    for (let cycle = Math.min(...got); cycle <= last; cycle++) {
      expect(got.has(cycle) || (cycle >= gap.fromCycle && cycle <= (gap.toCycle ?? 0))).toBe(true);
    }
  });

  it("reports a camera restart as a gap of unknown size and starts ids from the new boot", async () => {
    rig = await startRig({ rateHz: 50 });
    await rig.online();
    await rig.waitFor((e) => e.type === "report" && e.report.cycle >= 3);
    const mark = rig.events.length;
    await sleep(1_500);
    rig.camera.restart();
    await rig.online(mark);
    const gap = await rig.waitFor((e) => e.type === "gap" && e.toCycle === undefined, 3_000, mark);
    expect(gap.type === "gap" && gap.reason).toMatch(/restarted/);
    const fresh = await rig.waitFor((e) => e.type === "report" && e.report.cycle === 1, 3_000, mark);
    if (fresh.type !== "report") throw new Error("unreachable");
    const old = rig.reports()[0];
    expect(fresh.report.bootTime).toBeGreaterThan(old?.bootTime ?? 0);
    expect(fresh.report.id).not.toBe(old?.id);
  });

  it("tells a restart within a second of the last boot by the uptime going back: new ids all the same", async () => {
    rig = await startRig({ rateHz: 50 });
    await rig.online();
    const before = await rig.waitFor((e) => e.type === "report" && e.report.cycle >= 2);
    const mark = rig.events.length;
    rig.camera.restart();
    await rig.online(mark);
    await rig.waitFor((e) => e.type === "gap" && e.toCycle === undefined, 3_000, mark);
    const fresh = await rig.waitFor((e) => e.type === "report" && e.report.cycle === 1, 3_000, mark);
    if (fresh.type !== "report" || before.type !== "report") throw new Error("unreachable");
    expect(fresh.report.bootTime).toBeGreaterThan(before.report.bootTime);
    expect(
      rig
        .reports()
        .filter((r) => r.cycle === 1)
        .map((r) => r.id),
    ).toHaveLength(
      new Set(
        rig
          .reports()
          .filter((r) => r.cycle === 1)
          .map((r) => r.id),
      ).size,
    );
  });
});

describe("drops", () => {
  it("reports a half-open camera within timeoutMs plus one heartbeat, and reconnects when it resumes", async () => {
    rig = await startRig({ heartbeatMs: 100, timeoutMs: 400 });
    await rig.online();
    const frozenAt = Date.now();
    rig.camera.freeze();
    await rig.waitFor((e) => e.type === "offline", 2_000);
    const took = Date.now() - frozenAt;
    // Silence counts from the last frame heard, up to one heartbeat before the freeze.
    expect(took).toBeGreaterThanOrEqual(400 - 100);
    // The requirement: within timeoutMs plus one heartbeat, plus scheduling slack on a shared machine.
    expect(took).toBeLessThanOrEqual(400 + 100 + 250);
    const mark = rig.events.length;
    rig.camera.resume();
    await rig.online(mark);
  });

  it("closes the connection on a malformed frame, counts it, and reconnects", async () => {
    rig = await startRig();
    await rig.online();
    const mark = rig.events.length;
    rig.camera.sendMalformed("monitor");
    const offline = await rig.waitFor((e) => e.type === "offline", 2_000, mark);
    expect(offline.type === "offline" && offline.reason).toMatch(/malformed/);
    await rig.online(mark);
    expect(rig.hub.session("cam1")?.counters.malformed).toBe(1);
  });

  it("leaves no timer or socket behind after stop()", async () => {
    // Handles of the previous test close on the next turns of the loop.
    await sleep(100);
    const before = process
      .getActiveResourcesInfo()
      .filter((r) => r !== "TTYWrap")
      .sort();
    rig = await startRig({ rateHz: 20, discovery: true });
    await rig.online();
    await rig.hub.command("cam1", "ioPulse", { point: "v0", ms: 10_000 });
    await rig.stop();
    rig = undefined;
    await sleep(50);
    const after = process
      .getActiveResourcesInfo()
      .filter((r) => r !== "TTYWrap")
      .sort();
    expect(after).toEqual(before);
  });
});

describe("discovery", () => {
  it("sees a camera's announce, learns its identity, tells of a change, and loses it after three intervals", async () => {
    rig = await startRig({ discovery: true });
    const seen = await rig.waitFor((e) => e.type === "discovered");
    expect(seen.type === "discovered" && seen.announce).toMatchObject({
      serial: "SIM-0001",
      name: "line1-cam",
      intervalMs: 100,
    });
    await rig.online();
    await rig.waitFor((e) => e.type === "state" && e.state.serial === "SIM-0001");
    rig.camera.identity.name = "line1-renamed";
    const changed = await rig.waitFor((e) => e.type === "changed");
    expect(changed.type === "changed" && changed.changed).toEqual(["name"]);
    rig.camera.freeze();
    const frozenAt = Date.now();
    await rig.waitFor((e) => e.type === "lost", 2_000);
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(200);
  });

  it("counts a malformed announce and keeps listening", async () => {
    rig = await startRig({ discovery: true });
    await rig.waitFor((e) => e.type === "discovered");
    const discovery = rig.hub.discovery;
    const before = discovery?.malformed ?? 0;
    discovery?.handle(Buffer.from("not a frame"));
    expect(discovery?.malformed).toBe(before + 1);
    expect(discovery?.cameras.map((c) => c.serial)).toContain("SIM-0001");
  });
});
