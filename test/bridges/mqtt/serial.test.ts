import { afterEach, describe, expect, it } from "vitest";
import { schemas } from "../../../src/bridges/mqtt/payloads.js";
import { TestBroker } from "../../support/mosquitto.js";
import { TextServer } from "../../support/text-server.js";
import { standaloneBridge, subscriber } from "./rig.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe("formatted-output lines on MQTT", () => {
  it("publishes each line with its fields, and an unparsable one raw with its error", async () => {
    const broker = new TestBroker();
    await broker.start();
    const server = new TextServer();
    await server.start();
    stops.push(
      () => broker.stop(),
      () => server.stop(),
    );
    const sub = await subscriber(broker.url, "solo/#");
    stops.push(() => sub.client.endAsync(true));
    const solo = await standaloneBridge(
      broker.url,
      {},
      {
        static: [
          {
            id: "press1",
            address: "127.0.0.1",
            binary: false,
            formattedOutput: [
              { port: server.port, parse: { format: "%s;%d\\r\\n", names: ["result", "count"] } },
            ],
          },
        ],
      },
    );
    stops.push(() => solo.stop());
    await sub.waitFor((m) => m.topic === "solo/press1/availability" && m.payload.toString() === "online");
    server.write("OK;42\r\nbroken\r\n");
    const topic = `solo/press1/serial/${server.port}`;
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
});
