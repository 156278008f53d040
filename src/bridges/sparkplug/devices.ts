import type { MetricDefinition } from "./device-metrics.js";
import type { Metric } from "./payload.js";

/**
 * What the edge node told the host of one camera: the metrics its last DBIRTH named, each under
 * an alias unique within the node. A metric that DBIRTH did not name needs a new DBIRTH, under new
 * aliases: a changed metric set is never sent under the old ones.
 */
export class Device {
  readonly id: string;
  /** Every metric ever known for the camera in this run, with its last value: the next DBIRTH names them all. */
  readonly known = new Map<string, MetricDefinition>();
  #aliases = new Map<string, number>();
  born = false;

  constructor(id: string) {
    this.id = id;
  }

  /** Remembers values (the definitions themselves: callers make them fresh); returns false when one of them needs a new DBIRTH first. */
  update(metrics: readonly MetricDefinition[]): boolean {
    let named = this.born;
    for (const metric of metrics) {
      const before = this.known.get(metric.name);
      if (before && before.datatype !== metric.datatype) named = false;
      if (!this.#aliases.has(metric.name)) named = false;
      this.known.set(metric.name, metric);
    }
    return named;
  }

  alias(name: string): number | undefined {
    return this.#aliases.get(name);
  }

  nameOf(alias: bigint): string | undefined {
    for (const [name, value] of this.#aliases) if (BigInt(value) === alias) return name;
    return undefined;
  }

  /** The DBIRTH's metrics, every one under a fresh alias from nextAlias. */
  birth(nextAlias: () => number): Metric[] {
    this.#aliases = new Map();
    const metrics: Metric[] = [];
    for (const definition of this.known.values()) {
      const alias = nextAlias();
      this.#aliases.set(definition.name, alias);
      metrics.push({
        name: definition.name,
        alias,
        timestamp: definition.timestamp,
        datatype: definition.datatype,
        value: definition.value,
      });
    }
    this.born = true;
    return metrics;
  }

  died(): void {
    this.born = false;
    this.#aliases = new Map();
  }
}
