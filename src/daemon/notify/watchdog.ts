import type { Clock, TimerHandle } from "../../lib/clock.js";
import type { Logger } from "../logger.js";
import type { Notifier } from "./sd-notify.js";

export interface WatchdogOptions {
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pid?: number;
}

/** The ping interval systemd asks for (half of WATCHDOG_USEC), or undefined when it asks for none. */
export function watchdogIntervalMs(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2_000));
}

/**
 * Sends WATCHDOG=1 from a timer on the event loop: a loop that is blocked cannot run the timer, so
 * the pings stop and systemd restarts the daemon, which is exactly what a hung daemon needs.
 */
export class Watchdog {
  readonly #options: WatchdogOptions;
  #timer: TimerHandle | undefined;
  #last = 0;

  constructor(options: WatchdogOptions) {
    this.#options = options;
  }

  start(): void {
    const { notifier, clock, env, logger } = this.#options;
    const interval = watchdogIntervalMs(env, this.#options.pid ?? process.pid);
    if (!notifier.enabled || interval === undefined) return;
    this.#last = clock.now();
    notifier.send({ WATCHDOG: "1" });
    this.#timer = clock.setInterval(() => {
      const now = clock.now();
      const late = now - this.#last - interval;
      if (late > interval) logger.warn({ lateMs: late }, "event loop was blocked; watchdog pings were late");
      this.#last = now;
      notifier.send({ WATCHDOG: "1" });
    }, interval);
    logger.debug({ intervalMs: interval }, "systemd watchdog pings started");
  }

  stop(): void {
    this.#options.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
