import { statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { subscriber } from "../bridges/mqtt/rig.js";
import { TestBroker } from "../support/mosquitto.js";
import { tempDir } from "../support/process.js";
import { type ConsoleRig, launchBrowser, PASSWORD, startConsoleRig } from "./rig.js";

const broker = new TestBroker();
let browser: Browser;
const rigs: ConsoleRig[] = [];

beforeAll(async () => {
  await broker.start();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await broker.stop();
});

afterEach(async () => {
  await Promise.all(rigs.splice(0).map((rig) => rig.stop()));
});

async function rig(options: Omit<Parameters<typeof startConsoleRig>[0], "brokerUrl">) {
  const started = await startConsoleRig({ brokerUrl: broker.url, ...options });
  rigs.push(started);
  return started;
}

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.locator(".link.up").waitFor();
  return page;
}

async function login(page: Page, name: string): Promise<void> {
  await page.fill("#login [name=name]", name);
  await page.fill("#login [name=password]", PASSWORD);
  await page.click("#login button");
  await page.locator("#who", { hasText: name }).waitFor();
}

describe("the web console in a browser", () => {
  it("shows every camera online, read-only without a single action, and a camera's drop within 2 s", async () => {
    const { url, sim } = await rig({ base: "con-ro", cameras: 2, rateHz: 2, readOnly: true });
    const page = await open(url);
    for (const id of ["cam1", "cam2"])
      await page.locator(`[data-camera="${id}"] .availability.online`).waitFor();
    await page.locator("[data-daemon]", { hasText: "MQTT connected" }).waitFor();
    await page
      .locator("[data-daemon]", { hasText: /journal → mqtt\d+ pending, \d+ delivered, 0 dropped, 0 lost/ })
      .waitFor();
    // Still there after the daemon's next live update (which once carried no journal figures).
    const uptime = await page.locator("[data-daemon] h2 small").textContent();
    await page.locator("[data-daemon] h2 small", { hasNotText: uptime ?? "" }).waitFor();
    await page
      .locator("[data-daemon]", { hasText: /journal → mqtt\d+ pending, \d+ delivered, 0 dropped, 0 lost/ })
      .waitFor();
    expect(await page.textContent("#who")).toBe("read-only");
    expect(await page.isVisible("#login")).toBe(false);
    expect(await page.locator("button:visible").count()).toBe(0);
    await page.click('[data-camera="cam1"] h2 a');
    await page.locator("[data-camera-page=cam1] [data-report]").first().waitFor();
    expect(await page.locator("button:visible").count()).toBe(0);
    await page.goto(url);
    await page.locator('[data-camera="cam2"] .availability.online').waitFor();
    const dropped = Date.now();
    sim.child.kill("SIGKILL");
    await page.locator('[data-camera="cam1"] .availability.offline').waitFor();
    await page.locator('[data-camera="cam2"] .availability.offline').waitFor();
    const after = Date.now() - dropped;
    console.info(`[console] both cameras shown offline ${after} ms after the simulator was killed`);
    expect(after).toBeLessThan(2_000);
    await page.close();
  });

  it("shows a report on the camera's page within 1 s of its publication on MQTT", async () => {
    const { url } = await rig({ base: "con-rep", cameras: 1, rateHz: 2, readOnly: true });
    const page = await open(`${url}#/camera/cam1`);
    await page.locator("[data-camera-page=cam1] [data-report]").first().waitFor();
    const sub = await subscriber(broker.url, "con-rep/cam1/report/#", { clean: true, properties: {} });
    try {
      const lags: number[] = [];
      for (let i = 0; i < 3; i++) {
        const seen = sub.messages.length;
        await expect.poll(() => sub.messages.length, { timeout: 10_000 }).toBeGreaterThan(seen);
        const message = sub.messages.at(-1);
        if (!message) throw new Error("unreachable");
        const { id } = JSON.parse(message.payload.toString()) as { id: string };
        await page.locator(`[data-report="${id}"]`).waitFor();
        lags.push(Date.now() - message.at);
      }
      console.info(`[console] reports on the page after their MQTT publication: ${lags.join(", ")} ms`);
      for (const lag of lags) expect(lag).toBeLessThan(1_000);
    } finally {
      await sub.client.endAsync();
      await page.close();
    }
  });

  it("lets an operator trigger (its report appears) and snap (its image appears); a refused action and a bad login say why", async () => {
    const { url } = await rig({
      base: "con-op",
      cameras: 1,
      rateHz: 0,
      allow: ["status", "trigger", "snap"],
    });
    const page = await open(`${url}#/camera/cam1`);
    expect(await page.textContent("#who")).toBe("");
    expect(await page.locator("[data-action]").count()).toBe(0);
    await page.fill("#login [name=name]", "ops");
    await page.fill("#login [name=password]", "wrong");
    await page.click("#login button");
    await page.locator("#notice", { hasText: "login refused: wrong name or password" }).waitFor();
    await login(page, "ops");
    await page.click('[data-camera-page=cam1] [data-action="trigger"]');
    const done = await page
      .locator("#notice", { hasText: /trigger on cam1: done \(cycle \d+\)/ })
      .textContent();
    const cycle = /cycle (\d+)/.exec(done ?? "")?.[1];
    await page
      .locator("[data-camera-page=cam1] [data-report] td:first-child", { hasText: new RegExp(`^${cycle}$`) })
      .waitFor();
    // A snap's image is shown as the camera's last image (raw pixels made a PNG by the daemon).
    await page.click('[data-camera-page=cam1] [data-action="snap"]');
    await page.locator("#notice", { hasText: "snap on cam1: done" }).waitFor();
    const thumb = page.locator("[data-camera-page=cam1] img.thumb");
    await thumb.waitFor();
    await expect
      .poll(() =>
        thumb.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    // Offered to an operator, but not in this camera's allow-list: the camera is never asked.
    await page.click('[data-camera-page=cam1] [data-action="stop"]');
    await page
      .locator("#notice", { hasText: "stop on cam1 refused: stop is not in the allow-list of cam1" })
      .waitFor();
    await page.click("#logout");
    await page.locator("#login").waitFor();
    expect(await page.locator("[data-action]").count()).toBe(0);
    await login(page, "eve");
    // An observer sees, and may do nothing.
    expect(await page.locator("[data-action]").count()).toBe(0);
    await page.close();
  });

  it("draws the overview of three cameras for an operator (docs/console.png is this screenshot)", async () => {
    const { url } = await rig({ base: "con-shot", cameras: 3, rateHz: 2 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(url);
    await page.locator(".link.up").waitFor();
    await login(page, "ops");
    for (const id of ["cam1", "cam2", "cam3"])
      await page.locator(`[data-camera="${id}"]`, { hasText: "passed #" }).waitFor();
    await page.locator(`[data-camera="cam1"] [data-action="trigger"]`).waitFor();
    // CONSOLE_SCREENSHOT=docs/console.png npx vitest run test/console renews the README's picture.
    const path = process.env.CONSOLE_SCREENSHOT ?? join(tempDir("console-shot-"), "console.png");
    await page.screenshot({ path });
    expect(statSync(path).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
