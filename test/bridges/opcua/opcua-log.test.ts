import { make_warningLog } from "node-opcua";
import { describe, expect, it } from "vitest";
import { routeOpcuaLogs } from "../../../src/bridges/opcua/opcua-log.js";
import { captureLog } from "../../support/log.js";

describe("node-opcua's log lines in the daemon's log", () => {
  it("passes a line repeated per packet once a minute, with how many were held back", () => {
    const { logger, records } = captureLog();
    let now = 1_000_000;
    routeOpcuaLogs(logger, () => now);
    const warn = make_warningLog("TEST");
    for (let i = 0; i < 500; i++) warn(`PREVENTING DDOS ATTACK => maxConnection =${116 + (i % 3)}`);
    warn("another kind of line");
    const ddos = () => records().filter((record) => String(record.msg).includes("PREVENTING DDOS"));
    expect(ddos()).toHaveLength(1);
    expect(records().filter((record) => record.msg === "another kind of line")).toHaveLength(1);
    now += 61_000;
    warn("PREVENTING DDOS ATTACK => maxConnection =116");
    expect(ddos()).toHaveLength(2);
    expect(ddos()[1]?.suppressed).toBe(499);
    // node-opcua's advice to revert a security fix never reaches the log: no offered policy needs it.
    warn("[NODE-OPCUA-W27]", "node version", process.version);
    expect(records().some((record) => String(record.msg).includes("W27"))).toBe(false);
  });
});
