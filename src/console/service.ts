import { Counter, Gauge } from "prom-client";
import type { CamerasService } from "../daemon/camera-services.js";
import type { HttpService } from "../daemon/http-service.js";
import type { JournalService } from "../daemon/mqtt-services.js";
import type { Service, ServiceContext, ServiceHealth, ServiceSpec } from "../daemon/service.js";
import { packageVersion } from "../lib/version.js";
import { Assets } from "./assets.js";
import { ConsoleFeed } from "./feed.js";
import { ConsoleRoutes } from "./routes.js";
import { Sessions } from "./sessions.js";

const REFUSED = "smartcam_console_refused_total";
const CLIENTS = "smartcam_console_clients";

/** The web console at /console/ on the HTTP endpoint: built from the daemon's cameras and health. */
export class ConsoleService implements Service {
  readonly #context: ServiceContext;
  readonly feed: ConsoleFeed;
  #unmount: (() => void) | undefined;
  #unsubscribe: (() => void) | undefined;
  #address = "";

  constructor(context: ServiceContext) {
    this.#context = context;
    this.feed = new ConsoleFeed(context.clock);
  }

  async start(): Promise<void> {
    const context = this.#context;
    const http = context.lookup<HttpService>("http");
    const cameras = context.lookup<CamerasService>("cameras");
    if (!http || !cameras) throw new Error("the console needs the HTTP endpoint and the cameras");
    const hub = cameras.hub;
    const refused = new Counter({
      name: REFUSED,
      help: "Console requests refused, by why (bad input, unauthenticated, CSRF, not allowed...)",
      labelNames: ["reason"],
      registers: [context.metrics],
    });
    const feed = this.feed;
    new Gauge({
      name: CLIENTS,
      help: "Open console pages (live event streams)",
      registers: [context.metrics],
      collect() {
        this.set(feed.clients);
      },
    });
    const startedAt = context.clock.now();
    const version = packageVersion();
    const journal = context.lookup<JournalService>("journal")?.journal;
    const daemon = () => ({
      version,
      startedAt,
      now: context.clock.now(),
      health: context.healthReport(),
      ...(journal
        ? {
            journal: {
              records: journal.count,
              bytes: journal.bytes,
              maxBytes: journal.maxBytes,
              outputs: Object.fromEntries(
                journal.outputs.map((name) => [name, journal.output(name).figures()]),
              ),
            },
          }
        : {}),
    });
    const routes = new ConsoleRoutes({
      config: context.config,
      hub,
      feed,
      sessions: new Sessions(context.config.http.console, context.clock),
      assets: new Assets(),
      daemon,
      refused: (reason) => refused.inc({ reason }),
    });
    feed.start(hub.cameras);
    this.#unsubscribe = hub.events.subscribe(feed.onEvent);
    // The daemon's health changes without a camera event: pages get it every few seconds.
    const tick = context.clock.setInterval(() => {
      // The same picture as the snapshot's, and only for open pages: the health report and the
      // journal's figures (a query per output) cost nothing while nobody looks.
      if (feed.clients > 0) feed.broadcast("daemon", daemon());
    }, 2_000);
    const unmount = http.mount((request, response, path) => routes.handle(request, response, path));
    this.#unmount = () => {
      context.clock.clearInterval(tick);
      unmount();
    };
    this.#address = `http://${http.address}/console/`;
    context.logger.info(
      { url: this.#address, mode: context.config.http.console.users.length === 0 ? "read-only" : "login" },
      "web console",
    );
  }

  async stop(): Promise<void> {
    this.#unmount?.();
    this.#unmount = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.feed.stop();
    // A restarted console (a reload that changed http) registers them again.
    for (const name of [REFUSED, CLIENTS]) this.#context.metrics.removeSingleMetric(name);
  }

  health(): ServiceHealth {
    return this.#unmount
      ? { healthy: true, detail: `${this.#address}, ${this.feed.clients} open` }
      : { healthy: false, detail: "stopped" };
  }
}

export const consoleServiceSpec: ServiceSpec = {
  name: "console",
  dependsOn: ["http", "cameras", "journal"],
  configKeys: ["http", "mqtt.commands"],
  enabled: (config) => config.http.enabled && config.http.console.enabled,
  create: (context) => new ConsoleService(context),
};
