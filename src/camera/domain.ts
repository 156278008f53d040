/**
 * The camera layer's surface: what bridges see. No wire types appear here, so a bridge never
 * depends on the codec.
 */

/** A datum's value with its type, as the camera reported it. */
export type Datum =
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "int"; readonly value: number }
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "text"; readonly value: string }
  | { readonly type: "bytes"; readonly value: Uint8Array }
  | { readonly type: "time"; readonly value: number }
  | { readonly type: "record"; readonly value: Readonly<Record<string, Datum>> }
  | { readonly type: "list"; readonly value: readonly Datum[] };

export interface CameraImage {
  readonly width: number;
  readonly height: number;
  readonly format: "mono8" | "rgb8" | "jpeg" | "png";
  readonly data: Uint8Array;
  readonly snapshot?: string | undefined;
  readonly time?: number | undefined;
}

export interface Announce {
  readonly name: string;
  readonly model: string;
  readonly serial: string;
  readonly mac: string;
  readonly ip: string;
  readonly inControl: string;
  readonly status: string;
  readonly job: string;
  readonly version: string;
  readonly uptimeMs: number;
  readonly inspections: number;
  readonly passed: number;
  readonly failed: number;
  readonly intervalMs: number;
}

export type Availability = "connecting" | "online" | "offline";

export interface CameraState {
  /** The configured id (alias) or, for an adopted camera, one made from its serial. */
  readonly id: string;
  readonly address: string;
  readonly serial?: string | undefined;
  readonly name?: string | undefined;
  readonly model?: string | undefined;
  readonly version?: string | undefined;
  readonly mac?: string | undefined;
  /** From the config: the profile carries no manufacturer. */
  readonly manufacturer?: string | undefined;
  readonly availability: Availability;
  readonly status: "running" | "stopped" | "error" | "unknown";
  readonly job: string;
  /** The loaded job's slot, as the camera's status last said; undefined until it has. */
  readonly slot?: number | undefined;
  readonly inControl: string;
  readonly counters: { readonly inspections: number; readonly passed: number; readonly failed: number };
  /** Camera clock minus uptime: identifies the camera's current boot. */
  readonly bootTime?: number | undefined;
  readonly lastSeen?: number | undefined;
}

export interface IoPoint {
  readonly name: string;
  readonly kind: "input" | "output" | "virtual";
  readonly value: boolean;
}

export interface ReportStats {
  readonly cycleTimeMs: number;
  readonly processTimeMs: number;
  readonly passedCount: number;
  readonly failedCount: number;
  readonly dropped: number;
}

export interface Report {
  readonly cameraId: string;
  /** serial, boot, inspection and cycle: unique over the camera's life and across daemon restarts. */
  readonly id: string;
  readonly serial: string;
  readonly bootTime: number;
  readonly inspection: number;
  readonly cycle: number;
  readonly time: number;
  readonly passed: boolean;
  readonly stats: ReportStats;
  readonly results: Readonly<Record<string, Datum>>;
  readonly images: readonly CameraImage[];
  readonly lossless: boolean;
  /** Fetched from the camera's part queue after a reconnect, not received live. */
  readonly recovered: boolean;
}

export type CameraEvent =
  | { readonly type: "discovered"; readonly announce: Announce }
  | { readonly type: "changed"; readonly announce: Announce; readonly changed: readonly string[] }
  | { readonly type: "lost"; readonly serial: string }
  | { readonly type: "online"; readonly cameraId: string; readonly state: CameraState }
  | {
      readonly type: "offline";
      readonly cameraId: string;
      readonly reason: string;
      readonly state: CameraState;
    }
  | { readonly type: "state"; readonly cameraId: string; readonly state: CameraState }
  | {
      readonly type: "io";
      readonly cameraId: string;
      readonly point: string;
      readonly value: boolean;
      readonly time: number;
      /** Known from the point list read on attach; a change event alone does not carry it. */
      readonly kind?: IoPoint["kind"] | undefined;
    }
  | { readonly type: "report"; readonly report: Report }
  | {
      readonly type: "gap";
      readonly cameraId: string;
      readonly inspection: number;
      /** First missing cycle. */
      readonly fromCycle: number;
      /** Last missing cycle; undefined when the camera restarted and the count is unknown. */
      readonly toCycle: number | undefined;
      readonly bootTime: number;
      readonly reason: string;
    }
  | {
      readonly type: "image";
      readonly cameraId: string;
      readonly image: CameraImage;
      readonly source: "snap" | "live";
    }
  | SerialLineEvent;

