import type { TimerHandle } from "../../lib/clock.js";
import type { FrameConnection } from "../transport/frame-connection.js";
import { f, read } from "../wire/fields.js";
import { MessageType } from "../wire/messages.js";
import type { Field, Frame, Value } from "../wire/types.js";
import type { ServicePort, SimConnection, SimulatedCamera } from "./camera.js";
import { DATUM_PATHS, JOBS, makeImage, reportFields, type SimReport } from "./model.js";
import { SimReporting } from "./reporting.js";
import { SimError } from "./sim-error.js";

const SERVED: Record<ServicePort, readonly number[]> = {
  io: [
    MessageType.IO_LIST,
    MessageType.IO_READ,
    MessageType.IO_WRITE,
    MessageType.IO_PULSE,
    MessageType.IO_SUBSCRIBE,
  ],
  acquire: [MessageType.SNAP, MessageType.LIVE_START, MessageType.LIVE_STOP],
  rpc: [MessageType.CALL],
  reports: [MessageType.REPORT_OPEN],
  queue: [MessageType.QUEUE_INFO, MessageType.QUEUE_READ, MessageType.QUEUE_TAKE, MessageType.QUEUE_CLEAR],
  reportControl: [
    MessageType.REPORT_RATE,
    MessageType.REPORT_ADD,
    MessageType.REPORT_REMOVE,
    MessageType.REPORT_RECORDS,
  ],
};

const NEEDS_CONTROL = new Set(["start", "stop", "selectJob", "download", "flash", "reboot"]);

/** What the simulated camera does for each request on its service ports, and its inspection loop. */
export class SimServices {
  readonly #camera: SimulatedCamera;
  readonly #subscriptions = new Map<FrameConnection, ReadonlySet<string> | "all">();
  readonly #live = new Map<FrameConnection, TimerHandle>();
  readonly #pulses = new Set<TimerHandle>();
  readonly reporting: SimReporting;

  constructor(camera: SimulatedCamera) {
    this.#camera = camera;
    this.reporting = new SimReporting(camera, (name, value) => this.setIo(name, value));
  }

