import { afterEach, describe, expect, it } from "vitest";
import { schemas } from "../../../src/bridges/mqtt/payloads.js";
import { BASE, type MqttRig, startMqttRig } from "./rig.js";

let rig: MqttRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const text = (payload: Buffer) => payload.toString("utf8");
const json = (payload: Buffer) => JSON.parse(payload.toString("utf8")) as unknown;

describe("the MQTT topic API on a real Mosquitto", () => {
  it("publishes bridge state and info, camera availability, state, IO and reports, each matching its schema", async () => {
    rig = await startMqttRig();
    const { sub } = rig;
    expect(text((await sub.waitFor((m) => m.topic === `${BASE}/bridge/state`)).payload)).toBe("online");
    const info = schemas.bridgeInfo.parse(
      json((await sub.waitFor((m) => m.topic === `${BASE}/bridge/info`)).payload),
    );
    expect(info.cameras).toEqual(["cam1"]);
    expect(info.features.protocolVersion).toBe(5);
    await sub.waitFor((m) => m.topic === `${BASE}/cam1/availability` && text(m.payload) === "online");
    const state = schemas.state.parse(
      json(
        (await sub.waitFor((m) => m.topic === `${BASE}/cam1/state` && text(m.payload).includes('"online"')))
          .payload,
      ),
    );
    expect(state).toMatchObject({
      id: "cam1",
      availability: "online",
      status: "running",
      job: "bottle-caps",
    });
    const io = await sub.waitFor((m) => m.topic === `${BASE}/cam1/io/out0`);
    expect(schemas.io.parse(json(io.payload)).value).toBe(false);
    const { cycle } = await rig.camera.hub.command("cam1", "trigger", {});
    const report = await sub.waitFor(
      (m) => m.topic === `${BASE}/cam1/report/0` && text(m.payload).includes(`"cycle":${cycle}`),
    );
    const payload = schemas.report.parse(json(report.payload));
    expect(payload).toMatchObject({ camera: "cam1", inspection: 0, cycle, lossless: true });
    expect(payload.results["Snapshot1.Blob1.Count"]?.type).toBe("int");
    expect(payload.results["Snapshot1.Code.Raw"]?.type).toBe("bytes");
    expect(payload.results["Snapshot1.Tool.Box"]?.type).toBe("record");
    expect(report.retain).toBe(false);
    // The journal's account per output, fresh on request: what the bridge delivered, and nothing lost.
    const answers = await rig.extraSubscriber(`${BASE}/bridge/response/info`);
    await answers.client.publishAsync(`${BASE}/bridge/request/info`, "{}", { qos: 1 });
    const fresh = schemas.commandResponse.parse(json((await answers.waitFor(() => true)).payload));
    const figures = schemas.bridgeInfo.parse(fresh.data).features.journal.outputs.mqtt;
    expect(figures?.delivered).toBeGreaterThanOrEqual(1);
    expect(figures).toMatchObject({ dropped: 0, lost: 0 });
  });

  it("publishes every IO transition in order", async () => {
    rig = await startMqttRig();
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/io/v0`);
    const start = rig.sub.messages.length;
    for (const value of [true, false, true, false])
      await rig.camera.hub.command("cam1", "ioWrite", { point: "v0", value });
    const v0 = () => (rig?.sub.messages ?? []).slice(start).filter((m) => m.topic === `${BASE}/cam1/io/v0`);
    for (let i = 0; i < 200 && v0().length < 4; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const values = v0().map((m) => (json(m.payload) as { value: boolean }).value);
    expect(values).toEqual([true, false, true, false]);
  });

  it("keeps state retained: a new subscriber gets bridge state, availability, camera state and IO at once", async () => {
    rig = await startMqttRig();
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/io/v0`);
    const late = await rig.extraSubscriber(`${BASE}/#`);
    for (const topic of [
      "bridge/state",
      "bridge/info",
      "cam1/availability",
      "cam1/state",
      "cam1/io/in0",
      "cam1/io/v0",
    ]) {
      const message = await late.waitFor((m) => m.topic === `${BASE}/${topic}`, 2_000);
      expect(message.retain).toBe(true);
    }
  });

  it("publishes the IO of a camera that was online before the bridge started", async () => {
    rig = await startMqttRig({ bridgeAfterOnline: true });
    for (const point of ["in0", "out0", "v0"])
      await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/io/${point}`, 2_000);
    const late = await rig.extraSubscriber(`${BASE}/cam1/io/+`);
    for (const point of ["in0", "out0", "v0"]) {
      const message = await late.waitFor((m) => m.topic === `${BASE}/cam1/io/${point}`, 2_000);
      expect(message.retain).toBe(true);
      expect(JSON.parse(message.payload.toString())).toMatchObject({ value: false });
    }
  });

  it("publishes a gap event when the part queue no longer holds missed cycles", async () => {
    rig = await startMqttRig({ rateHz: 100, queueCapacity: 4 });
    await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/report/0`);
    rig.camera.camera.freeze();
    await rig.camera.waitFor((e) => e.type === "offline", 2_000);
    rig.camera.camera.resume();
    const gap = await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/gap/0`, 5_000);
    const payload = schemas.gap.parse(json(gap.payload));
    expect(payload.toCycle).toBeGreaterThanOrEqual(payload.fromCycle);
  });
});

describe("commands over MQTT", () => {
  const ALL = ["status", "trigger", "stop", "start", "ioWrite", "jobs", "snap"];

  async function command(r: MqttRig, topic: string, payload: string, correlation = "c1") {
    const client = r.sub.client;
    const responseTopic = `${BASE}/test-responses/${correlation}`;
    await client.subscribeAsync(responseTopic, { qos: 1 });
    await client.publishAsync(topic, payload, {
      qos: 1,
      properties: { responseTopic, correlationData: Buffer.from(correlation) },
    });
    const answer = await r.sub.waitFor((m) => m.topic === responseTopic, 5_000);
    expect(answer.properties?.correlationData?.toString()).toBe(correlation);
    return schemas.commandResponse.parse(json(answer.payload));
  }

  it("MQTT 5: answers on the response topic with the correlation data, and runs the command", async () => {
    rig = await startMqttRig({ mqtt: { commands: { allow: ALL } } });
    await rig.camera.online();
    const answer = await command(
      rig,
      `${BASE}/cam1/command/ioWrite`,
      JSON.stringify({ point: "out1", value: true }),
    );
    expect(answer.status).toBe("ok");
    expect(rig.camera.camera.io.find((p) => p.name === "out1")?.value).toBe(true);
    const jobs = await command(rig, `${BASE}/cam1/command/jobs`, "{}", "c2");
    expect((jobs.data as { jobs: unknown[] }).jobs).toHaveLength(3);
    const snap = await command(rig, `${BASE}/cam1/command/snap`, "{}", "c3");
    expect(snap.data).toMatchObject({
      topic: `${BASE}/cam1/image/snap`,
      width: 32,
      height: 24,
      format: "mono8",
    });
    const image = await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/image/snap`);
    expect(image.payload.subarray(1, 4).toString()).toBe("PNG");
    expect(image.properties?.contentType).toBe("image/png");
    const meta = await rig.sub.waitFor((m) => m.topic === `${BASE}/cam1/image/snap/meta`);
    expect(json(meta.payload)).toMatchObject({ width: 32, height: 24, contentType: "image/png" });
  });

  it("refuses what the allow-list does not name, and nothing reaches the camera", async () => {
    rig = await startMqttRig();
    await rig.camera.online();
    const answer = await command(rig, `${BASE}/cam1/command/stop`, JSON.stringify({ transaction: "t-9" }));
    expect(answer).toMatchObject({ status: "error", transaction: "t-9", error: { code: "NOT_ALLOWED" } });
    expect(rig.camera.camera.status).toBe("running");
    expect(rig.camera.camera.control.holder()).toBe("");
    const ok = await command(rig, `${BASE}/cam1/command/status`, "{}", "c2");
    expect(ok.status).toBe("ok");
  });

  it("answers malformed and unknown commands and unknown cameras with an error that says why", async () => {
    rig = await startMqttRig({ mqtt: { commands: { allow: ALL } } });
    await rig.camera.online();
    expect((await command(rig, `${BASE}/cam1/command/ioWrite`, "{not json", "a")).error?.code).toBe(
      "BAD_REQUEST",
    );
    const bad = await command(
      rig,
      `${BASE}/cam1/command/ioWrite`,
      JSON.stringify({ point: "out1", value: "yes", extra: 1 }),
      "b",
    );
    expect(bad.error?.code).toBe("BAD_REQUEST");
    expect(bad.error?.message).toMatch(/value/);
    expect(bad.error?.message).toMatch(/extra/);
    expect((await command(rig, `${BASE}/cam1/command/explode`, "{}", "c")).error?.code).toBe(
      "UNKNOWN_COMMAND",
    );
    expect((await command(rig, `${BASE}/nocam/command/status`, "{}", "d")).error?.code).toBe("NOT_FOUND");
    expect(
      (await command(rig, `${BASE}/cam1/command/ioWrite`, JSON.stringify({ point: "in0", value: true }), "e"))
        .error?.code,
    ).toBe("READ_ONLY");
    expect(rig.camera.camera.io.find((p) => p.name === "out1")?.value).toBe(false);
  });

  it("answers with TIMEOUT when the camera does not answer in time", async () => {
    rig = await startMqttRig({ timeoutMs: 5_000, mqtt: { commands: { allow: ALL, timeoutMs: 300 } } });
    await rig.camera.online();
    rig.camera.camera.freeze();
    const answer = await command(rig, `${BASE}/cam1/command/status`, "{}");
    expect(answer.error?.code).toBe("TIMEOUT");
  });

  it("MQTT 3.1.1: answers on <topic>/response with the request's transaction", async () => {
    rig = await startMqttRig({ mqtt: { commands: { allow: ALL } } });
    await rig.camera.online();
    const v3 = await rig.extraSubscriber(`${BASE}/cam1/command/+/response`, { protocolVersion: 4 });
    await v3.client.publishAsync(`${BASE}/cam1/command/trigger`, JSON.stringify({ transaction: 42 }), {
      qos: 1,
    });
    const answer = schemas.commandResponse.parse(
      json((await v3.waitFor((m) => m.topic === `${BASE}/cam1/command/trigger/response`)).payload),
    );
    expect(answer).toMatchObject({ status: "ok", transaction: 42 });
    expect((answer.data as { cycle: number }).cycle).toBeGreaterThan(0);
    await v3.client.publishAsync(`${BASE}/bridge/request/cameras`, JSON.stringify({ transaction: "x" }), {
      qos: 1,
    });
    const bridgeSub = await rig.extraSubscriber(`${BASE}/bridge/response/#`, { protocolVersion: 4 });
    await bridgeSub.client.publishAsync(
      `${BASE}/bridge/request/cameras`,
      JSON.stringify({ transaction: "y" }),
      { qos: 1 },
    );
    const cameras = schemas.commandResponse.parse(
      json((await bridgeSub.waitFor((m) => m.topic === `${BASE}/bridge/response/cameras`)).payload),
    );
    expect(cameras).toMatchObject({ status: "ok", transaction: "y" });
    expect((cameras.data as { id: string }[]).map((c) => c.id)).toEqual(["cam1"]);
  });
});
