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

/** One Server-Sent Event. */
function frame(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

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
    if (this.#frames.length < MAX_PENDING_FRAMES) this.#frames.push(frame(type, data));
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
        this.#frames.push(frame("reports", { camera, reports: shown, history: view.history }));
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
    if (event.type === "online" || event.type === "offline" || event.type === "state") {
      this.broadcast("camera", this.#view(event.state));
      return;
    }
    if (event.type === "discovered" || event.type === "changed" || event.type === "lost") return;
    const camera = event.type === "report" ? event.report.cameraId : event.cameraId;
    const view = this.#views.get(camera);
    if (!view) return;
    switch (event.type) {
      case "report": {
        this.#count(view, event.report);
        const fresh = this.#fresh.get(camera);
        if (fresh) push(fresh, event.report);
        else this.#fresh.set(camera, [event.report]);
        this.#scheduleFlush();
        return;
      }
      case "gap": {
        const { inspection, fromCycle, toCycle, reason } = event;
        const gap = { inspection, fromCycle, toCycle: toCycle ?? null, reason, time: this.#clock.now() };
        push(view.gaps, gap);
        this.broadcast("gap", { camera, gap });
        return;
      }
      case "serial": {
        const { port, output, raw, error, time } = event;
        const line = {
          port,
          output,
          raw,
          fields: event.fields ?? null,
          ...(error === undefined ? {} : { error }),
          time,
        };
        push(view.serial, line);
        this.broadcast("serial", { camera, line });
        return;
      }
      case "io": {
        const point = {
          value: event.value,
          time: event.time,
          kind: event.kind ?? view.io[event.point]?.kind,
        };
        view.io[event.point] = point;
        this.broadcast("io", { camera, point: event.point, ...point });
        return;
      }
      case "image": {
        this.#images.set(camera, event.image);
        const { format, width, height } = event.image;
        view.image = { format, width, height, time: event.image.time ?? this.#clock.now() };
        this.broadcast("image", { camera, image: view.image });
        return;
      }
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
    this.#write(client, frame(type, data));
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
