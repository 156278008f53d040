import type { FrameConnection } from "../transport/frame-connection.js";
import { f, read } from "../wire/fields.js";
import { MessageType } from "../wire/messages.js";
import type { Field, Frame, Value } from "../wire/types.js";
import type { SimConnection, SimulatedCamera } from "./camera.js";
import { DATUM_PATHS, makeImage, outputLine, reportFields } from "./model.js";
import { SimError } from "./sim-error.js";

export interface ReportStream {
  readonly id: string;
  readonly conn: FrameConnection;
  readonly inspection: number;
  readonly lossless: boolean;
  readonly window: number;
  maxRate: number;
  readonly images: boolean;
  readonly records: Set<string>;
  lastSent: number;
  acked: number;
  dropped: number;
  lastSentAt: number;
}

/**
 * The simulated camera's inspection loop and report streams: cycles on the timer's beat or on a
 * trigger, lossless windows that make the inspection wait, lossy rate limits that skip.
 */
export class SimReporting {
  readonly #camera: SimulatedCamera;
  readonly #triggers: number[] = [];
  readonly #setIo: (name: string, value: boolean) => void;
  #nextStream = 1;
  /** Cycles that could not run because a lossless window was full. */
  stalls = 0;

  constructor(camera: SimulatedCamera, setIo: (name: string, value: boolean) => void) {
    this.#camera = camera;
    this.#setIo = setIo;
  }

  /** Queues a triggered cycle; returns the cycle it will be. */
  trigger(id: number): number {
    const inspection = this.#camera.inspections[id];
    if (!inspection) throw new SimError("NOT_FOUND", "no such inspection");
    this.#triggers[id] = (this.#triggers[id] ?? 0) + 1;
    const cycle = inspection.cycle + (this.#triggers[id] ?? 0);
    queueMicrotask(() => this.#drainTriggers());
    return cycle;
  }

  open(conn: FrameConnection, fields: ReturnType<typeof read>): Field[] {
    const inspection = this.#camera.inspections[fields.int("inspection")];
    if (!inspection) throw new SimError("NOT_FOUND", "no such inspection");
    const stream: ReportStream = {
      id: `r${this.#nextStream++}`,
      conn,
      inspection: inspection.id,
      lossless: fields.bool("lossless"),
      window: Math.max(1, fields.optional("window", "INT") ?? 8),
      maxRate: fields.optional("maxRate", "FLOAT") ?? 0,
      images: fields.optional("images", "BOOL") ?? false,
      records: new Set(DATUM_PATHS),
      lastSent: inspection.cycle,
      acked: inspection.cycle,
      dropped: 0,
      lastSentAt: 0,
    };
    this.#camera.streams.set(stream.id, stream);
    return [
      f.text("connection", stream.id),
      f.list(
        "records",
        [...stream.records].map((r): Value => ({ kind: "TEXT", value: r })),
      ),
    ];
  }

  stream(state: SimConnection, id: string): ReportStream {
    const stream = this.#camera.streams.get(id);
    const owner = stream && this.#camera.connections.get(stream.conn)?.session;
    if (!stream || owner !== state.session) throw new SimError("NOT_FOUND", `no report connection ${id}`);
    return stream;
  }

  ack(frame: Frame): void {
    const fields = read(frame.fields);
    const stream = this.#camera.streams.get(fields.optional("connection", "TEXT") ?? "");
    const cycle = fields.optional("cycle", "INT");
    if (!stream || cycle === undefined) return;
    stream.acked = Math.max(stream.acked, Math.min(cycle, stream.lastSent));
    this.#drainTriggers();
  }

  /** The timer's beat: each running inspection tries one cycle. */
  tick(): void {
    if (this.#camera.frozen) return;
    if (this.#camera.status === "running")
      for (const inspection of this.#camera.inspections) this.#cycle(inspection.id);
    this.#drainTriggers();
  }

  #drainTriggers(): void {
    this.#triggers.forEach((pending, id) => {
      let left = pending;
      while (left > 0 && this.#cycle(id)) left--;
      this.#triggers[id] = left;
    });
  }

  /** Runs one cycle unless a lossless window is full; the inspection then waits. */
  #cycle(id: number): boolean {
    const cam = this.#camera;
    const inspection = cam.inspections[id];
    if (!inspection || cam.frozen) return false;
    const streams = [...cam.streams.values()].filter((s) => s.inspection === id);
    if (streams.some((s) => s.lossless && s.lastSent - s.acked >= s.window)) {
      this.stalls++;
      return false;
    }
    const now = cam.clock.now();
    const report = inspection.run(cam.random, now);
    for (const stream of streams) {
      if (!stream.lossless && stream.maxRate > 0 && now - stream.lastSentAt < 1_000 / stream.maxRate) {
        stream.dropped++;
        continue;
      }
      const images = stream.images
        ? [f.list("images", [{ kind: "RECORD", value: makeImage(report.cycle, now) }])]
        : [];
      const fields = [
        f.text("connection", stream.id),
        ...reportFields(report, stream.dropped, stream.records),
        ...images,
      ];
      cam.send(stream.conn, { type: MessageType.REPORT, flags: 0, seq: 0, fields });
      stream.lastSent = report.cycle;
      stream.lastSentAt = now;
    }
    cam.writeOutput(outputLine(report));
    this.#setIo("out0", !report.passed);
    if (report.cycle % 3 === 0) this.#setIo("in0", !cam.io.find((p) => p.name === "in0")?.value);
    return true;
  }

  connectionClosed(conn: FrameConnection): void {
    for (const [id, stream] of this.#camera.streams)
      if (stream.conn === conn) this.#camera.streams.delete(id);
  }
}
