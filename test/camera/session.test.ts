import { afterEach, describe, expect, it } from "vitest";
import { CameraError } from "../../src/camera/index.js";
import { type Rig, sleep, startRig } from "./rig.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe("a camera session against the simulator", () => {
  it("comes online with HELLO and ATTACH on every service, and reports status and IO", async () => {
    rig = await startRig();
    const online = await rig.online();
    expect(online.type === "online" && online.state.availability).toBe("online");
    const state = rig.hub.cameras[0];
    expect(state?.status).toBe("running");
    expect(state?.job).toBe("bottle-caps");
    // Every IO point's value arrives once at start.
    const io = rig.events.filter((e) => e.type === "io").map((e) => (e.type === "io" ? e.point : ""));
    expect(io).toEqual(["in0", "in1", "out0", "out1", "v0"]);
    // One session on the camera, with every service connection attached to it.
    const [session] = [...rig.camera.sessions.values()];
    expect(session?.attached.size).toBe(6);
  });

  it("runs IO commands, emits every transition in order, and maps the camera's errors", async () => {
    rig = await startRig();
    await rig.online();
    const start = rig.events.length;
    await rig.hub.command("cam1", "ioWrite", { point: "out1", value: true });
    expect(await rig.hub.command("cam1", "ioRead", { point: "out1" })).toEqual({ value: true });
    await rig.hub.command("cam1", "ioPulse", { point: "v0", ms: 50 });
    await rig.waitFor((e) => e.type === "io" && e.point === "v0" && !e.value, 2_000, start);
    const changes = rig.events
      .slice(start)
      .flatMap((e) => (e.type === "io" ? [`${e.point}=${e.value}`] : []));
    expect(changes).toEqual(["out1=true", "v0=true", "v0=false"]);
    await expect(rig.hub.command("cam1", "ioWrite", { point: "in0", value: true })).rejects.toMatchObject({
      code: "READ_ONLY",
    });
    await expect(rig.hub.command("cam1", "ioRead", { point: "nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const points = (await rig.hub.command("cam1", "ioList", {})).points;
    expect(points.find((p) => p.name === "out1")).toEqual({ name: "out1", kind: "output", value: true });
  });

  it("calls every RPC method, taking control on demand with the password", async () => {
    rig = await startRig();
    await rig.online();
    expect((await rig.hub.command("cam1", "jobs", {})).jobs).toHaveLength(3);
    await rig.hub.command("cam1", "stop", {});
    expect((await rig.hub.command("cam1", "status", {})).status).toBe("stopped");
    await rig.hub.command("cam1", "selectJob", { slot: 2 });
    expect((await rig.hub.command("cam1", "status", {})).job).toBe("datamatrix");
    await rig.hub.command("cam1", "download", { file: "job.job" });
    await rig.hub.command("cam1", "flash", {});
    await rig.hub.command("cam1", "start", {});
    // onDemand gives control back after each command.
    expect(rig.camera.control.holder()).toBe("");
    await expect(rig.hub.command("cam1", "selectJob", { slot: 9 })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const { cycle } = await rig.hub.command("cam1", "trigger", {});
    const report = await rig.waitFor((e) => e.type === "report" && e.report.cycle === cycle);
    expect(report.type === "report" && report.report.lossless).toBe(true);
  });

  it("fails control commands with AUTH_FAILED on a wrong password, and NOT_IN_CONTROL with control never", async () => {
    rig = await startRig({ password: "wrong" });
    await rig.online();
    await expect(rig.hub.command("cam1", "stop", {})).rejects.toMatchObject({ code: "AUTH_FAILED" });
    expect(rig.camera.status).toBe("running");
    await rig.stop();
    rig = await startRig({ control: "never" });
    await rig.online();
    await expect(rig.hub.command("cam1", "stop", {})).rejects.toMatchObject({ code: "NOT_IN_CONTROL" });
    await expect(rig.hub.command("cam1", "setNetwork", { name: "x" })).rejects.toMatchObject({
      code: "NOT_ALLOWED",
    });
  });

  it("snaps an image and reads, takes and clears the part queue", async () => {
    rig = await startRig();
    await rig.online();
    const { image } = await rig.hub.command("cam1", "snap", {});
    expect([image.width, image.height, image.format, image.data.length]).toEqual([32, 24, "mono8", 32 * 24]);
    for (let i = 0; i < 3; i++) await rig.hub.command("cam1", "trigger", {});
    await rig.waitFor((e) => e.type === "report" && e.report.cycle === 3);
    expect(await rig.hub.command("cam1", "queueInfo", { inspection: 0 })).toEqual({
      enabled: true,
      capacity: 32,
      count: 3,
    });
    const read = await rig.hub.command("cam1", "queueRead", { inspection: 0, count: 10 });
    expect(read.reports.map((r) => r.cycle)).toEqual([1, 2, 3]);
    expect(read.reports[0]?.results["Snapshot1.Blob1.Count"]?.type).toBe("int");
    expect((await rig.hub.command("cam1", "queueTake", { inspection: 0 })).reports).toHaveLength(3);
    await rig.hub.command("cam1", "queueClear", { inspection: 0 });
    expect((await rig.hub.command("cam1", "queueInfo", { inspection: 0 })).count).toBe(0);
  });

  it("changes a report's datums and rate through report control", async () => {
    rig = await startRig();
    await rig.online();
    const all = (await rig.hub.command("cam1", "reportRecords", { inspection: 0 })).records;
    expect(all).toContain("Snapshot1.Code.Text");
    await rig.hub.command("cam1", "reportRemove", { inspection: 0, path: "Snapshot1.Code.Text" });
    await expect(
      rig.hub.command("cam1", "reportAdd", { inspection: 0, path: "No.Such" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await rig.hub.command("cam1", "reportRate", { inspection: 0, maxRate: 5 });
    const { cycle } = await rig.hub.command("cam1", "trigger", {});
    const event = await rig.waitFor((e) => e.type === "report" && e.report.cycle === cycle);
    if (event.type !== "report") throw new Error("unreachable");
    expect(Object.keys(event.report.results)).not.toContain("Snapshot1.Code.Text");
    expect(Object.keys(event.report.results)).toHaveLength(all.length - 1);
  });

  it("rejects commands for an unknown camera and while offline", async () => {
    rig = await startRig();
    await expect(rig.hub.command("nope", "status", {})).rejects.toBeInstanceOf(CameraError);
    await rig.online();
    rig.camera.freeze();
    await rig.waitFor((e) => e.type === "offline", 3_000);
    await expect(rig.hub.command("cam1", "status", {})).rejects.toMatchObject({ code: "OFFLINE" });
    await sleep(10);
  });
});
