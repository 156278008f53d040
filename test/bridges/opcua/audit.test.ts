import { AttributeIds, type ClientSession, StatusCodes } from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { variablesBelow } from "./calls.js";
import { type OpcuaRig, startOpcuaRig } from "./rig.js";

let rig: OpcuaRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Writes each variable's own value back: what succeeds is what that user may write. */
async function writable(session: ClientSession, variables: readonly string[]): Promise<string[]> {
  const ok: string[] = [];
  for (const nodeId of variables) {
    const current = await session.read({ nodeId, attributeId: AttributeIds.Value });
    if (current.value.value === null) {
      const status = await session.write({ nodeId, attributeId: AttributeIds.Value, value: current });
      if (status === StatusCodes.Good) ok.push(nodeId);
      continue;
    }
    const status = await session.write({
      nodeId,
      attributeId: AttributeIds.Value,
      value: { value: current.value },
    });
    if (status === StatusCodes.Good) ok.push(nodeId);
  }
  return ok;
}

describe("OPC UA address space audit", () => {
  it("writes succeed only on IO outputs and virtual points, and only for an operator or engineer", async () => {
    rig = await startOpcuaRig({ rateHz: 0 });
    await rig.online();
    const anonymous = await rig.connect("anonymous");
    const roots = ["ns=1;s=cam1.VisionSystem", "ns=1;s=cam1"];
    const variables = [
      ...new Set((await Promise.all(roots.map((root) => variablesBelow(anonymous, root)))).flat()),
    ];
    // The VisionSystem's Identification, configuration and state machine, and the plain folder.
    expect(variables.length).toBeGreaterThan(30);
    expect(variables).toContain("ns=1;s=cam1.VisionSystem.Identification.SerialNumber");
    const outputs = ["ns=1;s=cam1.IO.out0", "ns=1;s=cam1.IO.out1", "ns=1;s=cam1.IO.v0"];
    for (const user of ["anonymous", "olga"] as const)
      expect(await writable(await rig.connect(user), variables)).toEqual([]);
    for (const user of ["otto", "erin"] as const)
      expect((await writable(await rig.connect(user), variables)).sort()).toEqual(
        outputs.filter((id) => variables.includes(id)).sort(),
      );
  });

  it("serves more than ten clients at once and refuses one past opcua.maxSessions at once", async () => {
    rig = await startOpcuaRig({ rateHz: 0, opcua: { maxSessions: 14 } });
    // Opened one after another (their certificate stores share a folder) and then held together.
    const sessions = [];
    for (let i = 0; i < 14; i++) sessions.push(await rig.connect("anonymous"));
    for (const session of sessions)
      expect((await session?.read({ nodeId: "ns=1;s=cam1.Online", attributeId: 13 }))?.statusCode).toBe(
        StatusCodes.Good,
      );
    await expect(rig.connect("anonymous")).rejects.toThrow(/BadTooManySessions/);
  });
});
