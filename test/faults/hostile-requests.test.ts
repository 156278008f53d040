import { type ClientSession, DataType, StatusCodes } from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { BASE, type MqttRig, startMqttRig } from "../bridges/mqtt/rig.js";
import { type OpcuaRig, startOpcuaRig } from "../bridges/opcua/rig.js";
import { sleep } from "../camera/rig.js";
import { captureLog } from "../support/log.js";

let mqttRig: MqttRig | undefined;
let opcuaRig: OpcuaRig | undefined;
afterEach(async () => {
  await mqttRig?.stop();
  await opcuaRig?.stop();
  mqttRig = opcuaRig = undefined;
});

const refusals = (records: Record<string, unknown>[], msg: RegExp) =>
  records.filter((r) => typeof r.msg === "string" && msg.test(r.msg));

describe("hostile requests", () => {
  it("MQTT: 2 000 malformed, unknown, oversized and wildcard-answered commands are answered, counted, logged once per kind", async () => {
    const log = captureLog("info");
    mqttRig = await startMqttRig({
      logger: log.logger,
      mqtt: { commands: { allow: ["status", "ioWrite"] } },
    });
    const rig = mqttRig;
    await rig.camera.online();
    const answers = await rig.extraSubscriber(`${BASE}/#`);
    const rssBefore = process.memoryUsage().rss;
    const kinds: [string, string | Buffer, Record<string, unknown>?][] = [
      [`${BASE}/cam1/command/status`, "{not json"],
      [`${BASE}/cam1/command/status`, "[1,2]"],
      [`${BASE}/cam1/command/ioWrite`, JSON.stringify({ point: 7, value: "yes", extra: true })],
      [`${BASE}/cam1/command/reboot`, "{}"],
      [`${BASE}/cam1/command/status`, JSON.stringify({ transaction: { nested: 1 } })],
      [`${BASE}/cam1/command/status`, Buffer.alloc(100_000, 0x20)],
      [`${BASE}/bridge/request/constructor`, "{}"],
      [`${BASE}/cam1/command/status`, "{}", { responseTopic: "steal/#" }],
    ];
    let sent = 0;
    for (let i = 0; i < 2_000; i++) {
      const n = i % (kinds.length + 2);
      // Ever-new command names and cameras: neither may grow the metric's label set.
      const [topic, payload, properties] =
        n === kinds.length
          ? [`${BASE}/cam1/command/cmd-${i}`, "{}"]
          : n === kinds.length + 1
            ? [`${BASE}/cam-${i}/command/status`, "{}"]
            : (kinds[n] as (typeof kinds)[number]);
      rig.sub.client.publish(topic, payload, { qos: 1, ...(properties ? { properties } : {}) });
      sent++;
      if (i % 100 === 0) await sleep(5);
    }
    // Larger than the packet size the daemon asked the broker for: the broker drops it.
    await rig.sub.client.publishAsync(`${BASE}/cam1/command/status`, Buffer.alloc(2 << 20, 0x20), { qos: 1 });
    const responses = () => answers.messages.filter((m) => /\/response(\/|$)/.test(m.topic)).length;
    const deadline = Date.now() + 20_000;
    while (responses() < sent && Date.now() < deadline) await sleep(50);
    expect(responses()).toBe(sent);

    // Still connected on its first connection, and still serving.
    expect(rig.bridge.connection.connects).toBe(1);
    await rig.sub.client.publishAsync(`${BASE}/cam1/command/status`, JSON.stringify({ transaction: "ok" }), {
      qos: 1,
    });
    const ok = await answers.waitFor(
      (m) => m.topic.endsWith("/response") && m.payload.toString().includes('"transaction":"ok"'),
      5_000,
    );
    expect(answers.json(ok).status).toBe("ok");
    expect(answers.messages.some((m) => m.topic.startsWith("steal/"))).toBe(false);

    const metric = await rig.metrics.getSingleMetricAsString("smartcam_mqtt_commands_total");
    const series = metric.split("\n").filter((line) => line.startsWith("smartcam_mqtt_commands_total{"));
    const total = series.reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
    expect(total).toBe(sent + 1);
    expect(series.length).toBeLessThanOrEqual(10);
    expect(metric).not.toMatch(/cmd-/);
    const logged = refusals(log.records(), /^command refused/);
    const byKind = new Set(logged.map((r) => `${r.command} ${r.code}`));
    expect(logged).toHaveLength(byKind.size);
    expect(byKind.size).toBeGreaterThanOrEqual(4);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.info(
      `[hostile] MQTT: ${sent} bad commands answered in ${series.length} counter series, ${logged.length} log lines; RSS +${Math.round(rssGrowth / 1e6)} MB`,
    );
    expect(rssGrowth).toBeLessThan(200e6);
  }, 60_000);

  it("OPC UA: 1 000 writes of the wrong type, to inputs and to read-only values, change nothing and are logged once per kind", async () => {
    const log = captureLog("info");
    opcuaRig = await startOpcuaRig({ logger: log.logger });
    const rig = opcuaRig;
    await rig.online();
    const operator: ClientSession = await rig.connect("otto");
    const writes = [
      { nodeId: "ns=1;s=cam1.IO.out0", value: { dataType: DataType.String, value: "yes" } },
      { nodeId: "ns=1;s=cam1.IO.out0", value: { dataType: DataType.Double, value: 1.5 } },
      { nodeId: "ns=1;s=cam1.IO.in0", value: { dataType: DataType.Boolean, value: true } },
      { nodeId: "ns=1;s=cam1.Job", value: { dataType: DataType.String, value: "x" } },
      { nodeId: "ns=1;s=no.such.node", value: { dataType: DataType.Boolean, value: true } },
    ];
    const statuses = new Map<string, number>();
    for (let batch = 0; batch < 20; batch++) {
      const nodes = Array.from({ length: 50 }, (_, i) => {
        const w = writes[(batch * 50 + i) % writes.length] as (typeof writes)[number];
        return { nodeId: w.nodeId, attributeId: 13, value: { value: w.value } };
      });
      for (const status of await operator.write(nodes))
        statuses.set(status.name, (statuses.get(status.name) ?? 0) + 1);
    }
    expect(statuses.get("Good")).toBeUndefined();
    expect(rig.camera.io.find((p) => p.name === "out0")?.value).toBe(false);
    // Still serving: a good write goes through.
    const good = await operator.write({
      nodeId: "ns=1;s=cam1.IO.out0",
      attributeId: 13,
      value: { value: { dataType: DataType.Boolean, value: true } },
    });
    expect(good).toBe(StatusCodes.Good);
    const metric = await rig.metrics.getSingleMetricAsString("smartcam_opcua_writes_total");
    const bad = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(bad).toBe(1_000);
    for (const [name, count] of statuses) expect(metric).toContain(`status="${name}"} ${count}`);
    const logged = refusals(log.records(), /^OPC UA request refused/);
    expect(logged).toHaveLength(statuses.size);
    console.info(
      `[hostile] OPC UA: 1000 bad writes by status ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 60_000);
});
