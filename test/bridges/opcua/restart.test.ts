import { AttributeIds, type ClientSession, StatusCodes } from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { variablesBelow } from "./calls.js";
import { type OpcuaRig, startOpcuaRig, until } from "./rig.js";

let rig: OpcuaRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const read = (session: ClientSession, nodeId: string) =>
  session.read({ nodeId, attributeId: AttributeIds.Value });

/** Every variable of cam1 a client can browse: its folder and its VisionSystem. */
async function cameraVariables(session: ClientSession): Promise<string[]> {
  const roots = ["ns=1;s=cam1", "ns=1;s=cam1.VisionSystem"];
  return [...new Set((await Promise.all(roots.map((root) => variablesBelow(session, root)))).flat())].sort();
}

describe("the OPC UA address space across a daemon restart", () => {
  it("keeps every NodeId of a camera that is offline after the restart, BadNoCommunication until it is back", async () => {
    const first = await startOpcuaRig({ formattedOutput: true, discovery: true });
    let learnt: string[];
    try {
      await first.online();
      await until(() => first.hub.cameras[0]?.model !== undefined, 5_000, "the camera's announce");
      await until(() => first.hub.serial.isStandalone("cam1") === false, 1_000, "the hub");
      const before = first.events.length;
      first.camera.services.reporting.trigger(0);
      await first.waitFor((event) => event.type === "serial", 5_000, before);
      await first.waitFor((event) => event.type === "report", 5_000, before);
      learnt = await cameraVariables(await first.connect());
    } finally {
      await first.stop();
    }
    expect(learnt).toEqual(
      expect.arrayContaining([
        "ns=1;s=cam1.IO.out0",
        "ns=1;s=cam1.LastReport.Data.Snapshot1.Blob1.Count",
        "ns=1;s=cam1.FormattedOutput.Output1.Fields.cycle",
        "ns=1;s=cam1.VisionSystem.Identification.SerialNumber",
      ]),
    );

    // Same state directory, new ports (the output's port too), and the camera down.
    rig = await startOpcuaRig({
      formattedOutput: true,
      stateDirectory: first.stateDirectory,
      cameraDown: true,
    });
    const session = await rig.connect();
    expect(await cameraVariables(session)).toEqual(learnt);
    await rig.waitFor((event) => event.type === "offline", 5_000);
    for (const nodeId of ["ns=1;s=cam1.IO.out0", "ns=1;s=cam1.LastReport.Data.Snapshot1.Blob1.Count"])
      expect((await read(session, nodeId)).statusCode).toBe(StatusCodes.BadNoCommunication);
    // The nameplate as the first run heard it, while the camera is away.
    expect((await read(session, "ns=1;s=cam1.VisionSystem.Identification.SerialNumber")).value.value).toBe(
      "SIM-0001",
    );
    // A SCADA tag subscribed while the camera is away gets the value once it is back.
    const watched = await rig.watch(session, "ns=1;s=cam1.IO.out0");
    const writable = await rig.connect("otto");
    await rig.camera.start();
    await rig.online();
    await until(() => watched.at(-1)?.statusCode === StatusCodes.Good, 5_000, "IO.out0 Good again");
    expect(
      await writable.write({
        nodeId: "ns=1;s=cam1.IO.out0",
        attributeId: AttributeIds.Value,
        value: { value: { dataType: "Boolean", value: true } },
      }),
    ).toBe(StatusCodes.Good);
    await until(() => watched.at(-1)?.value.value === true, 5_000, "the written output");
    expect(await cameraVariables(session)).toEqual(learnt);
  });
});
