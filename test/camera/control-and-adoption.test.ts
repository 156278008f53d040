import { connect } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CameraHub } from "../../src/camera/hub.js";
import type { CameraEvent } from "../../src/camera/index.js";
import { SimulatedCamera } from "../../src/camera/simulator/camera.js";
import { DEFAULT_PORTS, vsCodec } from "../../src/camera/wire/index.js";
import { buildConfigSchema } from "../../src/config/schema.js";
import { systemClock } from "../../src/lib/clock.js";
import { seededRandom } from "../../src/lib/random.js";
import { freeUdpPort } from "../support/process.js";
import { type Rig, sleep, startRig } from "./rig.js";

let rig: Rig | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("control policies", () => {
  it("hold takes control once online and keeps it across commands", async () => {
    rig = await startRig({ control: "hold" });
    await rig.online();
    await rig.waitFor((e) => e.type === "state" && e.state.inControl === "127.0.0.1");
    expect(rig.camera.control.holder()).toBe("127.0.0.1");
    await rig.hub.command("cam1", "stop", {});
    await rig.hub.command("cam1", "start", {});
    expect(rig.camera.control.holder()).toBe("127.0.0.1");
  });

  it("setNetwork works with control when the config allows it", async () => {
    rig = await startRig({ allowSetNetwork: true });
    await rig.online();
    await rig.hub.command("cam1", "setNetwork", { name: "renamed-by-bridge" });
    expect(rig.camera.identity.name).toBe("renamed-by-bridge");
    expect(rig.camera.control.holder()).toBe("");
  });
});

describe("acquire", () => {
  it("streams live images as image events until liveStop", async () => {
    rig = await startRig();
    await rig.online();
    await rig.hub.command("cam1", "liveStart", { fps: 50 });
    await rig.waitFor((e) => e.type === "image" && e.source === "live");
    await rig.hub.command("cam1", "liveStop", {});
    await sleep(60);
    const count = rig.events.filter((e) => e.type === "image").length;
    await sleep(150);
    expect(rig.events.filter((e) => e.type === "image").length).toBe(count);
    await expect(rig.hub.command("cam1", "liveStart", { fps: 0 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});

describe("the simulator's formatted output", () => {
  it("writes one line per cycle, as the job's format string makes it, to every client", async () => {
    rig = await startRig();
    await rig.online();
    const socket = connect(rig.ports.outputs[0] ?? 0, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    await new Promise((resolve) => socket.once("connect", resolve));
    await rig.hub.command("cam1", "trigger", {});
    await rig.hub.command("cam1", "trigger", {});
    for (let i = 0; i < 100 && text.split("\r\n").length < 3; i++) await sleep(10);
    socket.destroy();
    const lines = text.split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^(PASS|FAIL),\d+,\d+\.\d{3},LOT-\d+$/);
  });
});

describe("adoption of announced cameras", () => {
  it("runs an announced camera whose name matches the pattern, and ignores one that does not", async () => {
    const announcePort = await freeUdpPort();
    const cameras: SimulatedCamera[] = [];
    for (const [name, serial] of [
      ["line7-cam", "SIM-A"],
      ["office-cam", "SIM-B"],
    ] as const) {
      const ports = { ...DEFAULT_PORTS, outputs: [49211, 49212, 49213, 49214], announce: announcePort };
      // Adopted cameras are reached on the profile's default ports: each sim gets its own 127.0.0.x.
      const host = name === "line7-cam" ? "127.0.0.7" : "127.0.0.8";
      const camera = new SimulatedCamera({
        host,
        ports,
        identity: { name, serial, model: "VS-SIM-100", mac: "02:00:00:00:00:07", ip: host, version: "1" },
        password: "pw",
        codec: vsCodec,
        clock: systemClock,
        seed: 1,
        announce: { host: "127.0.0.1", port: announcePort, intervalMs: 100 },
        heartbeatMs: 100,
        timeoutMs: 300,
        rateHz: 0,
      });
      await camera.start();
      cameras.push(camera);
    }
    const config = buildConfigSchema().parse({
      cameras: {
        discovery: { bindAddress: "127.0.0.1", port: announcePort, adopt: { namePattern: "^line[0-9]+-" } },
        reconnect: { initialMs: 50, maxMs: 200 },
      },
    }).cameras;
    const hub = new CameraHub({
      config,
      codec: vsCodec,
      clock: systemClock,
      random: seededRandom(1),
      logger: pino({ level: "silent" }),
      clientName: "t",
    });
    const events: CameraEvent[] = [];
    hub.events.subscribe((e) => events.push(e));
    await hub.start();
    cleanups.push(async () => {
      await hub.stop();
      for (const camera of cameras) await camera.stop();
    });
    for (let i = 0; i < 300 && !events.some((e) => e.type === "online"); i++) await sleep(10);
    expect(events.some((e) => e.type === "discovered" && e.announce.name === "office-cam")).toBe(true);
    expect(hub.cameras.map((c) => [c.id, c.serial, c.availability])).toEqual([
      ["line7-cam", "SIM-A", "online"],
    ]);
  });
});
