import type { ReportPayload } from "../../src/bridges/mqtt/payloads.js";
import type { SimulatedCamera } from "../../src/camera/simulator/camera.js";

/** What the simulator produced in one boot: cycles 1 to lastCycle. */
export interface Production {
  readonly bootTime: number;
  readonly lastCycle: number;
}

export interface GapNotice {
  readonly fromCycle: number;
  readonly toCycle: number | null;
  readonly bootTime: string;
  readonly reason: string;
}

export interface Accounting {
  readonly produced: number;
  readonly delivered: number;
  readonly recovered: number;
  readonly inGaps: number;
  /** "boot#cycle" of every cycle neither received nor in a gap event. */
  readonly missing: string[];
  readonly duplicates: number;
  readonly replayed: number;
  readonly gapEvents: number;
  /** Received reports that belong to no boot the simulator had. */
  readonly strays: number;
}

/** The simulator's own record of its boots; read it in the same turn as a restart, and at the end. */
export class ProductionLedger {
  readonly #camera: Pick<SimulatedCamera, "bootTime" | "inspections">;
  readonly #boots = new Map<number, number>();

  constructor(camera: Pick<SimulatedCamera, "bootTime" | "inspections">) {
    this.#camera = camera;
  }

  mark(): void {
    this.#boots.set(this.#camera.bootTime, this.#camera.inspections[0]?.cycle ?? 0);
  }

  get boots(): Production[] {
    return [...this.#boots].map(([bootTime, lastCycle]) => ({ bootTime, lastCycle }));
  }
}

/** The boot time a report id carries: serial-boot36-inspection-cycle (the serial may hold dashes). */
export function bootOf(id: string): number {
  return Number.parseInt(id.split("-").at(-3) ?? "", 36);
}

/**
 * Accounts for every cycle the simulator produced from `firstCycle` of its first boot (earlier ones
 * were never offered: no report stream was open) and from 1 of every later boot: delivered live,
 * recovered from the part queue, or covered by a gap event. The daemon's boot time comes from the
 * camera's uptime and may differ from the simulator's by a few milliseconds.
 */
export function account(
  production: readonly Production[],
  reports: readonly ReportPayload[],
  gaps: readonly GapNotice[],
  firstCycle: number,
): Accounting {
  // The nearest boot: a restart may follow the previous boot by well under a second.
  const bootIndex = (time: number) => {
    let best = -1;
    production.forEach((p, i) => {
      const off = Math.abs(p.bootTime - time);
      if (off < 2_000 && (best < 0 || off < Math.abs((production[best] as Production).bootTime - time)))
        best = i;
    });
    return best;
  };
  const seen = production.map(() => new Map<number, ReportPayload>());
  let duplicates = 0;
  let strays = 0;
  for (const report of reports) {
    const byCycle = seen[bootIndex(bootOf(report.id))];
    if (!byCycle) strays++;
    else if (byCycle.has(report.cycle)) duplicates++;
    else byCycle.set(report.cycle, report);
  }
  const covered = production.map(() => [] as [number, number][]);
  for (const gap of gaps)
    covered[bootIndex(Date.parse(gap.bootTime))]?.push([gap.fromCycle, gap.toCycle ?? Infinity]);

  let produced = 0;
  let delivered = 0;
  let recovered = 0;
  let inGaps = 0;
  const missing: string[] = [];
  production.forEach((boot, i) => {
    for (let cycle = i === 0 ? firstCycle : 1; cycle <= boot.lastCycle; cycle++) {
      produced++;
      const report = seen[i]?.get(cycle);
      if (report?.recovered) recovered++;
      else if (report) delivered++;
      else if (covered[i]?.some(([from, to]) => cycle >= from && cycle <= to)) inGaps++;
      else missing.push(`${i}#${cycle}`);
    }
  });
  return {
    produced,
    delivered,
    recovered,
    inGaps,
    missing,
    duplicates,
    replayed: reports.filter((r) => r.replayed).length,
    gapEvents: gaps.length,
    strays,
  };
}

export function describeAccounting(label: string, boots: number, a: Accounting): string {
  return (
    `[accounting] ${label}: produced ${a.produced} over ${boots} boot(s): delivered ${a.delivered}, ` +
    `recovered ${a.recovered}, in gap events ${a.inGaps} (${a.gapEvents} events), missing ${a.missing.length}` +
    `; ${a.duplicates} QoS 1 duplicates, ${a.replayed} replayed, ${a.strays} strays`
  );
}
