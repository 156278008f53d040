import type { ServerResponse } from "node:http";
import {
  type CameraEvent,
  type CameraImage,
  type CameraState,
  type DatumJson,
  datumToJson,
  type Report,
} from "../camera/index.js";
import type { Clock, TimerHandle } from "../lib/clock.js";

/** What a page is sent of each camera, and keeps: every list is bounded, so a shift-long page is too. */
export interface CameraView {
  state: CameraState;
  /** When availability last changed (ms since the epoch). */
  since: number;
  io: Record<string, { value: boolean; time: number; kind?: string | undefined }>;
  reports: ReportView[];
  gaps: { inspection: number; fromCycle: number; toCycle: number | null; reason: string; time: number }[];
  serial: { port: number; output: string; raw: string; fields: unknown; error?: string; time: number }[];
  /** Passed and failed counts per minute, oldest first, the newest minute last. */
  history: { minute: number; passed: number; failed: number }[];
  image?: { format: string; width: number; height: number; time: number } | undefined;
}

export interface ReportView {
  id: string;
  inspection: number;
  cycle: number;
  time: number;
  passed: boolean;
  recovered: boolean;
  results: Record<string, DatumJson>;
}

const KEEP = 20;
const HISTORY_MINUTES = 10;
/** A report's datums shown at most: a page is a glance, the full record is on MQTT. */
const MAX_DATUMS = 40;
/** A client this far behind is cut off; its page reconnects and starts again from a snapshot. */
const MAX_BUFFERED = 1024 * 1024;
const PING_MS = 15_000;
/**
 * Pages get what changed at most this often, in one write each: the report path pays a push per
 * report, not a write per page, however fast reports come.
 */
const FLUSH_MS = 250;
/** More frames than this waiting for one flush: the pages are told to start again from a snapshot. */
const MAX_PENDING_FRAMES = 2_000;

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > KEEP) list.splice(0, list.length - KEEP);
}

export function reportView(report: Report): ReportView {
  const results: Record<string, DatumJson> = {};
  let n = 0;
  for (const path in report.results) {
    if (n++ >= MAX_DATUMS) break;
    results[path] = datumToJson(report.results[path] as never);
  }
  const { id, inspection, cycle, time, passed, recovered } = report;
  return { id, inspection, cycle, time, passed, recovered, results };
}

/**
 * The console's live picture of the cameras, kept from the hub's events, and the pages that
 * watch it over Server-Sent Events: each gets a snapshot when it connects, then every change.
 */
export class ConsoleFeed {
  readonly #clock: Clock;
  readonly #views = new Map<string, CameraView>();
  readonly #images = new Map<string, CameraImage>();
  readonly #clients = new Set<ServerResponse>();
  /** Reports since the last flush, per camera, the newest KEEP of them. */
  readonly #fresh = new Map<string, Report[]>();
  #frames: string[] = [];
  #flushTimer: TimerHandle | undefined;
  #ping: TimerHandle | undefined;
  /** Pages cut off for falling behind. */
  cutOff = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get clients(): number {
    return this.#clients.size;
  }

