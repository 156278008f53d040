import {
  AttributeIds,
  type ClientSession,
  type DataValue,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
} from "node-opcua";
import { afterEach, describe, expect, it } from "vitest";
import { variablesBelow } from "./calls.js";
import { type OpcuaRig, startOpcuaRig, subscribe, until } from "./rig.js";

let rig: OpcuaRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const SESSIONS = 100;
const ITEMS = 100;
const CLIENTS = 10;
const REPORTS = 5;

const WATCHED = "ns=1;s=cam1.LastReport.Cycle";

/**
 * LastReport.Cycle, then 99 more of cam1's plain variables, some twice as it has fewer: each an
 * item of its own. (Structured values would send each client session off to read their types.)
 */
async function itemsFor(session: ClientSession): Promise<string[]> {
  const others = (await variablesBelow(session, "ns=1;s=cam1")).filter((id) => id !== WATCHED);
  return [WATCHED, ...Array.from({ length: ITEMS - 1 }, (_, i) => others[i % others.length] as string)];
}

describe("OPC UA under a SCADA's load", () => {
  it("serves 100 sessions with 100 monitored items each without a drop, and refuses the 101st at once", {
    timeout: 300_000,
  }, async () => {
    // Generous heartbeats: a hundred clients on a busy machine must not cost the camera its session.
    rig = await startOpcuaRig({ rateHz: 0, heartbeatMs: 500, timeoutMs: 10_000 });
    await rig.online();
    let monitored: string[] = [];
    const sessions: ClientSession[] = [];
    const cycles: number[][] = [];
    // One secure channel per client, ten sessions on each, opened one after another.
    for (let c = 0; c < CLIENTS; c++) {
      const client = await rig.openClient();
      for (let s = 0; s < SESSIONS / CLIENTS; s++) {
        const session = await client.createSession({ type: UserTokenType.Anonymous });
        if (monitored.length === 0) monitored = await itemsFor(session);
        const subscription = await subscribe(session);
        const group = await subscription.monitorItems(
          monitored.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
          { samplingInterval: 0, queueSize: 100, discardOldest: false },
          TimestampsToReturn.Both,
        );
        const seen: number[] = [];
        group.on("changed", (item, value: DataValue) => {
          if (item.itemToMonitor.nodeId.toString() === WATCHED && value.statusCode === StatusCodes.Good)
            seen.push(Number(value.value.value));
        });
        sessions.push(session);
        cycles.push(seen);
      }
    }
    expect(rig.server.sessions).toBe(SESSIONS);
    expect(rig.server.subscriptions).toBe(SESSIONS);

    const extra = await rig.openClient();
    await expect(extra.createSession({ type: UserTokenType.Anonymous })).rejects.toThrow(
      /BadTooManySessions/,
    );

    const before = rig.reports().length;
    for (let i = 0; i < REPORTS; i++) await rig.hub.command("cam1", "trigger", {});
    await until(() => rig !== undefined && rig.reports().length >= before + REPORTS, 10_000, "the reports");
    const expected = rig
      .reports()
      .slice(before)
      .map((report) => report.cycle);
    await until(
      () => cycles.every((seen) => expected.every((cycle) => seen.includes(cycle))),
      30_000,
      "every session to see every cycle",
    );
    for (const seen of cycles) expect(seen.filter((cycle) => expected.includes(cycle))).toEqual(expected);
    // Every session still answers.
    const reads = await Promise.all(
      sessions.map((session) =>
        session.read({ nodeId: "ns=1;s=cam1.Online", attributeId: AttributeIds.Value }),
      ),
    );
    expect(reads.every((read) => read.statusCode === StatusCodes.Good)).toBe(true);
    // Closed by the client, subscriptions and all, before the rig drops the channels under them.
    for (const session of sessions) await session.close(true);
  });
});