export type IoEvent = Extract<CameraEvent, { type: "io" }>;

export type SerialValue = number | string | boolean | null;

/** One line from a formatted-output port: always the raw text, and the fields or why not. */
export interface SerialLineEvent {
  readonly type: "serial";
  readonly cameraId: string;
  readonly port: number;
  /** The output's configured name, or Output<n> by its place in the camera's list. */
  readonly output: string;
  readonly raw: string;
  readonly fields: Readonly<Record<string, SerialValue>> | undefined;
  readonly error: string | undefined;
  readonly time: number;
  /** Per port, from 1 at daemon start. */
  readonly seq: number;
}

export interface QueueInfo {
  readonly enabled: boolean;
  readonly capacity: number;
  readonly count: number;
}

/** Commands and what each returns. */
export interface CommandMap {
  status: {
    args: Record<string, never>;
    result: {
      status: string;
      job: string;
      slot: number;
      inspections: number;
      passed: number;
      failed: number;
    };
  };
  start: { args: Record<string, never>; result: Record<string, never> };
  stop: { args: Record<string, never>; result: Record<string, never> };
  trigger: { args: { inspection?: number }; result: { cycle: number } };
  jobs: { args: Record<string, never>; result: { jobs: { slot: number; name: string }[] } };
  selectJob: { args: { slot: number }; result: Record<string, never> };
  download: { args: { file: string }; result: Record<string, never> };
  flash: { args: Record<string, never>; result: Record<string, never> };
  reboot: { args: Record<string, never>; result: Record<string, never> };
  ioList: { args: Record<string, never>; result: { points: IoPoint[] } };
  ioRead: { args: { point: string }; result: { value: boolean } };
  ioWrite: { args: { point: string; value: boolean }; result: Record<string, never> };
  ioPulse: { args: { point: string; ms: number }; result: Record<string, never> };
  snap: { args: { snapshot?: string }; result: { image: CameraImage } };
  /** Live images arrive as image events with source "live" until liveStop. */
  liveStart: { args: { fps: number }; result: Record<string, never> };
  liveStop: { args: Record<string, never>; result: Record<string, never> };
  queueInfo: { args: { inspection: number }; result: QueueInfo };
  queueRead: { args: { inspection: number; from?: number; count: number }; result: { reports: Report[] } };
  queueTake: { args: { inspection: number }; result: { reports: Report[] } };
  queueClear: { args: { inspection: number }; result: Record<string, never> };
  reportRate: { args: { inspection: number; maxRate: number }; result: Record<string, never> };
  reportAdd: { args: { inspection: number; path: string }; result: Record<string, never> };
  reportRemove: { args: { inspection: number; path: string }; result: Record<string, never> };
  reportRecords: { args: { inspection: number }; result: { records: string[] } };
  setNetwork: {
    args: { name?: string; ip?: string; mask?: string; gateway?: string; dhcp?: boolean };
    result: Record<string, never>;
  };
}
export type CommandName = keyof CommandMap;
export type CommandArgs<N extends CommandName> = CommandMap[N]["args"];
export type CommandResult<N extends CommandName> = CommandMap[N]["result"];

/** Commands that change what the camera does and need control (LOGIN) under the profile. */
export const CONTROL_COMMANDS: ReadonlySet<CommandName> = new Set([
  "start",
  "stop",
  "selectJob",
  "download",
  "flash",
  "reboot",
  "setNetwork",
]);
