import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { f, MessageType, read, vsCodec } from "../../src/camera/wire/index.js";
import { freeBlock, retryOnCollision, type Spawned, spawnCli, stopChild } from "../support/process.js";

let child: Spawned | undefined;
afterEach(async () => {
  if (child) await stopChild(child);
  child = undefined;
});

describe("smartcam-bridge simulate", () => {
  it("runs cameras that answer HELLO on their monitor port, and stops on SIGTERM", async () => {
    const { basePort, second } = await retryOnCollision(async () => {
      // Two cameras take basePort .. basePort + 31.
      const basePort = await freeBlock(40);
      child = spawnCli([
        "simulate",
        "--cameras",
        "2",
        "--base-port",
        String(basePort),
        "--no-announce",
        "--seed",
        "5",
      ]);
      const second = await child.waitFor((r) => r.msg === "simulated camera up" && r.name === "sim-cam-002");
      return { basePort, second };
    });
    if (!child) throw new Error("unreachable");
    expect(second.serial).toBe("SIM5-002");
    const monitor = (second.ports as { monitor: number }).monitor;
    expect(monitor).toBe(basePort + 21);
    const socket = connect(monitor, "127.0.0.1");
    const decoder = vsCodec.createDecoder();
    const reply = new Promise<ReturnType<typeof decoder.push>>((resolve) =>
      socket.on("data", (chunk) => resolve(decoder.push(chunk))),
    );
    socket.write(
      vsCodec.encode({ type: MessageType.HELLO, flags: 0, seq: 9, fields: [f.text("client", "test")] }),
    );
    const [hello] = await reply;
    socket.destroy();
    expect(hello?.seq).toBe(9);
    expect(read(hello?.fields ?? []).int("heartbeatMs")).toBe(1_000);
    child.child.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);
  });

  it("refuses bad flags with exit 78", async () => {
    child = spawnCli(["simulate", "--cameras", "zero"]);
    expect((await child.exited).code).toBe(78);
    expect(child.stderr()).toContain("--cameras");
  });
});
