import { toImage, toReport } from "./convert.js";
import {
  CONTROL_COMMANDS,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type IoPoint,
} from "./domain.js";
import { CameraError } from "./errors.js";
import type { CameraSession } from "./session.js";
import { type FieldReader, f, read } from "./wire/fields.js";
import { MessageType } from "./wire/messages.js";
import type { Field, Value } from "./wire/types.js";

type Handler<N extends CommandName> = (
  session: CameraSession,
  args: CommandArgs<N>,
) => Promise<CommandResult<N>>;

async function call(session: CameraSession, method: string, args: Field[] = []): Promise<FieldReader> {
  const fields = [f.text("method", method)];
  if (args.length > 0) fields.push(f.record("args", args));
  const response = await session.service("rpc").request(MessageType.CALL, fields);
  return read(response.fields).record("result");
}

const empty = {} as Record<string, never>;

/** For commands whose answer carries nothing: waits for it, then returns the empty result. */
async function done(request: Promise<unknown>): Promise<Record<string, never>> {
  await request;
  return empty;
}

function streamId(session: CameraSession, inspection: number): string {
  const channel = session.channels.find((c) => c.config.inspection === inspection && c.connectionId);
  if (!channel) throw new CameraError("NOT_FOUND", `no report stream open for inspection ${inspection}`);
  return channel.connectionId;
}

/** A report-control request about the stream open for an inspection. */
function onStream(session: CameraSession, type: number, inspection: number, fields: Field[]) {
  return session
    .service("reportControl")
    .request(type, [f.text("connection", streamId(session, inspection)), ...fields]);
}

function queueReports(session: CameraSession, items: readonly Value[]) {
  const { state } = session;
  const origin = {
    cameraId: state.id,
    serial: state.serial ?? state.id,
    bootTime: state.bootTime ?? 0,
    lossless: true,
    recovered: true,
  };
  return items.flatMap((item) => (item.kind === "RECORD" ? [toReport(read(item.value), origin)] : []));
}

const HANDLERS: { [N in CommandName]: Handler<N> } = {
  status: async (s) => {
    const r = await call(s, "status");
    return {
      status: r.text("status"),
      job: r.text("job"),
      slot: r.int("slot"),
      inspections: r.int("inspections"),
      passed: r.int("passed"),
      failed: r.int("failed"),
    };
  },
  start: (s) => done(call(s, "start")),
  stop: (s) => done(call(s, "stop")),
  trigger: async (s, a) => ({
    cycle: (
      await call(s, "trigger", a.inspection === undefined ? [] : [f.int("inspection", a.inspection)])
    ).int("cycle"),
  }),
  jobs: async (s) => ({
    jobs: (await call(s, "jobs"))
      .list("jobs")
      .flatMap((item) =>
        item.kind === "RECORD"
          ? [{ slot: read(item.value).int("slot"), name: read(item.value).text("name") }]
          : [],
      ),
  }),
  selectJob: (s, a) => done(call(s, "selectJob", [f.int("slot", a.slot)])),
  download: (s, a) => done(call(s, "download", [f.text("file", a.file)])),
  flash: (s) => done(call(s, "flash")),
  reboot: (s) => done(call(s, "reboot")),
  ioList: async (s) => {
    const response = await s.service("io").request(MessageType.IO_LIST, []);
    const points = read(response.fields)
      .list("points")
      .flatMap((item): IoPoint[] => {
        if (item.kind !== "RECORD") return [];
        const p = read(item.value);
        return [{ name: p.text("name"), kind: p.text("kind") as IoPoint["kind"], value: p.bool("value") }];
      });
    return { points };
  },
  ioRead: async (s, a) => ({
    value: read((await s.service("io").request(MessageType.IO_READ, [f.text("name", a.point)])).fields).bool(
      "value",
    ),
  }),
  ioWrite: (s, a) =>
    done(s.service("io").request(MessageType.IO_WRITE, [f.text("name", a.point), f.bool("value", a.value)])),
  ioPulse: (s, a) =>
    done(s.service("io").request(MessageType.IO_PULSE, [f.text("name", a.point), f.int("ms", a.ms)])),
  snap: async (s, a) => {
    const response = await s
      .service("acquire")
      .request(MessageType.SNAP, a.snapshot === undefined ? [] : [f.text("snapshot", a.snapshot)]);
    return { image: toImage(read(response.fields).required("image", "RECORD")) };
  },
  liveStart: (s, a) => done(s.service("acquire").request(MessageType.LIVE_START, [f.float("fps", a.fps)])),
  liveStop: (s) => done(s.service("acquire").request(MessageType.LIVE_STOP, [])),
  queueInfo: async (s, a) => {
    const r = read(
      (await s.service("queue").request(MessageType.QUEUE_INFO, [f.int("inspection", a.inspection)])).fields,
    );
    return { enabled: r.bool("enabled"), capacity: r.int("capacity"), count: r.int("count") };
  },
  queueRead: async (s, a) => {
    const fields = [f.int("inspection", a.inspection), f.int("from", a.from ?? 0), f.int("count", a.count)];
    return {
      reports: queueReports(
        s,
        read((await s.service("queue").request(MessageType.QUEUE_READ, fields)).fields).list("reports"),
      ),
    };
  },
  queueTake: async (s, a) => ({
    reports: queueReports(
      s,
      read(
        (await s.service("queue").request(MessageType.QUEUE_TAKE, [f.int("inspection", a.inspection)]))
          .fields,
      ).list("reports"),
    ),
  }),
  queueClear: (s, a) =>
    done(s.service("queue").request(MessageType.QUEUE_CLEAR, [f.int("inspection", a.inspection)])),
  reportRate: (s, a) =>
    done(onStream(s, MessageType.REPORT_RATE, a.inspection, [f.float("maxRate", a.maxRate)])),
  reportAdd: (s, a) => done(onStream(s, MessageType.REPORT_ADD, a.inspection, [f.text("path", a.path)])),
  reportRemove: (s, a) =>
    done(onStream(s, MessageType.REPORT_REMOVE, a.inspection, [f.text("path", a.path)])),
  reportRecords: async (s, a) => {
    const r = read((await onStream(s, MessageType.REPORT_RECORDS, a.inspection, [])).fields);
    return { records: r.list("records").flatMap((item) => (item.kind === "TEXT" ? [item.value] : [])) };
  },
  setNetwork: (s, a) => done(s.control.setNetwork(a)),
};

export interface CommandPolicy {
  readonly allowSetNetwork: boolean;
}

/**
 * Runs a command on a session. Commands that need control take it first when the camera's policy
 * is onDemand (and give it back after) or hold (and keep it).
 */
export async function runCommand<N extends CommandName>(
  session: CameraSession,
  name: N,
  args: CommandArgs<N>,
  policy: CommandPolicy,
): Promise<CommandResult<N>> {
  const handler = HANDLERS[name] as Handler<N> | undefined;
  if (!handler) throw new CameraError("NOT_ALLOWED", `unknown command ${String(name)}`);
  if (name === "setNetwork" && !policy.allowSetNetwork)
    throw new CameraError("NOT_ALLOWED", "setNetwork is off (cameras.allowSetNetwork)");
  if (name !== "setNetwork") session.service("rpc");
  const control = session.options.endpoint.control;
  if (!CONTROL_COMMANDS.has(name) || control === "never") return handler(session, args);
  if (control === "hold") {
    if (!session.state.inControl) await session.takeControl();
    return handler(session, args);
  }
  await session.takeControl();
  try {
    return await handler(session, args);
  } finally {
    if (name !== "reboot") await session.releaseControl().catch(() => undefined);
  }
}
