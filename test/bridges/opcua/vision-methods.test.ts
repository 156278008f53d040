import { AttributeIds, type ClientSession, coerceNodeId, DataType, StatusCodes } from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { callMethod, DI, MV, visionNode } from "./calls.js";
import { type OpcuaRig, startOpcuaRig, until } from "./rig.js";

let rig: OpcuaRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function value(session: ClientSession, nodeId: string) {
  return (await session.read({ nodeId, attributeId: AttributeIds.Value })).value.value;
}

describe("the OPC UA vision system as OPC 40100 and DI read", () => {
  it("serves the DI nameplate by its DI browse path, from the config and the camera's announces", async () => {
    rig = await startOpcuaRig({ discovery: true, camera: { manufacturer: "Acme Vision" } });
    await rig.online();
    const session = await rig.connect();
    await until(() => rig?.hub.cameras[0]?.model === "VS-SIM-100", 5_000, "the camera's announce");
    const property = (name: string) => visionNode(session, [DI, "Identification"], [DI, name]);
    expect((await value(session, await property("Manufacturer"))).text).toBe("Acme Vision");
    expect((await value(session, await property("Model"))).text).toBe("VS-SIM-100");
    expect(await value(session, await property("SerialNumber"))).toBe("SIM-0001");
    expect(await value(session, await property("SoftwareRevision"))).toBe("1.0.0-sim");
    const identification = await visionNode(session, [DI, "Identification"]);
    const definition = await session.browse({ nodeId: identification, resultMask: 63 });
    const namespaces = await session.readNamespaceArray();
    const types = (definition.references ?? []).filter((reference) => reference.referenceTypeId.value === 40);
    expect(types.map((reference) => reference.nodeId.namespace)).toEqual([namespaces.indexOf(DI)]);
    expect(await value(session, `${identification}.MacAddress`)).toBe("02:00:00:00:00:01");
  });

  it("refuses StartSingleJob in ContinuousExecution, holds Halted until Reset, round-trips ActiveConfiguration", async () => {
    rig = await startOpcuaRig({ control: "hold" });
    await rig.online();
    const otto = await rig.connect("otto");
    const erin = await rig.connect("erin");
    const machine = await visionNode(otto, [MV, "VisionStateMachine"]);
    const auto = await visionNode(otto, [MV, "VisionStateMachine"], [MV, "AutomaticModeStateMachine"]);
    const state = async (nodeId: string) => (await value(otto, `${nodeId}.CurrentState`)).text;
    const camera = rig.camera;
    await until(() => camera.status === "running", 5_000, "the camera running");
    expect(await state(auto)).toBe("ContinuousExecution");
    expect((await callMethod(otto, auto, "StartSingleJob")).statusCode).toBe(StatusCodes.BadInvalidState);
    expect((await callMethod(otto, auto, "StartContinuous")).statusCode).toBe(StatusCodes.BadInvalidState);

    expect((await callMethod(otto, machine, "Halt")).statusCode).toBe(StatusCodes.Good);
    expect(camera.status).toBe("stopped");
    expect(await state(machine)).toBe("Halted");
    // The camera started from elsewhere: the vision system stays Halted, and refuses jobs.
    await rig.hub.command("cam1", "start", {});
    expect(await state(machine)).toBe("Halted");
    expect((await callMethod(otto, auto, "StartSingleJob")).statusCode).toBe(StatusCodes.BadInvalidState);
    expect((await callMethod(otto, machine, "Reset")).statusCode).toBe(StatusCodes.BadUserAccessDenied);
    expect((await callMethod(erin, machine, "Reset")).statusCode).toBe(StatusCodes.Good);
    expect(await state(machine)).toBe("Operational");
    expect(await state(auto)).toBe("ContinuousExecution");
    // Reset leaves Error or Halted only.
    expect((await callMethod(erin, machine, "Reset")).statusCode).toBe(StatusCodes.BadInvalidState);

    const configuration = await visionNode(otto, [MV, "ConfigurationManagement"]);
    const active = await visionNode(otto, [MV, "ConfigurationManagement"], [MV, "ActiveConfiguration"]);
    const before = await value(otto, active);
    expect(before.externalId.id).toBe("bottle-caps");
    expect(before.internalId.id).toBe("0");
    const mv = (await otto.readNamespaceArray()).indexOf(MV);
    const configurationId = (id: string) =>
      otto.constructExtensionObject(coerceNodeId(`ns=${mv};i=3008`), { id });
    const byId = await callMethod(otto, configuration, "GetConfigurationById", [
      { dataType: DataType.ExtensionObject, value: await configurationId("2") },
      { dataType: DataType.Int32, value: 1000 },
    ]);
    expect(byId.statusCode).toBe(StatusCodes.Good);
    expect(byId.outputArguments?.[1]?.value.externalId.id).toBe("datamatrix");
    const unknown = await callMethod(otto, configuration, "GetConfigurationById", [
      { dataType: DataType.ExtensionObject, value: await configurationId("9") },
      { dataType: DataType.Int32, value: 1000 },
    ]);
    expect(unknown.statusCode).toBe(StatusCodes.BadNotFound);

    // What the client read, passed straight back: the job in slot 2, then the one it read.
    const activate = (internalId: unknown) =>
      callMethod(erin, configuration, "ActivateConfiguration", [
        { dataType: DataType.ExtensionObject, value: internalId },
      ]);
    expect((await activate(byId.outputArguments?.[1]?.value.internalId)).statusCode).toBe(StatusCodes.Good);
    expect(camera.slot).toBe(2);
    const after = await value(otto, active);
    expect([after.externalId.id, after.internalId.id]).toEqual(["datamatrix", "2"]);
    expect((await activate(before.internalId)).statusCode).toBe(StatusCodes.Good);
    expect(camera.slot).toBe(0);
    expect((await value(otto, active)).internalId.id).toBe("0");
  });
});
