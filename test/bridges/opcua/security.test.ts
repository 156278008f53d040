import { execFile } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type ClientSession,
  DataType,
  MessageSecurityMode,
  SecurityPolicy,
  type StatusCode,
  StatusCodes,
} from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { CLI } from "../../support/process.js";
import { callMethod, MV, methodId, visionNode } from "./calls.js";
import { type OpcuaRig, startOpcuaRig, type UserName, until } from "./rig.js";

const run = promisify(execFile);

let rig: OpcuaRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function call(session: ClientSession, objectId: string, name: string): Promise<StatusCode> {
  return (await callMethod(session, objectId, name)).statusCode;
}

const mvNode = (session: ClientSession, ...names: string[]) =>
  visionNode(session, ...names.map((name): [string, string] => [MV, name]));

describe("OPC UA security", () => {
  it("lets each role call only its methods: the rest fail with BadUserAccessDenied and reach no camera", async () => {
    rig = await startOpcuaRig();
    await rig.online();
    const sessions = {} as Record<UserName | "anonymous", ClientSession>;
    for (const user of ["anonymous", "olga", "otto", "erin"] as const)
      sessions[user] = await rig.connect(user);
    const auto = await mvNode(sessions.otto, "VisionStateMachine", "AutomaticModeStateMachine");
    const camera = rig.camera;
    await until(() => camera.status === "running", 5_000, "the camera running");

    for (const user of ["anonymous", "olga"] as const) {
      expect(await call(sessions[user], auto, "Stop")).toBe(StatusCodes.BadUserAccessDenied);
      expect(await call(sessions[user], auto, "StartSingleJob")).toBe(StatusCodes.BadUserAccessDenied);
    }
    expect(camera.status).toBe("running");

    expect(await call(sessions.otto, auto, "Stop")).toBe(StatusCodes.Good);
    expect(camera.status).toBe("stopped");
    expect(await call(sessions.otto, auto, "StartContinuous")).toBe(StatusCodes.Good);
    expect(camera.status).toBe("running");
    // OPC 40100: a single job starts from Ready, not in ContinuousExecution.
    expect(await call(sessions.otto, auto, "StartSingleJob")).toBe(StatusCodes.BadInvalidState);
    expect(await call(sessions.otto, auto, "Stop")).toBe(StatusCodes.Good);
    const current = await sessions.otto.read({ nodeId: `${auto}.CurrentState`, attributeId: 13 });
    expect(current.value.value?.text).toBe("Ready");
    const before = camera.inspections[0]?.cycle ?? 0;
    const single = await callMethod(sessions.otto, auto, "StartSingleJob");
    expect(single.statusCode).toBe(StatusCodes.Good);
    expect(Number((single.outputArguments?.[0]?.value as { id: string } | undefined)?.id)).toBe(before + 1);
    await until(() => (camera.inspections[0]?.cycle ?? 0) > before, 5_000, "the triggered cycle");

    // Job selection is an engineer's: the operator is refused and the camera keeps its job.
    const configuration = await mvNode(sessions.otto, "ConfigurationManagement");
    const list = await sessions.otto.call({
      objectId: configuration,
      methodId: await methodId(sessions.otto, configuration, "GetConfigurationList"),
      inputArguments: [
        { dataType: DataType.UInt32, value: 10 },
        { dataType: DataType.UInt32, value: 0 },
        { dataType: DataType.Int32, value: 1000 },
      ],
    });
    expect(list.statusCode).toBe(StatusCodes.Good);
    const jobs = list.outputArguments?.[3]?.value as { internalId: { id: string } }[];
    expect(jobs.length).toBeGreaterThan(1);
    const activate = await methodId(sessions.otto, configuration, "ActivateConfiguration");
    const slotOne = { dataType: DataType.ExtensionObject, value: jobs[1]?.internalId };
    for (const user of ["anonymous", "olga", "otto"] as const) {
      const result = await sessions[user].call({
        objectId: configuration,
        methodId: activate,
        inputArguments: [slotOne],
      });
      expect(result.statusCode).toBe(StatusCodes.BadUserAccessDenied);
    }
    expect(camera.slot).toBe(0);
    const engineer = await sessions.erin.call({
      objectId: configuration,
      methodId: activate,
      inputArguments: [slotOne],
    });
    expect(engineer.statusCode).toBe(StatusCodes.Good);
    expect(camera.slot).toBe(1);

    const calls = await rig.metrics.getSingleMetricAsString("smartcam_opcua_calls_total");
    expect(calls).toMatch(/status="BadUserAccessDenied"\} [1-9]/);
  });

  it("writes outputs for an operator, refuses observers, inputs and values of the wrong type", async () => {
    rig = await startOpcuaRig();
    await rig.online();
    const operator = await rig.connect("otto");
    const observer = await rig.connect("olga");
    const write = (session: ClientSession, point: string, value: unknown, dataType = DataType.Boolean) =>
      session.write({
        nodeId: `ns=1;s=cam1.IO.${point}`,
        attributeId: 13,
        value: { value: { dataType, value } },
      });
    const out0 = () => rig?.camera.io.find((point) => point.name === "out0")?.value;
    await until(() => rig?.hub.cameras[0]?.availability === "online", 5_000, "online");

    expect(await write(observer, "out0", true)).toBe(StatusCodes.BadUserAccessDenied);
    expect(out0()).toBe(false);
    expect(await write(operator, "out0", "yes", DataType.String)).toBe(StatusCodes.BadTypeMismatch);
    expect(out0()).toBe(false);
    expect(await write(operator, "in0", true)).toBe(StatusCodes.BadNotWritable);
    expect(await write(operator, "out0", true)).toBe(StatusCodes.Good);
    expect(out0()).toBe(true);
    expect(await write(operator, "v0", true)).toBe(StatusCodes.Good);
  });

  it("refuses a wrong password, and offers no None endpoint unless configured", async () => {
    rig = await startOpcuaRig();
    await expect(rig.connect("otto", { password: "wrong" })).rejects.toThrow(
      /BadUserAccessDenied|BadIdentityTokenRejected/,
    );
    await expect(
      rig.connect("anonymous", { mode: MessageSecurityMode.None, policy: SecurityPolicy.None }),
    ).rejects.toThrow();
    const signed = await rig.connect("otto", {
      mode: MessageSecurityMode.Sign,
      policy: SecurityPolicy.Aes256_Sha256_RsaPss,
    });
    expect((await signed.read({ nodeId: "ns=1;s=cam1.Online", attributeId: 13 })).statusCode).toBe(
      StatusCodes.Good,
    );
    // A client that created a session and never got it activated (its login failed, and it did
    // not close it) holds a session in node-opcua until it times out: the figures count live ones.
    const lingering = await rig.openClient();
    const internals = lingering as unknown as { _createSession(done: (error: Error | null) => void): void };
    await new Promise<void>((resolve, reject) =>
      internals._createSession((error) => (error ? reject(error) : resolve())),
    );
    expect(rig.server.server.currentSessionCount).toBe(2);
    expect(await rig.metrics.getSingleMetricAsString("smartcam_opcua_sessions")).toMatch(
      /^smartcam_opcua_sessions 1$/m,
    );
  });

  it("puts an unknown client certificate in rejected until opcua-trust accepts it", async () => {
    rig = await startOpcuaRig({ opcua: { autoAcceptCertificates: false } });
    await expect(rig.connect()).rejects.toThrow();
    const config = join(rig.stateDirectory, "config.yaml");
    writeFileSync(config, `daemon:\n  stateDirectory: ${rig.stateDirectory}\n`);
    const env = { ...process.env, SMARTCAM_OPCUA_ENABLED: "false" };
    const listed = await run(process.execPath, [CLI, "opcua-trust", "list", "--config", config], { env });
    const rejected = listed.stdout.split("\n").find((line) => line.startsWith("rejected"));
    expect(rejected).toBeDefined();
    const thumbprint = rejected?.split(/\s+/)[1] ?? "";
    const accepted = await run(
      process.execPath,
      [CLI, "opcua-trust", "accept", thumbprint.slice(0, 12), "--config", config],
      {
        env,
      },
    );
    expect(accepted.stdout).toContain(`trusted ${thumbprint}`);
    expect(
      readdirSync(join(rig.stateDirectory, "pki", "rejected")).filter((f) => f.endsWith(".pem")),
    ).toEqual([]);
    const session = await retry(() => rig?.connect() ?? Promise.reject(new Error("no rig")));
    expect((await session.read({ nodeId: "ns=1;s=cam1.Online", attributeId: 13 })).statusCode).toBe(
      StatusCodes.Good,
    );
  });
});

/** The server's certificate store watches its folders: give it a moment to see the move. */
async function retry<T>(attempt: () => Promise<T>, times = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= times) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
