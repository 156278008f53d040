import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { sleep } from "../../camera/rig.js";
import { TestBroker } from "../../support/mosquitto.js";
import { standaloneBridge } from "./rig.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function bridgeTo(broker: TestBroker, mqttConfig: Record<string, unknown>) {
  const solo = await standaloneBridge(broker.url, mqttConfig);
  stops.push(() => solo.stop());
  return solo;
}

describe("MQTT security", () => {
  it("connects over TLS with the CA from a file and a username and password, and logs no password", async () => {
    const broker = new TestBroker({ users: { bridge: "s3cret-pw-123", viewer: "viewer-pw" }, tls: true });
    await broker.start();
    stops.push(() => broker.stop());
    const { bridge, logs } = await bridgeTo(broker, {
      url: broker.url,
      username: "bridge",
      password: "s3cret-pw-123",
      tls: { ca: broker.caFile },
    });
    const viewer = await mqtt.connectAsync(broker.url, {
      username: "viewer",
      password: "viewer-pw",
      ca: readFileSync(broker.caFile as string),
    });
    stops.push(() => viewer.endAsync(true));
    const states: string[] = [];
    viewer.on("message", (_t, payload) => states.push(payload.toString()));
    await viewer.subscribeAsync("solo/bridge/state", { qos: 1 });
    for (let i = 0; i < 100 && !states.includes("online"); i++) await sleep(20);
    expect(states).toContain("online");
    expect(bridge.health()).toEqual({ healthy: true, detail: "MQTT connected" });
    expect(logs()).not.toContain("s3cret-pw-123");
  });

  it("stays unhealthy and says why with a wrong password, without logging it", async () => {
    const broker = new TestBroker({ users: { bridge: "right-pw" } });
    await broker.start();
    stops.push(() => broker.stop());
    const { bridge, logs } = await bridgeTo(broker, {
      url: broker.url,
      username: "bridge",
      password: "wrong-pw-456",
    });
    await sleep(500);
    expect(bridge.health().healthy).toBe(false);
    expect(logs()).toMatch(/Not authorized|Bad User Name or Password/);
    expect(logs()).not.toContain("wrong-pw-456");
  });

  it("refuses a broker whose certificate it cannot verify", async () => {
    const broker = new TestBroker({ tls: true });
    await broker.start();
    stops.push(() => broker.stop());
    const { bridge, logs } = await bridgeTo(broker, {});
    await sleep(500);
    expect(bridge.health().healthy).toBe(false);
    expect(logs()).toMatch(/self[- ]signed|unable to (get|verify)/i);
  });
});
