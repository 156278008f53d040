// A Mosquitto of the benchmark's own on a free port (as the tests start theirs).
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function portFree(port) {
  const server = createServer();
  const ok = await new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

/**
 * A base port below the ephemeral range whose block of `size` ports is free now: tried at random
 * blocks until one is (a port may still be taken between this check and its use; callers retry).
 */
export async function freeBlock(size, low = 20_000, high = 32_000) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - size));
    let free = true;
    for (let port = base; port < base + size && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error(`no free block of ${size} ports between ${low} and ${high}`);
}

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
