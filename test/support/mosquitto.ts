import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, tempDir } from "./process.js";

function mosquittoBinary(): string {
  for (const candidate of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"])
    if (existsSync(candidate)) return candidate;
  const found = spawnSync("sh", ["-c", "command -v mosquitto"], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error("mosquitto not found: install it (CI does, with apt-get)");
  return found;
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A real Mosquitto of this test run's own, on a free port; it can be stopped and started again on that port. */
export class TestBroker {
  port = 0;
  readonly #dir = tempDir("mosquitto-");
  readonly #config = join(this.#dir, "mosquitto.conf");
  #child: ChildProcess | undefined;

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    // Started as root, mosquitto drops to its own user, which must be able to write its database.
    chmodSync(this.#dir, 0o777);
    writeFileSync(
      this.#config,
      [
        `listener ${this.port} 127.0.0.1`,
        "allow_anonymous true",
        "set_tcp_nodelay true",
        // Sessions and retained messages survive a restart, as on a production broker.
        "persistence true",
        `persistence_location ${this.#dir}/`,
        "autosave_interval 0",
        "max_queued_messages 100000",
        "log_type error",
        "",
      ].join("\n"),
    );
    this.#child = spawn(mosquittoBinary(), ["-c", this.#config], { stdio: "ignore" });
    await listening(this.port, 5_000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
