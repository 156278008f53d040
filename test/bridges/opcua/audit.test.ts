import { AttributeIds, type ClientSession, StatusCodes } from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { callMethod, methodsBelow, variablesBelow } from "./calls.js";
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

/** As docs/opcua.md lists them: every other method is the engineer's. */
const OPERATOR_METHODS = [
  "StartSingleJob",
  "StartContinuous",
  "Stop",
  "Abort",
  "Halt",
  "SelectModeAutomatic",
  "GetConfigurationList",
  "GetConfigurationById",
];
const ENGINEER_METHODS = ["Reset", "ActivateConfiguration"];

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

  it("methods answer only the roles docs/opcua.md names: the rest get BadUserAccessDenied", async () => {
    rig = await startOpcuaRig({ rateHz: 0, control: "hold" });
    await rig.online();
    const anonymous = await rig.connect("anonymous");
    const methods = await methodsBelow(anonymous, "ns=1;s=cam1.VisionSystem");
    expect(methods.map((method) => method.name).sort()).toEqual(
      [...OPERATOR_METHODS, ...ENGINEER_METHODS].sort(),
    );
    const denied = async (user: "anonymous" | "olga" | "otto" | "erin") => {
      const session = user === "anonymous" ? anonymous : await rig?.connect(user);
      if (!session) throw new Error("no rig");
      const refused: string[] = [];
      for (const method of methods) {
        const result = await callMethod(session, method.objectId, method.name);
        if (result.statusCode === StatusCodes.BadUserAccessDenied) refused.push(method.name);
      }
      return refused.sort();
    };
    const all = methods.map((method) => method.name).sort();
    expect(await denied("anonymous")).toEqual(all);
    expect(await denied("olga")).toEqual(all);
    expect(await denied("otto")).toEqual([...ENGINEER_METHODS].sort());
    expect(await denied("erin")).toEqual([]);
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
