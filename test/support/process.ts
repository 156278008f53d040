import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(ROOT, "dist", "cli.js");

export function tempDir(prefix = "smartcam-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

// One allocator for tests and benchmarks: ports below the ephemeral range, a slice per worker.
import { addressInUse } from "../../bench/ports.mjs";

export { addressInUse, freeBlock, freePort, freePort as freeUdpPort } from "../../bench/ports.mjs";

/**
 * Runs `start` again, up to `attempts` times, while it fails because a port it picked was taken
 * between the check and the bind (by its error's code, or a child process's EADDRINUSE on stderr).
 */
export async function retryOnCollision<T>(start: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const collided =
        addressInUse(error) || (error instanceof Error && error.message.includes("EADDRINUSE"));
      if (attempt >= attempts || !collided) throw error;
    }
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** JSON log records on stdout; throws if any stdout line is not JSON. */
  records(): Record<string, unknown>[];
  waitFor(
    predicate: (record: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string | undefined>;
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
}

/** Runs the built CLI as a real process, the way systemd or a container would. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): Spawned {
  // OPC UA has its own tests; elsewhere a server on 4840 per daemon would only collide.
  const env: Record<string, string> = { SMARTCAM_OPCUA_ENABLED: "false" };
  for (const [key, value] of Object.entries({ ...process.env, ...options.env })) {
    if (value !== undefined && !(key.startsWith("SMARTCAM_") && !(options.env && key in options.env)))
      env[key] = value;
  }
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    env,
    cwd: options.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const records = () =>
    out
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    records,
    exited,
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const complete = out.slice(0, out.lastIndexOf("\n") + 1);
        const found = complete
          .split("\n")
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find(predicate);
        if (found) return found;
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`no matching log record; stdout:\n${out}\nstderr:\n${err}`);
    },
  };
}

export async function stopChild(spawned: Spawned): Promise<void> {
  if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill("SIGKILL");
  await spawned.exited;
}
