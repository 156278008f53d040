import { afterEach, describe, expect, it } from "vitest";
import { schemas } from "../../../src/bridges/mqtt/payloads.js";
import { HOLD_LINES } from "../../../src/camera/serial/client.js";
import { TestBroker } from "../../support/mosquitto.js";
import { TextServer } from "../../support/text-server.js";
import { until } from "../../support/until.js";
import { standaloneBridge, subscriber } from "./rig.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A broker, a subscriber to every serial topic, a text-only camera "press1" and the bridge. */
async function textCamera(mqtt: Record<string, unknown>, port: Record<string, unknown> = {}) {
  const broker = new TestBroker();
  await broker.start();
  const server = new TextServer();
  await server.start();
  stops.push(
    () => broker.stop(),
    () => server.stop(),
  );
  const sub = await subscriber(broker.url, "solo/+/serial/#");
  stops.push(() => sub.client.endAsync(true));
  const solo = await standaloneBridge(broker.url, mqtt, {
    static: [
      {
        id: "press1",
        address: "127.0.0.1",
        binary: false,
        formattedOutput: [{ port: server.port, ...port }],
      },
    ],
  });
  stops.push(() => solo.stop());
  await until(() => server.clients === 1);
  return { broker, server, sub, solo, topic: `solo/press1/serial/${server.port}` };
}

describe("formatted-output lines on MQTT", () => {
  it("publishes each line with its fields, and an unparsable one raw with its error", async () => {
    const { server, sub, topic } = await textCamera(
      {},
      { parse: { format: "%s;%d\\r\\n", names: ["result", "count"] } },
    );
    server.write("OK;42\r\nbroken\r\n");
    await sub.waitFor((m) => m.topic === topic && m.payload.toString().includes("broken"));
    const [good, bad] = sub.messages
      .filter((m) => m.topic === topic)
      .map((m) => schemas.serial.parse(JSON.parse(m.payload.toString())));
    expect(good).toMatchObject({
      raw: "OK;42",
      fields: { result: "OK", count: 42 },
      seq: 1,
      port: server.port,
    });
    expect(bad).toMatchObject({ raw: "broken", fields: null, seq: 2 });
    expect(bad?.error).toMatch(/does not match/);
  });

  it("holds back reading the port while the journal is full (block policy), and loses no line", async () => {
    const { broker, server, sub, solo, topic } = await textCamera({
      journal: { maxBytes: 65_536, policy: "block" },
    });
    const counters = () => solo.hub.serial.counters()[0]?.counters;
    await broker.stop();
    const total = 20_000;
    for (let i = 1; i <= total; i++) server.write(`LINE ${String(i).padStart(6, "0")} ${"x".repeat(40)}\r\n`);
    // The journal holds about 400 of these; past them and HOLD_LINES more, the socket is paused.
    let seen = -1;
    await until(
      () => {
        const now = counters()?.lines ?? 0;
        const still = now === seen && now > 0;
        seen = now;
        return still;
      },
      10_000,
      "reading to stop",
      300,
    );
    expect(seen).toBeLessThan(total / 4);
    expect(counters()?.pending).toBeGreaterThanOrEqual(HOLD_LINES);
    await broker.start();
    await sub.waitFor((m) => m.topic === topic && schemas.serial.parse(sub.json(m)).seq === total, 30_000);
    const seqs = sub.messages
      .filter((m) => m.topic === topic)
      .map((m) => schemas.serial.parse(sub.json(m)).seq);
    expect(new Set(seqs).size).toBe(total);
    expect(counters()).toMatchObject({ lines: total, pending: 0, keepErrors: 0 });
  }, 60_000);
});
