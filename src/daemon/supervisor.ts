import type { Config } from "../config/schema.js";
import { type Clock, systemClock } from "../lib/clock.js";
import type { Logger } from "./logger.js";
import type { HealthReport, Service, ServiceContext, ServiceHealth, ServiceSpec } from "./service.js";

export interface SupervisorOptions {
  readonly specs: readonly ServiceSpec[];
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Everything of the context but config and logger, which the supervisor sets per service. */
  readonly context: Omit<ServiceContext, "config" | "logger" | "healthReport" | "lookup">;
}

export interface StopResult {
  /** Services whose stop() had not finished by the deadline. */
  readonly timedOut: readonly string[];
  readonly failed: readonly string[];
}

/** Orders specs so that every service comes after what it depends on; rejects cycles and unknown names. */
export function startOrder(specs: readonly ServiceSpec[]): ServiceSpec[] {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  if (byName.size !== specs.length) throw new Error("two services share a name");
  const ordered: ServiceSpec[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (spec: ServiceSpec, trail: readonly string[]) => {
    if (state.get(spec.name) === "done") return;
    if (state.get(spec.name) === "visiting") {
      throw new Error(`services depend on each other in a cycle: ${[...trail, spec.name].join(" -> ")}`);
    }
    state.set(spec.name, "visiting");
    for (const dependency of spec.dependsOn ?? []) {
      const target = byName.get(dependency);
      if (!target) throw new Error(`service ${spec.name} depends on unknown service ${dependency}`);
      visit(target, [...trail, spec.name]);
    }
    state.set(spec.name, "done");
    ordered.push(spec);
  };
  for (const spec of specs) visit(spec, []);
  return ordered;
}

function changedBy(spec: ServiceSpec, changedKeys: readonly string[]): boolean {
  return changedKeys.some((key) =>
    spec.configKeys.some((prefix) => key === prefix || key.startsWith(`${prefix}.`)),
  );
}

/**
 * Starts services in dependency order and stops them in reverse. A reload restarts only the
 * services whose config keys changed, and whatever depends on them.
 */
export class Supervisor {
  readonly #order: ServiceSpec[];
  readonly #options: SupervisorOptions;
  readonly #clock: Clock;
  readonly #running = new Map<string, Service>();
  #config: Config | undefined;

  constructor(options: SupervisorOptions) {
    this.#order = startOrder(options.specs);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get running(): readonly string[] {
    return this.#order.filter((spec) => this.#running.has(spec.name)).map((spec) => spec.name);
  }

  async start(config: Config): Promise<void> {
    this.#config = config;
    try {
      for (const spec of this.#order) await this.#startOne(spec, config);
    } catch (error) {
      await this.stop(config.daemon.stopTimeoutMs);
      throw error;
    }
  }

  async #startOne(spec: ServiceSpec, config: Config): Promise<void> {
    if (spec.enabled && !spec.enabled(config)) return;
    const logger = this.#options.logger.child({ component: spec.name });
    const service = spec.create({
      ...this.#options.context,
      config,
      logger,
      healthReport: () => this.health(),
      lookup: <T extends Service>(name: string): T | undefined => {
        if (!(spec.dependsOn ?? []).includes(name))
          throw new Error(`${spec.name} looks up ${name} without depending on it`);
        return this.#running.get(name) as T | undefined;
      },
    });
    logger.debug("starting");
    await service.start();
    this.#running.set(spec.name, service);
    logger.info("started");
  }

  /** Stops every running service in reverse order; the deadline covers them all. */
  async stop(deadlineMs: number): Promise<StopResult> {
    const names = [...this.running].reverse();
    return this.#stopSome(names, deadlineMs);
  }

  async #stopSome(names: readonly string[], deadlineMs: number): Promise<StopResult> {
    const deadline = this.#clock.now() + deadlineMs;
    const timedOut: string[] = [];
    const failed: string[] = [];
    for (const name of names) {
      const service = this.#running.get(name);
      if (!service) continue;
      this.#running.delete(name);
      const logger = this.#options.logger.child({ component: name });
      // Past the deadline a service is still told to stop: most of a stop (timers, sockets) is
      // synchronous, and only what it cannot finish at once is given up on.
      const remaining = Math.max(0, deadline - this.#clock.now());
      const outcome = await this.#withDeadline(
        Promise.resolve().then(() => service.stop()),
        remaining,
      );
      if (outcome === "timeout") {
        timedOut.push(name);
        logger.error({ deadlineMs }, "did not stop before the deadline");
      } else if (outcome instanceof Error) {
        failed.push(name);
        logger.error({ err: outcome }, "failed to stop cleanly");
      } else {
        logger.info("stopped");
      }
    }
    return { timedOut, failed };
  }

  async #withDeadline(work: Promise<void>, ms: number): Promise<"done" | "timeout" | Error> {
    let timer: ReturnType<Clock["setTimeout"]> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = this.#clock.setTimeout(() => resolve("timeout"), ms);
    });
    try {
      return await Promise.race([work.then(() => "done" as const), timeout]);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /**
   * Applies a new config: restarts the services built from changed keys (and their dependents) and
   * returns their names. Keys no service claims are returned as unclaimed for the caller to judge.
   */
  async reload(
    next: Config,
    changedKeys: readonly string[],
  ): Promise<{ restarted: string[]; unclaimed: string[] }> {
    const affected = new Set<string>();
    for (const spec of this.#order) {
      // Only what runs now or will run after the reload can need a restart.
      const relevant = this.#running.has(spec.name) || !spec.enabled || spec.enabled(next);
      const dependsOnAffected = (spec.dependsOn ?? []).some((name) => affected.has(name));
      if (relevant && (changedBy(spec, changedKeys) || dependsOnAffected)) affected.add(spec.name);
    }
    const unclaimed = changedKeys.filter((key) => !this.#order.some((spec) => changedBy(spec, [key])));
    const stopNames = this.#order
      .filter((spec) => affected.has(spec.name))
      .map((spec) => spec.name)
      .reverse();
    await this.#stopSome(stopNames, next.daemon.stopTimeoutMs);
    this.#config = next;
    for (const spec of this.#order) if (affected.has(spec.name)) await this.#startOne(spec, next);
    return { restarted: [...affected], unclaimed };
  }

  health(): HealthReport {
    const services: Record<string, ServiceHealth> = {};
    for (const [name, service] of this.#running) services[name] = service.health();
    const expected = this.#order.filter(
      (spec) => !spec.enabled || (this.#config && spec.enabled(this.#config)),
    );
    for (const spec of expected) services[spec.name] ??= { healthy: false, detail: "not running" };
    return { healthy: Object.values(services).every((health) => health.healthy), services };
  }

  statusPhrases(): string[] {
    return this.running.flatMap((name) => this.#running.get(name)?.status?.() ?? []);
  }
}
