import { setFlagsFromString } from "node:v8";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { changedKeys } from "../config/diff.js";
import type { Config } from "../config/schema.js";
import { type Clock, systemClock } from "../lib/clock.js";
import { heapFlags } from "../lib/heap.js";
import type { Logger } from "./logger.js";
import type { Notifier } from "./notify/sd-notify.js";
import { Watchdog } from "./notify/watchdog.js";
import type { HealthReport, ServiceSpec } from "./service.js";
import { type StopResult, Supervisor } from "./supervisor.js";

/** Keys the daemon applies itself on reload, without restarting anything. */
const LIVE_KEYS = ["log.level", "daemon.stopTimeoutMs", "daemon.heap"];

export interface DaemonOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly specs: readonly ServiceSpec[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The config file it was started with, for commands the log tells an operator to run. */
  readonly configFile?: string | undefined;
  readonly clock?: Clock;
  /** Sets V8 flags at run time: node:v8's setFlagsFromString unless a test watches. */
  readonly setV8Flags?: (flags: string) => void;
}

export interface ReloadOutcome {
  readonly changed: readonly string[];
  readonly restarted: readonly string[];
  readonly needRestart: readonly string[];
}

/** The supervisor plus what surrounds it: metrics, systemd notifications, the watchdog, reloads. */
export class Daemon {
  readonly #options: DaemonOptions;
  readonly #clock: Clock;
  readonly #metrics = new Registry();
  readonly #supervisor: Supervisor;
  readonly #watchdog: Watchdog;
  readonly #reloads: Counter<"result">;
  #config: Config;
  #lastStatus = "";

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#supervisor = new Supervisor({
      specs: options.specs,
      logger: options.logger,
      clock: this.#clock,
      context: {
        clock: this.#clock,
        metrics: this.#metrics,
        statusChanged: () => this.#sendStatus(),
        configFile: options.configFile,
      },
    });
    this.#watchdog = new Watchdog({
      notifier: options.notifier,
      clock: this.#clock,
      logger: options.logger,
      env: options.env,
    });
    this.#reloads = new Counter({
      name: "smartcam_config_reloads_total",
      help: "Configuration reloads by result",
      labelNames: ["result"],
      registers: [this.#metrics],
    });
    const supervisor = this.#supervisor;
    new Gauge({
      name: "smartcam_service_healthy",
      help: "1 when the service reports healthy",
      labelNames: ["service"],
      registers: [this.#metrics],
      collect() {
        this.reset();
        for (const [name, health] of Object.entries(supervisor.health().services)) {
          this.set({ service: name }, health.healthy ? 1 : 0);
        }
      },
    });
  }

  get config(): Config {
    return this.#config;
  }

  get metrics(): Registry {
    return this.#metrics;
  }

  health(): HealthReport {
    return this.#supervisor.health();
  }

  async start(): Promise<void> {
    this.#sizeHeap(this.#config);
    collectDefaultMetrics({ register: this.#metrics });
    this.#options.notifier.send({ STATUS: "starting" });
    await this.#supervisor.start(this.#config);
    this.#watchdog.start();
    this.#options.notifier.send({ READY: "1", STATUS: this.#status() });
    this.#lastStatus = this.#status();
    this.#options.logger.info({ services: this.#supervisor.running }, "ready");
  }

  /** Stops everything in reverse start order within daemon.stopTimeoutMs. */
  async stop(): Promise<StopResult> {
    this.#options.notifier.send({ STOPPING: "1", STATUS: "stopping" });
    this.#watchdog.stop();
    const result = await this.#supervisor.stop(this.#config.daemon.stopTimeoutMs);
    this.#metrics.clear();
    return result;
  }

  /** Applies an already validated config: live keys in place, changed services restarted, the rest logged. */
  async reload(next: Config): Promise<ReloadOutcome> {
    const { logger, notifier } = this.#options;
    const changed = changedKeys(this.#config, next);
    if (changed.length === 0) {
      this.#reloads.inc({ result: "unchanged" });
      logger.info("reload: configuration unchanged");
      return { changed, restarted: [], needRestart: [] };
    }
    notifier.send({ RELOADING: "1", STATUS: "reloading configuration" });
    try {
      logger.level = next.log.level;
      this.#sizeHeap(next);
      const { restarted, unclaimed } = await this.#supervisor.reload(next, changed);
      const isLive = (key: string) => LIVE_KEYS.some((live) => key === live || key.startsWith(`${live}.`));
      const needRestart = unclaimed.filter((key) => !isLive(key));
      this.#config = next;
      if (needRestart.length > 0) {
        logger.warn({ keys: needRestart }, "reload: these keys take effect only after the daemon restarts");
      }
      this.#reloads.inc({ result: "applied" });
      logger.info({ changed, restarted }, "reload applied");
      return { changed, restarted, needRestart };
    } catch (error) {
      this.#reloads.inc({ result: "failed" });
      throw error;
    } finally {
      notifier.send({ READY: "1", STATUS: this.#status() });
    }
  }

  /**
   * V8 sizes the next full collection from the live heap the last one left, with a factor that
   * can reach 2 or more, and lets the young generation grow to 32 MB under a steady allocation
   * rate. With the OPC UA server's address space live, those margins are the larger part of the
   * process's memory; smaller ones cost a few more collections. Both flags are read by V8 each time
   * it resizes, so setting them at run time takes effect.
   */
  #sizeHeap(config: Config): void {
    const set = this.#options.setV8Flags ?? setFlagsFromString;
    for (const flag of heapFlags(config.daemon.heap)) set(flag);
  }

  #status(): string {
    const phrases = this.#supervisor.statusPhrases();
    const health = this.#supervisor.health();
    const state = health.healthy ? "running" : "degraded";
    return phrases.length > 0 ? `${state}: ${phrases.join(", ")}` : state;
  }

  #sendStatus(): void {
    const status = this.#status();
    if (status === this.#lastStatus) return;
    this.#lastStatus = status;
    this.#options.notifier.send({ STATUS: status });
  }

  /** For the reload counter when the new config itself was refused before reaching the daemon. */
  countRefusedReload(): void {
    this.#reloads.inc({ result: "refused" });
  }
}
