import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ModelStore } from "../../../src/bridges/opcua/model-store.js";
import { captureLog } from "../../support/log.js";
import { tempDir } from "../../support/process.js";

describe("the OPC UA model store", () => {
  it("sets an unreadable file aside with a warning and writes a whole new one", () => {
    const file = join(tempDir("smartcam-model-"), "opcua-model.json");
    writeFileSync(file, '{"version":1,"cameras":{"cam1":{"io":[{"name":"x","kind":"sideways"}]}}}');
    const { logger, text } = captureLog();
    const store = new ModelStore({ file, logger });
    store.load();
    expect(store.ids).toEqual([]);
    expect(existsSync(`${file}.unreadable`)).toBe(true);
    expect(text()).toContain("OPC UA model file unreadable");

    store.put("cam1", {
      identity: { serial: "S1" },
      io: [{ name: "out0", kind: "output" }],
      data: [],
      outputs: [],
    });
    store.stop();
    const again = new ModelStore({ file, logger });
    again.load();
    expect(again.get("cam1")?.io).toEqual([{ name: "out0", kind: "output" }]);
    expect(JSON.parse(readFileSync(file, "utf8")).version).toBe(1);
  });
});