  handle(state: SimConnection, conn: FrameConnection, frame: Frame): Field[] {
    if (!SERVED[state.port].includes(frame.type))
      throw new SimError("UNKNOWN_TYPE", `not served on the ${state.port} port`);
    const fields = read(frame.fields);
    const cam = this.#camera;
    switch (frame.type) {
      case MessageType.IO_LIST:
        return [
          f.list(
            "points",
            cam.io.map((p) => ({
              kind: "RECORD",
              value: [f.text("name", p.name), f.text("kind", p.kind), f.bool("value", p.value)],
            })),
          ),
        ];
      case MessageType.IO_READ:
        return [f.bool("value", this.#point(fields.text("name")).value)];
      case MessageType.IO_WRITE: {
        const point = this.#point(fields.text("name"));
        const value = fields.bool("value");
        if (point.kind === "input") throw new SimError("READ_ONLY", `${point.name} is an input`);
        this.setIo(point.name, value);
        return [];
      }
      case MessageType.IO_PULSE: {
        const point = this.#point(fields.text("name"));
        const ms = fields.int("ms");
        if (point.kind === "input") throw new SimError("READ_ONLY", `${point.name} is an input`);
        this.setIo(point.name, true);
        const timer = cam.clock.setTimeout(() => {
          this.#pulses.delete(timer);
          this.setIo(point.name, false);
        }, ms);
        this.#pulses.add(timer);
        return [];
      }
      case MessageType.IO_SUBSCRIBE: {
        const names = (fields.optional("names", "LIST") ?? []).flatMap((v) =>
          v.kind === "TEXT" ? [v.value] : [],
        );
        this.#subscriptions.set(conn, names.length === 0 ? "all" : new Set(names));
        return [];
      }
      case MessageType.SNAP:
        return [
          f.record(
            "image",
            makeImage(cam.inspections[0]?.cycle ?? 0, cam.clock.now(), fields.optional("snapshot", "TEXT")),
          ),
        ];
      case MessageType.LIVE_START: {
        const fps = fields.float("fps");
        if (!(fps > 0 && fps <= 60)) throw new SimError("BAD_REQUEST", "fps must be in (0, 60]");
        cam.cancel(this.#live.get(conn));
        let n = 0;
        this.#live.set(
          conn,
          cam.every(1_000 / fps, () =>
            cam.send(conn, {
              type: MessageType.LIVE_FRAME,
              flags: 0,
              seq: 0,
              fields: [f.record("image", makeImage(n++, cam.clock.now()))],
            }),
          ),
        );
        return [];
      }
      case MessageType.LIVE_STOP:
        cam.cancel(this.#live.get(conn));
        this.#live.delete(conn);
        return [];
      case MessageType.CALL:
        return this.#call(state, fields.text("method"), read(fields.optional("args", "RECORD") ?? []));
      case MessageType.REPORT_OPEN:
        return this.reporting.open(conn, fields);
      case MessageType.REPORT_RATE:
        this.reporting.stream(state, fields.text("connection")).maxRate = fields.float("maxRate");
        return [];
      case MessageType.REPORT_ADD: {
        const path = fields.text("path");
        if (!(DATUM_PATHS as readonly string[]).includes(path))
          throw new SimError("NOT_FOUND", `no datum ${path}`);
        this.reporting.stream(state, fields.text("connection")).records.add(path);
        return [];
      }
      case MessageType.REPORT_REMOVE:
        this.reporting.stream(state, fields.text("connection")).records.delete(fields.text("path"));
        return [];
      case MessageType.REPORT_RECORDS:
        return [
          f.list(
            "records",
            [...this.reporting.stream(state, fields.text("connection")).records].map(
              (r): Value => ({ kind: "TEXT", value: r }),
            ),
          ),
        ];
      default:
        return this.#queue(frame.type, fields);
    }
  }

  #queue(type: number, fields: ReturnType<typeof read>): Field[] {
    const inspection = this.#camera.inspections[fields.int("inspection")];
    if (!inspection) throw new SimError("NOT_FOUND", "no such inspection");
    const asList = (reports: readonly SimReport[]) =>
      f.list(
        "reports",
        reports.map((r): Value => ({ kind: "RECORD", value: reportFields(r, 0) })),
      );
    switch (type) {
      case MessageType.QUEUE_INFO:
        return [
          f.bool("enabled", inspection.queueEnabled),
          f.int("capacity", inspection.queueCapacity),
          f.int("count", inspection.queue.length),
        ];
      case MessageType.QUEUE_READ: {
        const from = fields.optional("from", "INT") ?? 0;
        return [asList(inspection.queue.slice(from, from + fields.int("count")))];
      }
      case MessageType.QUEUE_TAKE:
        return [asList(inspection.queue.splice(0))];
      default:
        inspection.queue.length = 0;
        return [];
    }
  }

  #call(state: SimConnection, method: string, args: ReturnType<typeof read>): Field[] {
    const cam = this.#camera;
    const known = ["status", "start", "stop", "trigger", "jobs", "selectJob", "download", "flash", "reboot"];
    if (!known.includes(method)) throw new SimError("UNKNOWN_METHOD", `no method ${method}`);
    if (NEEDS_CONTROL.has(method) && !cam.control.inControl(state.address))
      throw new SimError("NOT_IN_CONTROL", `${method} needs control`);
    const totals = cam.inspections.reduce((s, i) => ({ p: s.p + i.passedCount, f: s.f + i.failedCount }), {
      p: 0,
      f: 0,
    });
    const result = (fields: Field[]) => [f.record("result", fields)];
    switch (method) {
      case "status":
        return result([
          f.text("status", cam.status),
          f.text("job", cam.job),
          f.int("slot", cam.slot),
          f.int("inspections", totals.p + totals.f),
          f.int("passed", totals.p),
          f.int("failed", totals.f),
        ]);
      case "start":
      case "stop":
        cam.status = method === "start" ? "running" : "stopped";
        return result([]);
      case "trigger":
        return result([f.int("cycle", this.reporting.trigger(args.optional("inspection", "INT") ?? 0))]);
      case "jobs":
        return result([
          f.list(
            "jobs",
            JOBS.map(
              (j): Value => ({ kind: "RECORD", value: [f.int("slot", j.slot), f.text("name", j.name)] }),
            ),
          ),
        ]);
      case "selectJob": {
        const slot = args.int("slot");
        if (!JOBS.some((j) => j.slot === slot)) throw new SimError("NOT_FOUND", `no job in slot ${slot}`);
        cam.slot = slot;
        return result([]);
      }
      case "download":
        args.text("file");
        return result([]);
      case "flash":
        return result([]);
      default:
        queueMicrotask(() => cam.restart());
        return result([]);
    }
  }

  #point(name: string) {
    const point = this.#camera.io.find((p) => p.name === name);
    if (!point) throw new SimError("NOT_FOUND", `no IO point ${name}`);
    return point;
  }

  setIo(name: string, value: boolean): void {
    const point = this.#camera.io.find((p) => p.name === name);
    if (!point || point.value === value) return;
    point.value = value;
    const event = {
      type: MessageType.IO_CHANGE,
      flags: 0,
      seq: 0,
      fields: [f.text("name", name), f.bool("value", value), f.time("time", this.#camera.clock.now())],
    };
    for (const [conn, names] of this.#subscriptions)
      if (names === "all" || names.has(name)) this.#camera.send(conn, event);
  }

  connectionClosed(conn: FrameConnection): void {
    this.#subscriptions.delete(conn);
    this.#camera.cancel(this.#live.get(conn));
    this.#live.delete(conn);
    for (const [id, stream] of this.#camera.streams)
      if (stream.conn === conn) this.#camera.streams.delete(id);
  }

  stopAll(): void {
    for (const timer of this.#pulses) this.#camera.clock.clearTimeout(timer);
    this.#pulses.clear();
    for (const timer of this.#live.values()) this.#camera.cancel(timer);
    this.#live.clear();
  }
}
