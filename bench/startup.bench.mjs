// Start to READY: spawn the daemon with a notify socket and time READY=1, against a bare Node start.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import unixDgram from "unix-dgram";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const RUNS = 7;

function timeToExit(args) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
  });
}

function timeToReady() {
  const path = join(mkdtempSync(join(tmpdir(), "bench-notify-")), "notify.sock");
  return new Promise((resolve, reject) => {
    let child;
    const started = process.hrtime.bigint();
    const socket = unixDgram.createSocket("unix_dgram", (message) => {
      if (!/^READY=1$/m.test(message.toString())) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      child.once("exit", () => {
        socket.close();
        resolve(ms);
      });
      child.kill("SIGTERM");
    });
    socket.bind(path);
    child = spawn(process.execPath, [CLI, "run", "--http.port", "0", "--log.level", "warn"], {
      stdio: "ignore",
      env: { ...process.env, NOTIFY_SOCKET: path },
    });
    child.once("error", reject);
  });
}

export async function run() {
  const ready = [];
  const bare = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await timeToExit(["-e", ""]));
    ready.push(await timeToReady());
  }
  return [
    {
      name: "start to READY",
      unit: "ms",
      samples: ready,
      baseline: { name: "bare node start to exit", samples: bare },
    },
  ];
}
