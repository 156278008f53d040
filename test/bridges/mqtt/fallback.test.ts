import mqtt from "mqtt";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { MqttBridge } from "../../../src/bridges/mqtt/bridge.js";
import { EmbeddedBroker } from "../../../src/bridges/mqtt/embedded-broker.js";
import { Journal } from "../../../src/bridges/mqtt/journal.js";
import { CameraHub } from "../../../src/camera/hub.js";
import { vsCodec } from "../../../src/camera/wire/index.js";
import { buildConfigSchema } from "../../../src/config/schema.js";
import { systemClock } from "../../../src/lib/clock.js";
import { seededRandom } from "../../../src/lib/random.js";
import { sleep } from "../../camera/rig.js";
import { tempDir } from "../../support/process.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe("a broker that only speaks MQTT 3.1.1 (the embedded one)", () => {
  it("is reached by falling back from MQTT 5", async () => {
    const broker = new EmbeddedBroker("127.0.0.1", 0);
    await broker.start();
    stops.push(() => broker.stop());
    const logger = pino({ level: "silent" });
    const config = buildConfigSchema().parse({
      cameras: { discovery: { enabled: false } },
      mqtt: { baseTopic: "fb", reconnect: { initialMs: 20, maxMs: 100 } },
    });
    const journal = new Journal({
      path: `${tempDir()}/j.sqlite`,
      maxBytes: 1 << 20,
      policy: "block",
      fsync: false,
      logger,
    });
    journal.open();
    const hub = new CameraHub({
      config: config.cameras,
      codec: vsCodec,
      clock: systemClock,
      random: seededRandom(1),
      logger,
      clientName: "t",
    });
    const bridge = new MqttBridge({
      config: config.mqtt,
      url: broker.url,
      version: "t",
      hub,
      journal,
      clock: systemClock,
      random: seededRandom(1),
      logger,
      metrics: new Registry(),
      health: () => ({}),
      statusChanged: () => undefined,
    });
    bridge.start();
    stops.push(async () => {
      await bridge.stop();
      journal.close();
    });
    for (let i = 0; i < 100 && !bridge.connection.connected; i++) await sleep(20);
    expect(bridge.connection.protocolVersion).toBe(4);
    const viewer = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    stops.push(() => viewer.endAsync(true));
    const got: string[] = [];
    viewer.on("message", (_t, payload) => got.push(payload.toString()));
    await viewer.subscribeAsync("fb/bridge/info", { qos: 1 });
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    expect(JSON.parse(got[0] ?? "{}")).toMatchObject({ features: { protocolVersion: 4 } });
  });
});
