import {
  AttributeIds,
  BrowseDirection,
  type ClientSession,
  constructEventFilter,
  DataType,
  StatusCodes,
  TimestampsToReturn,
  type Variant,
} from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { variablesBelow } from "./calls.js";
import { type OpcuaRig, startOpcuaRig, subscribe, until } from "./rig.js";

let rig: OpcuaRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** A UNECE common code as OPC UA's EUInformation.unitId holds it: its characters, big-endian. */
const commonCodeToUInt = (code: string) => [...code].reduce((id, char) => (id << 8) | char.charCodeAt(0), 0);

async function read(session: ClientSession, nodeId: string) {
  return session.read({ nodeId, attributeId: AttributeIds.Value });
}

async function browseNames(session: ClientSession, nodeId: string): Promise<string[]> {
  const result = await session.browse({ nodeId, browseDirection: BrowseDirection.Forward, resultMask: 63 });
  return (result.references ?? []).map((reference) => reference.browseName.name ?? "");
}

describe("the OPC UA model", () => {
  it("shows each camera as a VisionSystemType instance and as a plain folder, with identification", async () => {
    rig = await startOpcuaRig({ discovery: true });
    await rig.online();
    const session = await rig.connect();
    const mv = (await session.readNamespaceArray()).indexOf("http://opcfoundation.org/UA/MachineVision");
    expect(mv).toBeGreaterThan(0);

    expect(await browseNames(session, "ns=1;s=Cameras")).toContain("cam1");
    expect(await browseNames(session, "ns=1;s=cam1")).toEqual(
      expect.arrayContaining([
        "IO",
        "LastReport",
        "Statistics",
        "FormattedOutput",
        "Online",
        "Status",
        "Job",
      ]),
    );
    const vision = await session.browse({
      nodeId: "ns=1;s=cam1.VisionSystem",
      browseDirection: BrowseDirection.Forward,
      resultMask: 63,
    });
    const typeDefinition = vision.references?.find((ref) => ref.referenceTypeId.value === 40);
    expect(typeDefinition?.nodeId.toString()).toBe(`ns=${mv};i=1003`);
    expect((vision.references ?? []).map((ref) => ref.browseName.name)).toEqual(
      expect.arrayContaining(["VisionStateMachine", "ConfigurationManagement", "Identification"]),
    );

    const identification = "ns=1;s=cam1.VisionSystem.Identification";
    await until(() => rig?.hub.cameras[0]?.serial === "SIM-0001", 5_000, "the camera's identity");
    expect((await read(session, `${identification}.SerialNumber`)).value.value).toBe("SIM-0001");
    expect((await read(session, `${identification}.Model`)).value.value.text).toBe("VS-SIM-100");
    expect((await read(session, `${identification}.SoftwareRevision`)).value.value).toBe("1.0.0-sim");
    expect((await read(session, `${identification}.Address`)).value.value).toBe("127.0.0.1");

    const state = await session.translateBrowsePath({
      startingNode: "ns=1;s=cam1.VisionSystem",
      relativePath: {
        elements: [
          { targetName: { namespaceIndex: mv, name: "VisionStateMachine" }, includeSubtypes: true },
          { targetName: { namespaceIndex: 0, name: "CurrentState" }, includeSubtypes: true },
        ],
      } as never,
    });
    const currentState = state.targets?.[0]?.targetId.toString() ?? "";
    // One NodeId scheme: the instantiated type's children join their path with dots too.
    expect(currentState).toBe("ns=1;s=cam1.VisionSystem.VisionStateMachine.CurrentState");
    expect((await read(session, currentState)).value.value.text).toBe("Operational");
    // Listed once under VisionSystems (HasNotifier, which is hierarchical), not twice.
    expect(
      (await browseNames(session, "ns=1;s=VisionSystems")).filter((name) => name === "cam1"),
    ).toHaveLength(1);
    // A datum path: browsed as folders, its NodeId the path whole.
    await rig.hub.command("cam1", "trigger", {});
    await until(() => (rig?.reports().length ?? 0) > 0, 5_000, "a report");
    const datum = await session.translateBrowsePath({
      startingNode: "ns=1;s=cam1.LastReport",
      relativePath: {
        elements: ["Data", "Snapshot1", "Blob1", "Count"].map((name) => ({
          targetName: { namespaceIndex: 1, name },
          includeSubtypes: true,
        })),
      } as never,
    });
    expect(datum.targets?.[0]?.targetId.toString()).toBe("ns=1;s=cam1.LastReport.Data.Snapshot1.Blob1.Count");
    expect((await read(session, "ns=1;s=cam1.IO.out0")).value.dataType).toBe(DataType.Boolean);
  });

  it("describes every variable it makes, with UNECE units and an EURange where the unit is known", async () => {
    rig = await startOpcuaRig({ formattedOutput: true });
    await rig.online();
    const session = await rig.connect();
    const before = rig.events.length;
    rig.camera.services.reporting.trigger(0);
    await rig.waitFor((event) => event.type === "serial", 5_000, before);
    await rig.waitFor((event) => event.type === "report", 5_000, before);
    const variables = (await variablesBelow(session, "ns=1;s=cam1")).filter(
      (id) => !/\.(EURange|EngineeringUnits)$/.test(id),
    );
    expect(variables.length).toBeGreaterThan(30);
    const descriptions = await session.read(
      variables.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Description })),
    );
    const undescribed = variables.filter((_, i) => !descriptions[i]?.value.value?.text);
    expect(undescribed).toEqual([]);
    const units = await session.read(
      ["CycleTimeMs", "Inspections"].map((name) => ({
        nodeId: `ns=1;s=cam1.Statistics.${name}.EngineeringUnits`,
        attributeId: AttributeIds.Value,
      })),
    );
    // UNECE common codes C26 (millisecond) and C62 (one), as OPC UA encodes them.
    expect(units.map((unit) => unit.value.value.unitId)).toEqual([
      commonCodeToUInt("C26"),
      commonCodeToUInt("C62"),
    ]);
    const range = await read(session, "ns=1;s=cam1.Statistics.Inspections.EURange");
    expect([range.value.value.low, range.value.value.high]).toEqual([0, 2 ** 32 - 1]);
  });

  it("delivers every report of a 100-report burst as a ResultReady event and as value changes", async () => {
    rig = await startOpcuaRig();
    await rig.online();
    const session = await rig.connect();
    const mv = (await session.readNamespaceArray()).indexOf("http://opcfoundation.org/UA/MachineVision");
    const cycles = await rig.watch(session, "ns=1;s=cam1.LastReport.Cycle");
    const subscription = await subscribe(session);
    const events: Variant[][] = [];
    const item = await subscription.monitor(
      { nodeId: "i=2253", attributeId: AttributeIds.EventNotifier },
      {
        samplingInterval: 0,
        queueSize: 1_000,
        discardOldest: false,
        filter: constructEventFilter([
          `${mv}:ResultId`,
          `${mv}:ResultState`,
          `${mv}:CreationTime`,
          `${mv}:ResultContent`,
          "SourceName",
        ]),
      },
      TimestampsToReturn.Both,
    );
    item.on("changed", (fields: unknown) => {
      const values = fields as Variant[];
      if (values[0]?.dataType === DataType.ExtensionObject) events.push(values);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = rig.reports().length;
    for (let i = 0; i < 100; i++) rig.camera.services.reporting.trigger(0);
    await until(() => (rig?.reports().length ?? 0) >= before + 100, 10_000, "100 reports from the camera");
    const burst = rig.reports().slice(before);
    await until(() => events.length >= 100, 10_000, "100 ResultReady events");
    const burstCycles = new Set(burst.map((report) => report.cycle));
    await until(
      () => cycles.filter((value) => burstCycles.has(value.value.value as number)).length === 100,
      10_000,
      "100 Cycle changes",
    );
    const ids = events.map((fields) => (fields[0]?.value as { id: string } | undefined)?.id);
    expect(ids).toEqual(burst.map((report) => report.id));
    const first = events[0] ?? [];
    expect(first[1]?.value).toBe(burst[0]?.passed ? 1 : 4);
    expect((first[2]?.value as Date | undefined)?.getTime()).toBe(burst[0]?.time);
    expect(Array.isArray(first[3]?.value)).toBe(true);
    expect(first[4]?.value).toBe("cam1");
    const metrics = await rig.metrics.getSingleMetricAsString("smartcam_opcua_events_total");
    expect(metrics).toMatch(/smartcam_opcua_events_total \d+/);
  });

  it("moves Statistics with every report: inspections, passed and failed as the camera counts them", async () => {
    rig = await startOpcuaRig({ rateHz: 0 });
    await rig.online();
    const session = await rig.connect();
    for (let i = 0; i < 12; i++) await rig.hub.command("cam1", "trigger", {});
    const inspection = rig.camera.inspections[0];
    await until(() => rig?.reports().at(-1)?.cycle === inspection?.cycle, 5_000, "the reports");
    const value = async (name: string) => (await read(session, `ns=1;s=cam1.Statistics.${name}`)).value.value;
    expect(await value("Inspections")).toBe(inspection?.cycle);
    expect(await value("Passed")).toBe(inspection?.passedCount);
    expect(await value("Failed")).toBe(inspection?.failedCount);
    expect(inspection?.cycle).toBeGreaterThanOrEqual(12);
  });

  it("marks values BadNoCommunication while the camera is frozen, keeping them, and Good once it is back", async () => {
    rig = await startOpcuaRig({ heartbeatMs: 100, timeoutMs: 500 });
    await rig.online();
    const session = await rig.connect();
    const watched = await rig.watch(session, "ns=1;s=cam1.IO.in0");
    // The server's start blocks the loop long enough for this short timeout: wait until it is back.
    await until(() => watched.at(-1)?.statusCode === StatusCodes.Good, 5_000, "a Good IO value");
    const value = watched.at(-1)?.value.value;
    rig.camera.freeze();
    await until(
      () => watched.at(-1)?.statusCode === StatusCodes.BadNoCommunication,
      5_000,
      "BadNoCommunication",
    );
    expect(watched.at(-1)?.value.value).toBe(value);
    const stats = await read(session, "ns=1;s=cam1.Statistics.Inspections");
    expect(stats.statusCode).toBe(StatusCodes.BadNoCommunication);
    expect((await read(session, "ns=1;s=cam1.Online")).value.value).toBe(false);
    rig.camera.resume();
    await until(() => watched.at(-1)?.statusCode === StatusCodes.Good, 10_000, "Good again");
    expect((await read(session, "ns=1;s=cam1.Online")).value.value).toBe(true);
  });

  it("shows the IO of a camera that was online before the server started, outputs writable", async () => {
    rig = await startOpcuaRig({ serverAfterOnline: true, heartbeatMs: 200, timeoutMs: 5_000 });
    const session = await rig.connect("otto");
    const in0 = await read(session, "ns=1;s=cam1.IO.in0");
    expect(in0.statusCode).toBe(StatusCodes.Good);
    expect(in0.value.value).toBe(false);
    const written = await session.write({
      nodeId: "ns=1;s=cam1.IO.out0",
      attributeId: AttributeIds.Value,
      value: { value: { dataType: DataType.Boolean, value: true } },
    });
    expect(written).toBe(StatusCodes.Good);
    expect(rig.camera.io.find((point) => point.name === "out0")?.value).toBe(true);
  });

  it("shows each formatted-output line and its typed fields under the camera's port", async () => {
    rig = await startOpcuaRig({ formattedOutput: true });
    await rig.online();
    const session = await rig.connect();
    // Named by its place in the camera's list (or its configured name), never by its port.
    const port = "ns=1;s=cam1.FormattedOutput.Output1";
    await until(() => rig?.hub.serial.isStandalone("cam1") === false, 1_000, "the hub");
    const before = rig.events.length;
    rig.camera.services.reporting.trigger(0);
    const line = await rig.waitFor((event) => event.type === "serial", 5_000, before);
    if (line.type !== "serial") throw new Error("unreachable");
    const read = async (path: string) =>
      (await session.read({ nodeId: `${port}.${path}`, attributeId: 13 })).value;
    // The bridge handles the same event synchronously: the variables hold the line already.
    expect((await read("Line")).value).toBe(line.raw);
    expect((await read("Fields.cycle")).dataType).toBe(DataType.Double);
    expect((await read("Fields.cycle")).value).toBe(line.fields?.cycle);
    expect((await read("Fields.result")).value).toBe(line.fields?.result);
  });
});
