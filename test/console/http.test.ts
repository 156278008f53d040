import { readFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestBroker } from "../support/mosquitto.js";
import { type ConsoleRig, PASSWORD, startConsoleRig } from "./rig.js";

const broker = new TestBroker();
let rig: ConsoleRig;

beforeAll(async () => {
  await broker.start();
  rig = await startConsoleRig({ brokerUrl: broker.url, base: "con-http", cameras: 1, rateHz: 5 });
  const online = async () => {
    const state = (await (await fetch(api("state"))).json()) as {
      cameras: { state: { availability: string } }[];
    };
    return state.cameras[0]?.state.availability;
  };
  for (let i = 0; i < 300 && (await online()) !== "online"; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
});

afterAll(async () => {
  await rig?.stop();
  await broker.stop();
});

const api = (path: string) => `http://127.0.0.1:${rig.port}/console/api/${path}`;

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(api(path), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

async function login(name = "ops"): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(api("login"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: PASSWORD }),
  });
  expect(response.status).toBe(200);
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] as string;
  expect(response.headers.get("set-cookie")).toMatch(/HttpOnly; SameSite=Strict/);
  return { cookie, csrf: ((await response.json()) as { csrf: string }).csrf };
}

/** An open event stream, counting the bytes it received. */
function stream(): Promise<{ received: () => number; close: () => void }> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const req = request(api("events"), (response) => {
      if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
      response.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      resolve({ received: () => received, close: () => req.destroy() });
    });
    req.on("error", () => undefined);
    req.end();
  });
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.replace(/\D+/g, ""));
}

describe("the console's HTTP side", () => {
  it("refuses actions without a session, without the CSRF token, from another origin, and bad bodies, with a reason", async () => {
    expect((await post("cameras/cam1/actions/trigger", "{}")).body.error?.code).toBe("UNAUTHENTICATED");
    const { cookie, csrf } = await login();
    expect((await post("cameras/cam1/actions/trigger", "{}", { cookie })).body.error?.code).toBe("CSRF");
    const forged = await post("cameras/cam1/actions/trigger", "{}", {
      cookie,
      "x-csrf-token": csrf,
      origin: "http://evil.example",
    });
    expect(forged).toEqual({
      status: 403,
      body: expect.objectContaining({ error: expect.objectContaining({ code: "FORBIDDEN" }) }),
    });
    const auth = { cookie, "x-csrf-token": csrf };
    expect((await post("cameras/cam1/actions/trigger", "{not json", auth)).status).toBe(400);
    expect(
      (await post("cameras/cam1/actions/trigger", JSON.stringify({ inspection: "x" }), auth)).status,
    ).toBe(400);
    expect((await post("cameras/cam1/actions/trigger", "x".repeat(20_000), auth)).status).toBe(413);
    expect((await post("cameras/cam1/actions/reboot", "{}", auth)).status).toBe(404);
    expect((await post("cameras/nope/actions/trigger", "{}", auth)).status).toBe(404);
    expect((await post("cameras/%E0%A4%A/actions/trigger", "{}", auth)).status).toBe(400);
    expect((await fetch(api("cameras/%E0%A4%A/image"))).status).toBe(400);
    const ok = await post("cameras/cam1/actions/trigger", "{}", auth);
    expect(ok, JSON.stringify(ok.body)).toMatchObject({ status: 200 });
    const observer = await login("eve");
    const refused = await post("cameras/cam1/actions/trigger", "{}", {
      cookie: observer.cookie,
      "x-csrf-token": observer.csrf,
    });
    expect(refused.status).toBe(403);
    const metrics = await (await fetch(`http://127.0.0.1:${rig.port}/metrics`)).text();
    expect(metrics).toMatch(/smartcam_console_refused_total\{reason="CSRF"\} 1/);
    expect(metrics).toMatch(/smartcam_console_refused_total\{reason="TOO_LARGE"\} 1/);
  });

  it("checks at most four logins at once: a flood is refused 429, and a login after it works", async () => {
    const flood = await Promise.all(
      Array.from({ length: 40 }, () => post("login", JSON.stringify({ name: "ops", password: "wrong" }))),
    );
    const statuses = flood.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 429 || s === 401)).toBe(true);
    await login();
  });

  it("serves its page and assets from the package, under 250 kB gzipped, with a strict content policy", async () => {
    let total = 0;
    for (const path of ["", "assets/console.js", "assets/console.css"]) {
      const response = await fetch(`http://127.0.0.1:${rig.port}/console/${path}`, {
        headers: { "accept-encoding": "gzip" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      total += Number(response.headers.get("content-length"));
    }
    console.info(`[console] page and assets: ${total} bytes gzipped`);
    expect(total).toBeLessThan(250 * 1024);
    expect((await fetch(`http://127.0.0.1:${rig.port}/console/assets/../../package.json`)).status).toBe(404);
  });

  it("holds 50 live connections for a minute within 20 MB of the daemon's RSS, each still fed", async () => {
    const pid = rig.daemon.child.pid as number;
    const warm = await Promise.all(Array.from({ length: 50 }, () => stream()));
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    for (const s of warm) s.close();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = rssKb(pid);
    const streams = await Promise.all(Array.from({ length: 50 }, () => stream()));
    // Counted in seconds of a camera at 5 reports/s, not in a time budget the machine must meet.
    for (let second = 0; second < 60; second++) await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = rssKb(pid);
    const fed = streams.map((s) => s.received());
    for (const s of streams) s.close();
    console.info(
      `[console] 50 streams for 60 s: RSS ${before} -> ${after} kB; least fed ${Math.min(...fed)} bytes`,
    );
    expect(after - before).toBeLessThan(20 * 1024);
    for (const bytes of fed) expect(bytes).toBeGreaterThan(10_000);
  }, 120_000);
});
