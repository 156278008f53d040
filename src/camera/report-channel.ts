import type { Logger } from "pino";
import { toReport } from "./convert.js";
import type { CameraEvent, Report } from "./domain.js";
import type { FrameConnection } from "./transport/frame-connection.js";
import { f, read } from "./wire/fields.js";
import { MessageType } from "./wire/messages.js";
import type { Frame } from "./wire/types.js";

export interface ReportStreamConfig {
  readonly inspection: number;
  readonly lossless: boolean;
  readonly window: number;
  readonly maxRate: number;
  readonly images: boolean;
}

export interface ReportChannelContext {
  readonly cameraId: string;
  /** With no position yet (first contact): recover what the part queue holds, or start live. */
  readonly firstContact: "recover" | "live";
  readonly logger: Logger;
  readonly emit: (event: CameraEvent) => void;
  /** Resolves when every consumer that must keep a lossless report has it durably. */
  readonly keep: (report: Report) => Promise<void>;
  /** Called when a report cannot be kept: the session drops, so that the camera keeps it queued. */
  readonly fail: (error: Error) => void;
}

interface Position {
  readonly bootTime: number;
  readonly cycle: number;
}

/**
 * One report stream of one inspection. Lossless reports are acknowledged to the camera only once
 * kept, cumulatively and in order, so a slow consumer fills the camera's window and the camera
 * waits: memory stays bounded by the window. After a reconnect, cycles missed meanwhile come from
 * the part queue as recovered, and what the queue no longer holds is reported as a gap.
 */
export class ReportChannel {
  readonly config: ReportStreamConfig;
  readonly #context: ReportChannelContext;
  /** Last cycle handed to consumers; survives reconnects, so recovery knows where to resume. */
  #last: Position | undefined;
  #conn: FrameConnection | undefined;
  #connectionId = "";
  #origin = { serial: "", bootTime: 0 };
  /** Live reports held while recovery runs (bounded by the window for lossless streams). */
  #held: Report[] | undefined;
  /** Kept-state of lossless reports in cycle order, for cumulative acknowledgement. */
  #inFlight: { cycle: number; kept: boolean }[] = [];

  constructor(config: ReportStreamConfig, context: ReportChannelContext) {
    this.config = config;
    this.#context = context;
  }

  /** Resumes from a position kept elsewhere (a journal, across daemon restarts). */
  resumeFrom(position: Position | undefined): void {
    this.#last = position;
  }

  /** The last cycle handed to consumers, to resume a later session of the same camera from. */
  get position(): Position | undefined {
    return this.#last;
  }

  /** Opens the stream on an attached reports connection; recovers through the queue connection. */
  async open(
    conn: FrameConnection,
    queue: FrameConnection,
    origin: { serial: string; bootTime: number },
  ): Promise<void> {
    this.#conn = conn;
    this.#origin = origin;
    this.#inFlight = [];
    this.#held = [];
    const { inspection, lossless, window, maxRate, images } = this.config;
    const fields = [f.int("inspection", inspection), f.bool("lossless", lossless), f.bool("images", images)];
    fields.push(lossless ? f.int("window", window) : f.float("maxRate", maxRate));
    const opened = read((await conn.request(MessageType.REPORT_OPEN, fields)).fields);
    this.#connectionId = opened.text("connection");
    await this.#recover(queue);
    const held = this.#held;
    this.#held = undefined;
    const after = this.#last;
    for (const report of held) {
      if (after && after.bootTime === report.bootTime && report.cycle <= after.cycle)
        this.#ackDuplicate(report);
      else this.#deliver(report);
    }
  }

  get connectionId(): string {
    return this.#connectionId;
  }

