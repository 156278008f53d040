import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { Gauge } from "prom-client";
import type { TimerHandle } from "../lib/clock.js";
import type { Service, ServiceContext, ServiceHealth, ServiceSpec } from "./service.js";

/** The event loop's delay as a window measured it, in ms: what `sample` returns for the last window. */
export type DelaySampler = () => number;

/** node's own histogram of event-loop delay, read and reset once a window: its p99, in ms. */
function histogramSampler(): { sample: DelaySampler; stop: () => void } {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    sample: () => {
      const p99 = histogram.percentile(99) / 1e6;
      histogram.reset();
      return Number.isFinite(p99) ? p99 : 0;
    },
    stop: () => histogram.disable(),
  };
}

/**
 * Whether the daemon keeps up: the event loop's p99 delay over each window. Past the threshold
 * the daemon is overloaded (lossless windows then push back on the cameras, nothing is lost, but
 * everything is late): /healthz and the systemd status say so with the lag, and so does the log,
 * once on entering and once on leaving.
 */
export class LoadService implements Service {
  readonly #context: ServiceContext;
  readonly #given: DelaySampler | undefined;
  #timer: TimerHandle | undefined;
  #stopSampler: (() => void) | undefined;
  #sample: DelaySampler | undefined;
  #lagMs = 0;
  #thresholdMs = 0;
  #overloaded = false;

  constructor(context: ServiceContext, sampler?: DelaySampler) {
    this.#context = context;
    this.#given = sampler;
    const service = this;
    new Gauge({
      name: "smartcam_event_loop_delay_p99_seconds",
      help: "the event loop's p99 delay over the last daemon.overload.windowMs",
      registers: [context.metrics],
      collect() {
        this.set(service.#lagMs / 1_000);
      },
    });
    new Gauge({
      name: "smartcam_overloaded",
      help: "1 while the event loop's p99 delay is past daemon.overload.lagMs",
      registers: [context.metrics],
      collect() {
        this.set(service.#overloaded ? 1 : 0);
      },
    });
  }

  async start(): Promise<void> {
    const sampler = this.#given ? { sample: this.#given, stop: () => undefined } : histogramSampler();
    this.#sample = sampler.sample;
    this.#stopSampler = sampler.stop;
    const { windowMs, lagMs } = this.#context.config.daemon.overload;
    this.#thresholdMs = lagMs;
    this.#timer = this.#context.clock.setInterval(() => this.#measure(), windowMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #measure(): void {
    const lagMs = this.#thresholdMs;
    this.#lagMs = this.#sample?.() ?? 0;
    const overloaded = this.#lagMs > lagMs;
    if (overloaded === this.#overloaded) return;
    this.#overloaded = overloaded;
    const lag = Math.round(this.#lagMs);
    if (overloaded)
      this.#context.logger.warn(
        { lagMs: lag, thresholdMs: lagMs },
        "overloaded: the event loop is late; lossless cameras are held back, lossy reports may be skipped",
      );
    else this.#context.logger.info({ lagMs: lag }, "no longer overloaded");
    this.#context.statusChanged();
  }

  async stop(): Promise<void> {
    this.#context.clock.clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopSampler?.();
    this.#context.metrics.removeSingleMetric("smartcam_event_loop_delay_p99_seconds");
    this.#context.metrics.removeSingleMetric("smartcam_overloaded");
  }

  health(): ServiceHealth {
    const lag = Math.round(this.#lagMs);
    return {
      healthy: true,
      detail: this.#overloaded
        ? `overloaded: event loop p99 delay ${lag} ms`
        : `event loop p99 delay ${lag} ms`,
    };
  }

  status(): string | undefined {
    return this.#overloaded ? `overloaded (event loop lag ${Math.round(this.#lagMs)} ms)` : undefined;
  }
}

export const loadServiceSpec: ServiceSpec = {
  name: "load",
  configKeys: ["daemon.overload"],
  create: (context) => new LoadService(context),
};
