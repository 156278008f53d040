// A Mosquitto of the benchmark's own on a free port (as the tests start theirs).
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.mjs";

export { freeBlock, freePort, portFree } from "./ports.mjs";

/** A fresh broker; pass the port of a stopped one to start again on it. */
export async function startBroker(fixedPort) {
  const dir = mkdtempSync(join(tmpdir(), "bench-mosquitto-"));
  chmodSync(dir, 0o777);
  const port = fixedPort ?? (await freePort());
  const config = join(dir, "mosquitto.conf");
  writeFileSync(
    config,
    `listener ${port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 0\n`,
  );
  const child = spawn("/usr/sbin/mosquitto", ["-c", config], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}
