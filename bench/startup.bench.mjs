// Start to READY: spawn the daemon with a notify socket and time READY=1, against a bare Node start.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./broker.mjs";
import { notifySocket, preciseNow } from "./scale.bench.mjs";

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

async function timeToReady(extra) {
  const notify = notifySocket();
  const started = preciseNow();
  const child = spawn(process.execPath, [CLI, "run", "--http.port", "0", "--log.level", "warn", ...extra], {
    stdio: "ignore",
    env: { ...process.env, NOTIFY_SOCKET: notify.path },
  });
  const exited = new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  const ms = (await Promise.race([notify.ready, exited.then(() => Number.NaN)])) - started;
  child.kill("SIGTERM");
  await exited;
  notify.close();
  if (Number.isNaN(ms)) throw new Error("the daemon exited before READY");
  return ms;
}

export async function run() {
  const ready = [];
  const withOpcua = [];
  const bare = [];
  // One state directory for the runs with OPC UA: its PKI is made on the first start only, as in the field.
  const state = mkdtempSync(join(tmpdir(), "bench-state-"));
  for (let i = 0; i < RUNS; i++) {
    bare.push(await timeToExit(["-e", ""]));
    ready.push(await timeToReady(["--opcua.enabled", "false"]));
    const port = String(await freePort());
    withOpcua.push(
      await timeToReady([
        "--opcua.port",
        port,
        "--opcua.host",
        "127.0.0.1",
        "--daemon.stateDirectory",
        state,
      ]),
    );
  }
  const baseline = { name: "bare node start to exit", samples: bare };
  return [
    { name: "start to READY (embedded broker, simulated cameras)", unit: "ms", samples: ready, baseline },
    { name: "start to READY, OPC UA server too", unit: "ms", samples: withOpcua.slice(1), baseline },
  ];
}