  start(cameras: readonly CameraState[]): void {
    for (const state of cameras) this.#view(state);
    const ping = () => {
      for (const client of this.#clients) client.write(": ping\n\n");
      this.#ping = this.#clock.setTimeout(ping, PING_MS);
    };
    this.#ping = this.#clock.setTimeout(ping, PING_MS);
  }

  stop(): void {
    this.#clock.clearTimeout(this.#ping);
    this.#ping = undefined;
    this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  views(): CameraView[] {
    return [...this.#views.values()];
  }

  image(camera: string): CameraImage | undefined {
    return this.#images.get(camera);
  }

  /** Takes a page's event stream; `snapshot` is its first event. */
  attach(response: ServerResponse, snapshot: unknown): void {
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    this.#clients.add(response);
    response.on("close", () => this.#clients.delete(response));
    this.#send(response, "snapshot", snapshot);
  }

  /** Queues an event for every page, sent with the next flush. */
  broadcast(type: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    if (this.#frames.length < MAX_PENDING_FRAMES)
      this.#frames.push(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    else if (this.#frames.length === MAX_PENDING_FRAMES) this.#frames.push("event: reload\ndata: {}\n\n");
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, FLUSH_MS);
  }

  #flush(): void {
    for (const [camera, reports] of this.#fresh) {
      const view = this.#views.get(camera);
      if (!view) continue;
      const shown = reports.map(reportView);
      for (const report of shown) push(view.reports, report);
      if (this.#clients.size > 0 && this.#frames.length < MAX_PENDING_FRAMES)
        this.#frames.push(
          `event: reports\ndata: ${JSON.stringify({ camera, reports: shown, history: view.history })}\n\n`,
        );
    }
    this.#fresh.clear();
    const frames = this.#frames;
    this.#frames = [];
    if (frames.length === 0) return;
    // A reload drops what was queued before it: the page starts again from a snapshot anyway.
    const reload = frames.at(-1)?.startsWith("event: reload") ? frames.at(-1) : undefined;
    const text = reload ?? frames.join("");
    for (const client of this.#clients) this.#write(client, text);
  }

  readonly onEvent = (event: CameraEvent): void => {
    switch (event.type) {
      case "online":
      case "offline":
      case "state": {
        const view = this.#view(event.state);
        this.broadcast("camera", view);
        return;
      }
      case "report": {
        const view = this.#views.get(event.report.cameraId);
        if (!view) return;
        this.#count(view, event.report);
        const fresh = this.#fresh.get(view.state.id);
        if (fresh) push(fresh, event.report);
        else this.#fresh.set(view.state.id, [event.report]);
        this.#scheduleFlush();
        return;
      }
      case "gap": {
        const view = this.#views.get(event.cameraId);
        if (!view) return;
        const gap = {
          inspection: event.inspection,
          fromCycle: event.fromCycle,
          toCycle: event.toCycle ?? null,
          reason: event.reason,
          time: this.#clock.now(),
        };
        push(view.gaps, gap);
        this.broadcast("gap", { camera: view.state.id, gap });
        return;
      }
      case "serial": {
        const view = this.#views.get(event.cameraId);
        if (!view) return;
        const line = {
          port: event.port,
          output: event.output,
          raw: event.raw,
          fields: event.fields ?? null,
          ...(event.error === undefined ? {} : { error: event.error }),
          time: event.time,
        };
        push(view.serial, line);
        this.broadcast("serial", { camera: view.state.id, line });
        return;
      }
      case "io": {
        const view = this.#views.get(event.cameraId);
        if (!view) return;
        const point = {
          value: event.value,
          time: event.time,
          kind: event.kind ?? view.io[event.point]?.kind,
        };
        view.io[event.point] = point;
        this.broadcast("io", { camera: view.state.id, point: event.point, ...point });
        return;
      }
      case "image": {
        const view = this.#views.get(event.cameraId);
        if (!view) return;
        this.#images.set(event.cameraId, event.image);
        const { format, width, height } = event.image;
        view.image = { format, width, height, time: event.image.time ?? this.#clock.now() };
        this.broadcast("image", { camera: view.state.id, image: view.image });
        return;
      }
      default:
        return;
    }
  };

  #view(state: CameraState): CameraView {
    const known = this.#views.get(state.id);
    if (known) {
      if (known.state.availability !== state.availability) known.since = this.#clock.now();
      known.state = state;
      return known;
    }
    const view: CameraView = {
      state,
      since: this.#clock.now(),
      io: {},
      reports: [],
      gaps: [],
      serial: [],
      history: [],
    };
    this.#views.set(state.id, view);
    return view;
  }

  #count(view: CameraView, report: Report): void {
    const minute = Math.floor(this.#clock.now() / 60_000);
    let last = view.history.at(-1);
    if (!last || last.minute !== minute) {
      last = { minute, passed: 0, failed: 0 };
      view.history.push(last);
      while (view.history.length > HISTORY_MINUTES) view.history.shift();
    }
    if (report.passed) last.passed++;
    else last.failed++;
  }

  #send(client: ServerResponse, type: string, data: unknown): void {
    this.#write(client, `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #write(client: ServerResponse, frame: string): void {
    if (client.writableLength > MAX_BUFFERED) {
      this.cutOff++;
      this.#clients.delete(client);
      client.destroy();
      return;
    }
    client.write(frame);
  }
}
