import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeSystemdNotify } from "../support/notify-socket.js";
import { freeBlock, freePort, ROOT, type Spawned, spawnCli, stopChild, tempDir } from "../support/process.js";

const running: Spawned[] = [];
const sockets: FakeSystemdNotify[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map(stopChild));
  for (const socket of sockets.splice(0)) socket.close();
});

function start(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Spawned {
  const spawned = spawnCli(args, { env, nodeArgs });
  running.push(spawned);
  return spawned;
}

function notifySocket(): FakeSystemdNotify {
  const socket = new FakeSystemdNotify();
  sockets.push(socket);
  return socket;
}

async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const isMsg = (msg: string) => (record: Record<string, unknown>) => record.msg === msg;

describe("the daemon process", () => {
  it("runs the README's demo config, answers /healthz, notifies READY and stops on SIGTERM within the deadline", async () => {
    const port = await freePort();
    const notify = notifySocket();
    // The demo's three cameras take basePort + 20*i and the eleven ports after each.
    const basePort = await freeBlock(60);
    const daemon = start(
      [
        "run",
        "--config",
        join(ROOT, "config/demo.yaml"),
        "--http.port",
        String(port),
        "--simulator.basePort",
        String(basePort),
      ],
      { NOTIFY_SOCKET: notify.path },
    );
    await notify.waitFor("READY", "1");
    await notify.waitFor("STATUS", "running: 3 cameras, 3 online, MQTT connected, Sparkplug born");
    const health = await healthz(port);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      healthy: true,
      services: {
        http: { healthy: true, detail: `listening on 127.0.0.1:${port}` },
        load: { healthy: true, detail: expect.stringMatching(/event loop p99 delay \d+ ms$/) },
        broker: {
          healthy: true,
          detail: expect.stringMatching(/^embedded broker on mqtt:\/\/127\.0\.0\.1:\d+$/),
        },
        journal: {
          healthy: true,
          detail: expect.stringMatching(/records, \d+ bytes held for mqtt, sparkplug/),
        },
        simulator: { healthy: true, detail: "3 simulated cameras" },
        cameras: { healthy: true, detail: "3 cameras, 3 online" },
        mqtt: { healthy: true, detail: "MQTT connected" },
        sparkplug: {
          healthy: true,
          detail: expect.stringMatching(/^Sparkplug born on mqtt:\/\/127\.0\.0\.1:\d+ \(bdSeq \d+\)$/),
        },
        console: { healthy: true, detail: `http://127.0.0.1:${port}/console/, 0 open` },
      },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain("process_resident_memory_bytes");
    expect(metrics).toContain('smartcam_service_healthy{service="http"} 1');
    expect(metrics).toContain('smartcam_cameras{availability="online"} 3');
    expect(metrics).toContain('smartcam_journal_output{output="mqtt",figure="lost"} 0');
    expect(metrics).toMatch(/smartcam_journal_output\{output="mqtt",figure="delivered"\} \d+/);

    const stopAt = Date.now();
    daemon.child.kill("SIGTERM");
    const { code } = await daemon.exited;
    expect(code).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    await notify.waitFor("STOPPING", "1");
    const messages = daemon.records().map((r) => r.msg);
    expect(messages).toContain("ready");
    expect(messages.at(-1)).toBe("stopped");
  });

  it("sends nothing and still runs when NOTIFY_SOCKET is unset", async () => {
    const port = await freePort();
    const daemon = start(["run", "--http.port", String(port)]);
    await daemon.waitFor(isMsg("ready"));
    expect((await healthz(port)).status).toBe(200);
    daemon.child.kill("SIGINT");
    expect((await daemon.exited).code).toBe(0);
  });

  it("exits 78 on an invalid config, naming every bad key, and starts nothing", async () => {
    const file = join(tempDir(), "bad.yaml");
    writeFileSync(file, "http:\n  port: -1\n  hots: x\n");
    const daemon = start(["run", "--config", file]);
    const { code } = await daemon.exited;
    expect(code).toBe(78);
    expect(daemon.stderr()).toMatch(/http\.port: Too small/);
    expect(daemon.stderr()).toMatch(/http\.hots: unknown key/);
    const [record] = daemon.records();
    expect(record?.level).toBe("fatal");
    expect(record?.issues).toEqual(expect.arrayContaining([{ path: "http.hots", message: "unknown key" }]));
  });

  it("never writes a secret to its logs, at any level", async () => {
    const port = await freePort();
    const secretFile = join(tempDir(), "token");
    writeFileSync(secretFile, "tok-9f8e7d-SECRET\n");
    const daemon = start(["run", "--http.port", String(port), "--log.level", "trace"], {
      SMARTCAM_HTTP_METRICS_TOKEN_FILE: secretFile,
    });
    await daemon.waitFor(isMsg("ready"));
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const authorized = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: "Bearer tok-9f8e7d-SECRET" },
    });
    expect(authorized.status).toBe(200);
    daemon.child.kill("SIGTERM");
    await daemon.exited;
    expect(daemon.stdout()).not.toContain("tok-9f8e7d");
    expect(daemon.stderr()).not.toContain("tok-9f8e7d");
  });

  it("applies a good SIGHUP reload without a restart of the process, and refuses a bad one", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const file = join(tempDir(), "config.yaml");
    writeFileSync(file, `http:\n  port: ${portA}\n`);
    const notify = notifySocket();
    const daemon = start(["run", "--config", file], { NOTIFY_SOCKET: notify.path });
    await daemon.waitFor(isMsg("ready"));

    writeFileSync(
      file,
      `http:\n  port: ${portB}\nlog:\n  level: debug\ndaemon:\n  stateDirectory: /tmp/elsewhere\n`,
    );
    daemon.child.kill("SIGHUP");
    const applied = await daemon.waitFor(isMsg("reload applied"));
    // The console serves on the HTTP endpoint: it restarts with it.
    expect(applied.restarted).toEqual(["http", "console"]);
    expect((await healthz(portB)).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${portA}/healthz`)).rejects.toThrow();
    const warning = await daemon.waitFor(
      isMsg("reload: these keys take effect only after the daemon restarts"),
    );
    expect(warning.keys).toEqual(["daemon.stateDirectory"]);
    await notify.waitFor("RELOADING", "1");

    writeFileSync(file, `http:\n  port: "not a port"\n`);
    daemon.child.kill("SIGHUP");
    const refused = await daemon.waitFor(
      isMsg("reload refused: the new configuration is invalid; the running one stays"),
    );
    expect(refused.issues).toEqual([
      { path: "http.port", message: "Invalid input: expected number, received string" },
    ]);
    expect((await healthz(portB)).status).toBe(200);
    expect(daemon.child.exitCode).toBeNull();
  });

  it("pings the systemd watchdog at half of WATCHDOG_USEC and stops while the event loop is blocked", async () => {
    const port = await freePort();
    const notify = notifySocket();
    const daemon = start(
      ["run", "--http.port", String(port)],
      {
        NOTIFY_SOCKET: notify.path,
        WATCHDOG_USEC: "200000",
        TEST_BLOCK_AFTER_MS: "1000",
        TEST_BLOCK_FOR_MS: "1200",
      },
      ["--import", join(ROOT, "test/fixtures/block-loop.mjs")],
    );
    await daemon.waitFor(isMsg("ready"));
    await new Promise((resolve) => setTimeout(resolve, 2_800));
    const pings = notify.received.filter((n) => n.fields.WATCHDOG === "1").map((n) => n.at);
    const gaps = pings.slice(1).map((at, i) => at - (pings[i] as number));
    // Pings every ~100 ms before and after the block, and a silence as long as the block.
    expect(pings.length).toBeGreaterThan(8);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(1_000);
    expect(gaps.filter((gap) => gap < 400).length).toBeGreaterThan(6);
    await daemon.waitFor(isMsg("event loop was blocked; watchdog pings were late"));
  });

  it("logs an uncaught error and exits non-zero so that systemd restarts it", async () => {
    const port = await freePort();
    const daemon = start(["run", "--http.port", String(port)], {}, [
      "--import",
      join(ROOT, "test/fixtures/throw-later.mjs"),
    ]);
    const { code } = await daemon.exited;
    expect(code).toBe(1);
    const fatal = daemon.records().find((r) => r.level === "fatal");
    expect(fatal?.msg).toMatch(/uncaught error/);
    expect((fatal?.err as { message?: string } | undefined)?.message).toBe(
      "unexpected failure from a test fixture",
    );
  });
});