  /** A REPORT event from the camera. */
  onFrame(frame: Frame): void {
    if (frame.type !== MessageType.REPORT) return;
    const report = toReport(read(frame.fields), {
      cameraId: this.#context.cameraId,
      ...this.#origin,
      lossless: this.config.lossless,
      recovered: false,
    });
    if (this.#held) this.#held.push(report);
    else this.#deliver(report);
  }

  #deliver(report: Report): void {
    this.#gapBefore(report);
    this.#last = { bootTime: report.bootTime, cycle: report.cycle };
    this.#context.emit({ type: "report", report });
    if (!this.config.lossless) return;
    const entry = { cycle: report.cycle, kept: false };
    this.#inFlight.push(entry);
    const conn = this.#conn;
    this.#context.keep(report).then(
      () => {
        entry.kept = true;
        if (conn === this.#conn) this.#ackKept();
      },
      (error: unknown) => this.#context.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** A live report already delivered from the queue: acknowledge it so that the window moves. */
  #ackDuplicate(report: Report): void {
    if (!this.config.lossless) return;
    this.#inFlight.push({ cycle: report.cycle, kept: true });
    this.#ackKept();
  }

  #ackKept(): void {
    let cycle: number | undefined;
    while (this.#inFlight[0]?.kept) cycle = this.#inFlight.shift()?.cycle;
    if (cycle === undefined || !this.#conn) return;
    this.#conn.write({
      type: MessageType.REPORT_ACK,
      flags: 0,
      seq: 0,
      fields: [f.text("connection", this.#connectionId), f.int("cycle", cycle)],
    });
  }

  #gapBefore(report: Report): void {
    const last = this.#last;
    const { cameraId, emit } = this.#context;
    const inspection = this.config.inspection;
    if (!last || !this.config.lossless) return;
    if (last.bootTime !== report.bootTime) {
      emit({
        type: "gap",
        cameraId,
        inspection,
        fromCycle: last.cycle + 1,
        toCycle: undefined,
        bootTime: last.bootTime,
        reason: "camera restarted; cycles after the last one received are unknown",
      });
      if (report.cycle > 1)
        emit({
          type: "gap",
          cameraId,
          inspection,
          fromCycle: 1,
          toCycle: report.cycle - 1,
          bootTime: report.bootTime,
          reason: "not in the camera's part queue",
        });
    } else if (report.cycle > last.cycle + 1) {
      emit({
        type: "gap",
        cameraId,
        inspection,
        fromCycle: last.cycle + 1,
        toCycle: report.cycle - 1,
        bootTime: report.bootTime,
        reason: "not in the camera's part queue",
      });
    }
  }

  async #recover(queue: FrameConnection): Promise<void> {
    const last = this.#last;
    if (!this.config.lossless) return;
    if (!last && this.#context.firstContact === "live") {
      this.#context.logger.info(
        { inspection: this.config.inspection, firstContact: "live" },
        "first contact: the record starts with the first live report; the part queue is not read",
      );
      return;
    }
    const inspection = this.config.inspection;
    const info = read(
      (await queue.request(MessageType.QUEUE_INFO, [f.int("inspection", inspection)])).fields,
    );
    if (!last)
      this.#context.logger.info(
        { inspection, firstContact: "recover", queued: info.bool("enabled") ? info.int("count") : 0 },
        "first contact: what the part queue holds is recovered; the record starts with its oldest report",
      );
    if (!info.bool("enabled") || info.int("count") === 0) return;
    const answer = await queue.request(MessageType.QUEUE_READ, [
      f.int("inspection", inspection),
      f.int("from", 0),
      f.int("count", info.int("count")),
    ]);
    const origin = { cameraId: this.#context.cameraId, ...this.#origin, lossless: true, recovered: true };
    const sameBoot = last?.bootTime === this.#origin.bootTime;
    for (const item of read(answer.fields).list("reports")) {
      if (item.kind !== "RECORD") continue;
      const report = toReport(read(item.value), origin);
      if (sameBoot && report.cycle <= (this.#last?.cycle ?? 0)) continue;
      this.#gapBefore(report);
      this.#last = { bootTime: report.bootTime, cycle: report.cycle };
      this.#context.emit({ type: "report", report });
      // Recovered reports are not acknowledged (the queue is not a window); keepers still keep them.
      this.#context
        .keep(report)
        .catch((error: unknown) =>
          this.#context.fail(error instanceof Error ? error : new Error(String(error))),
        );
    }
  }

  /** The connection went away: nothing more is acknowledged on it. */
  detach(): void {
    this.#conn = undefined;
    this.#held = undefined;
    this.#inFlight = [];
  }
}
