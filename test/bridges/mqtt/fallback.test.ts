import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "../../../src/bridges/mqtt/embedded-broker.js";
import { sleep } from "../../camera/rig.js";
import { standaloneBridge } from "./rig.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe("a broker that only speaks MQTT 3.1.1 (the embedded one)", () => {
  it("is reached by falling back from MQTT 5", async () => {
    const broker = new EmbeddedBroker("127.0.0.1", 0);
    await broker.start();
    stops.push(() => broker.stop());
    const { bridge, stop } = await standaloneBridge(broker.url, {});
    stops.push(stop);
    for (let i = 0; i < 100 && !bridge.connection.connected; i++) await sleep(20);
    expect(bridge.connection.protocolVersion).toBe(4);
    const viewer = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    stops.push(() => viewer.endAsync(true));
    const got: string[] = [];
    viewer.on("message", (_t, payload) => got.push(payload.toString()));
    await viewer.subscribeAsync("solo/bridge/info", { qos: 1 });
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    expect(JSON.parse(got[0] ?? "{}")).toMatchObject({ features: { protocolVersion: 4 } });
  });
});
