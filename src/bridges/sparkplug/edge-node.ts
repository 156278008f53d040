import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { CameraEvent, CameraHub, CameraState } from "../../camera/index.js";
import type { Config } from "../../config/schema.js";
import { cameraOf, type JournalOutput, type JournalRecord } from "../../journal/index.js";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import { backoffDelay, type Random } from "../../lib/random.js";
import { TokenBucket } from "../../lib/token-bucket.js";
import type { BdSeqStore } from "./bdseq.js";
import { DeviceCommands } from "./device-commands.js";
import {
  COMMAND_METRICS,
  dataMetric,
  ioMetric,
  type MetricDefinition,
  recordMetrics,
  stateMetrics,
} from "./device-metrics.js";
import { Device } from "./devices.js";
import { DataType, decodeCommand, encodePayload, type Metric, type Payload } from "./payload.js";
import { parseState } from "./state.js";

export type SparkplugConfig = Config["sparkplug"];

export { SPARKPLUG_OUTPUT } from "./output.js";

const NAMESPACE = "spBv1.0";
const REBIRTH = "Node Control/Rebirth";
/** The NBIRTH names bdSeq, then Rebirth: their aliases are 1 and 2 in every birth. */
const REBIRTH_ALIAS = 2n;
/** DATA messages published but not yet proven read by the server (see #fence). */
const MAX_UNFENCED = 512;

export interface EdgeNodeOptions {
  readonly config: SparkplugConfig;
  readonly servers: readonly string[];
  readonly hub: CameraHub;
  readonly journal: JournalOutput;
  /** The journal's newest seq: what is older than a birth was held while the node was away. */
  readonly journalEnd: () => number;
  readonly commands: Config["mqtt"]["commands"];
  readonly bdSeq: BdSeqStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly version: string;
  readonly statusChanged: () => void;
}

/** Counted for /metrics. */
export interface EdgeNodeFigures {
  connects: number;
  births: number;
  deviceBirths: number;
  deviceDeaths: number;
  data: number;
  historical: number;
  staleOffline: number;
  badState: number;
}

/**
 * A Sparkplug B 3.0 edge node whose devices are the cameras: its own MQTT connection (MQTT 5,
 * clean start, no session expiry) to one server at a time, NDEATH as the Will with a bdSeq that
 * rises on every CONNECT, births after the subscriptions (and the primary host's STATE), one DDATA
 * per report, and what the journal held while the node was away sent after the next birth as
 * is_historical, at a bounded rate.
 */
export class EdgeNode {
  readonly #options: EdgeNodeOptions;
  readonly #commands: DeviceCommands;
  readonly figures: EdgeNodeFigures = {
    connects: 0,
    births: 0,
    deviceBirths: 0,
    deviceDeaths: 0,
    data: 0,
    historical: 0,
    staleOffline: 0,
    badState: 0,
  };
  #client: MqttClient | undefined;
  /** MQTT 5, or 3.1.1 after a server did not accept 5 (the demo's embedded broker, say). */
  #version: 4 | 5 = 5;
  #server = 0;
  #attempt = 0;
  #retry: TimerHandle | undefined;
  #running = false;
  #unsubscribe: (() => void) | undefined;
  #stopListening: (() => void) | undefined;
  bdSeq = -1;
  #seq = 0;
  born = false;
  #lastOnline = Number.NEGATIVE_INFINITY;
  #alias = 0;
  readonly #devices = new Map<string, Device>();
  #liveCursor = 0;
  #historicalCursor = 0;
  #historicalEnd = 0;
  #unfenced: number[] = [];
  #fencing = false;
  readonly #historicalRate: TokenBucket;
  #pacer: TimerHandle | undefined;

  constructor(options: EdgeNodeOptions) {
    this.#options = options;
    this.#historicalRate = new TokenBucket(options.config.historicalPerSecond, options.clock);
    this.#commands = new DeviceCommands({
      hub: options.hub,
      commands: options.commands,
      logger: options.logger,
      deviceOf: (id) => this.#devices.get(id),
    });
  }

  get commandFigures() {
    return this.#commands.figures;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  get server(): string | undefined {
    return this.#options.servers[this.#server];
  }

  #topic(type: string, device?: string): string {
    const { groupId, nodeId } = this.#options.config;
    return `${NAMESPACE}/${groupId}/${type}/${nodeId}${device === undefined ? "" : `/${device}`}`;
  }

  start(): void {
    this.#running = true;
    this.#unsubscribe = this.#options.hub.events.subscribe((event) => this.#onEvent(event));
    this.#stopListening = this.#options.journal.onCommitted(() => this.#pump());
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#stopListening?.();
    const { clock } = this.#options;
    clock.clearTimeout(this.#retry);
    clock.clearTimeout(this.#pacer);
    await this.#leave();
  }

  /** NDEATH before every intentional disconnect: MQTT 5's disconnect with the Will, whose payload it is. */
  async #leave(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#lost();
    if (!client) return;
    await new Promise<void>((resolve) => {
      if (!client.connected) {
        client.end(true, {}, () => resolve());
        return;
      }
      if (this.#version === 5) {
        client.end(false, { reasonCode: 4 }, () => resolve());
        return;
      }
      // 3.1.1's DISCONNECT discards the Will: the NDEATH goes first, as a message of its own.
      client.publish(this.#topic("NDEATH"), this.#deathPayload(), { qos: 1, retain: false }, () =>
        client.end(false, {}, () => resolve()),
      );
    });
  }

  #deathPayload(): Buffer {
    return encodePayload({
      timestamp: this.#options.clock.now(),
      metrics: [{ name: "bdSeq", datatype: DataType.Int64, value: this.bdSeq }],
    });
  }

  #connect(): void {
    const { config, logger, bdSeq } = this.#options;
    const url = this.server;
    if (!url) return;
    // mqtt.js keeps one Will per client: each CONNECT is a new client with the new bdSeq.
    this.bdSeq = bdSeq.next();
    const options: IClientOptions = {
      clientId: config.clientId,
      protocolVersion: this.#version,
      clean: true,
      ...(this.#version === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
      keepalive: config.keepaliveS,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      will: { topic: this.#topic("NDEATH"), payload: this.#deathPayload(), qos: 1, retain: false },
    };
    if (config.username !== undefined) options.username = config.username;
    if (config.password) options.password = config.password.reveal();
    const client = mqtt.connect(url, options);
    this.#client = client;
    let acknowledged = false;
    let sentConnect = false;
    client.on("packetsend", (packet) => {
      if (packet.cmd === "connect") sentConnect = true;
    });
    client.on("connect", () => {
      acknowledged = true;
      this.#attempt = 0;
      this.figures.connects++;
      logger.info({ url, bdSeq: this.bdSeq }, "Sparkplug edge node connected");
      this.#subscribe(client);
    });
    client.on("message", (topic, payload) => this.#onMessage(topic, payload));
    client.on("error", (error: Error & { code?: number }) => {
      // 1: 3.1.1's "unacceptable protocol version"; 132: MQTT 5's "unsupported protocol version".
      if (error.code === 1 || error.code === 132) {
        sentConnect = true;
        client.end(true);
        return;
      }
      if (this.#attempt === 0) logger.warn({ err: error, url }, "Sparkplug connection error");
    });
    client.on("close", () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end(true);
      this.#lost();
      this.#options.statusChanged();
      // A CONNECT sent and no CONNACK: a server that does not speak 5 (a down one never reads it).
      if (!acknowledged && sentConnect && this.#version === 5) {
        this.#version = 4;
        logger.info({ url }, "server did not accept MQTT 5; the edge node tries 3.1.1");
      }
      if (this.#running) this.#schedule(false);
    });
  }

  #schedule(moved: boolean): void {
    const { config, random, clock } = this.#options;
    const delay = moved
      ? 0
      : backoffDelay(this.#attempt++, config.reconnect.initialMs, config.reconnect.maxMs, random);
    this.#retry = clock.setTimeout(() => {
      this.#retry = undefined;
      if (this.#running && !this.#client) this.#connect();
    }, delay);
  }

  /** Commands first: a host that answers the birth with a command must find the node listening. */
  #subscribe(client: MqttClient): void {
    const primary = this.#options.config.primaryHostId;
    const topics = [this.#topic("NCMD"), `${this.#topic("DCMD")}/+`];
    if (primary) topics.push(`${NAMESPACE}/STATE/${primary}`);
    client.subscribe(topics, { qos: 1 }, (error) => {
      if (error || this.#client !== client) return;
      if (!primary) this.#birth(true);
    });
  }

  #onMessage(topic: string, payload: Buffer): void {
    const primary = this.#options.config.primaryHostId;
    if (primary && topic === `${NAMESPACE}/STATE/${primary}`) this.#onState(payload);
    else if (topic === this.#topic("NCMD")) this.#onNodeCommand(payload);
    else if (topic.startsWith(`${this.#topic("DCMD")}/`))
      this.#commands.handle(topic.slice(this.#topic("DCMD").length + 1), payload);
  }

  #onState(payload: Buffer): void {
    const state = parseState(payload);
    if (!state) {
      this.figures.badState++;
      this.#options.logger.warn("primary host STATE that is not {online, timestamp}; ignored");
      return;
    }
    if (state.online) {
      if (state.timestamp < this.#lastOnline) return;
      this.#lastOnline = state.timestamp;
      if (!this.born) this.#birth(true);
      return;
    }
    if (state.timestamp < this.#lastOnline) {
      this.figures.staleOffline++;
      this.#options.logger.info({ timestamp: state.timestamp }, "stale primary host offline STATE; ignored");
      return;
    }
    // Offline before the host was seen online on this server (a retained offline, say): wait.
    if (!this.born) return;
    this.#options.logger.warn(
      { server: this.server },
      "primary host offline: leaving this server for the next",
    );
    this.#lastOnline = Number.NEGATIVE_INFINITY;
    void this.#leave().then(() => {
      this.#server = (this.#server + 1) % this.#options.servers.length;
      if (this.#running) this.#schedule(true);
    });
  }

  #onNodeCommand(payload: Buffer): void {
    let metrics: ReturnType<typeof decodeCommand>["metrics"];
    try {
      metrics = decodeCommand(payload).metrics;
    } catch (error) {
      this.#commands.figures.malformed++;
      this.#options.logger.warn({ err: error }, "NCMD that is not a Sparkplug payload; ignored");
      return;
    }
    const rebirth = metrics.some(
      (m) => (m.name === REBIRTH || m.alias === REBIRTH_ALIAS) && m.value === true,
    );
    if (rebirth && this.born) this.#birth(false);
    else this.#commands.figures.unknown++;
  }

  #nextSeq(): number {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) % 256;
    return seq;
  }

  #publish(type: string, device: string | undefined, payload: Payload): void {
    this.#client?.publish(this.#topic(type, device), encodePayload({ ...payload, seq: this.#nextSeq() }), {
      qos: 0,
      retain: false,
    });
  }

  /** NBIRTH then every online camera's DBIRTH; a new session also takes up the journal where it stands. */
  #birth(newSession: boolean): void {
    const now = this.#options.clock.now();
    this.#seq = 0;
    this.#alias = 0;
    const node: Metric[] = [
      {
        name: "bdSeq",
        alias: this.#nextAlias(),
        timestamp: now,
        datatype: DataType.Int64,
        value: this.bdSeq,
      },
      { name: REBIRTH, alias: this.#nextAlias(), timestamp: now, datatype: DataType.Boolean, value: false },
      {
        name: "Properties/Version",
        alias: this.#nextAlias(),
        timestamp: now,
        datatype: DataType.String,
        value: this.#options.version,
      },
    ];
    this.born = true;
    this.figures.births++;
    this.#publish("NBIRTH", undefined, { timestamp: now, metrics: node });
    for (const device of this.#devices.values()) device.died();
    for (const state of this.#options.hub.cameras)
      if (state.availability === "online") this.#birthDevice(state.id, state);
    if (newSession) {
      this.#historicalEnd = this.#options.journalEnd();
      this.#liveCursor = this.#historicalEnd;
      this.#historicalCursor = 0;
      this.#historicalRate.reset();
    }
    this.#options.statusChanged();
    this.#pump();
  }

  #nextAlias(): number {
    return ++this.#alias;
  }

  #device(id: string): Device {
    let device = this.#devices.get(id);
    if (!device) {
      device = new Device(id);
      this.#devices.set(id, device);
      for (const [name, { datatype }] of Object.entries(COMMAND_METRICS))
        device.known.set(name, {
          name,
          datatype,
          value: datatype === DataType.Boolean ? false : 0,
          timestamp: 0,
        });
    }
    return device;
  }

  #birthDevice(id: string, known?: CameraState): void {
    const { hub, clock } = this.#options;
    const device = this.#device(id);
    const state = known ?? hub.cameras.find((c) => c.id === id);
    const now = clock.now();
    if (state) device.update(stateMetrics(state, now));
    device.update(hub.io(id).map(ioMetric));
    this.figures.deviceBirths++;
    this.#publish("DBIRTH", id, { timestamp: now, metrics: device.birth(() => this.#nextAlias()) });
  }

  #deathOf(id: string): void {
    const device = this.#devices.get(id);
    if (!device?.born) return;
    device.died();
    this.figures.deviceDeaths++;
    this.#publish("DDEATH", id, { timestamp: this.#options.clock.now(), metrics: [] });
  }

  /** DDATA of these metrics, after a new DBIRTH when one of them is new to the host. */
  #data(id: string, metrics: MetricDefinition[], time: number, historical: boolean): void {
    const device = this.#device(id);
    if (!device.update(metrics)) this.#birthDevice(id);
    const data = metrics.map((m) => dataMetric(device.alias(m.name) as number, m, historical));
    this.figures.data++;
    if (historical) this.figures.historical++;
    this.#publish("DDATA", id, { timestamp: time, metrics: data });
  }

  #onEvent(event: CameraEvent): void {
    if (!this.born) {
      if (event.type === "offline") this.#devices.get(event.cameraId)?.died();
      return;
    }
    switch (event.type) {
      case "online":
        this.#birthDevice(event.cameraId);
        return;
      case "offline":
        this.#deathOf(event.cameraId);
        return;
      case "state": {
        const device = this.#devices.get(event.cameraId);
        if (!device?.born) return;
        // A job change is a new DBIRTH: the datums of the new job are not those of the old.
        if (device.known.get("Job")?.value !== event.state.job) {
          this.#birthDevice(event.cameraId);
          return;
        }
        const now = this.#options.clock.now();
        const changed = stateMetrics(event.state, now).filter(
          (m) => device.known.get(m.name)?.value !== m.value,
        );
        if (changed.length > 0) this.#data(event.cameraId, changed, now, false);
        return;
      }
      case "report":
        // Lossless reports come through the journal; lossy ones go live or not at all.
        if (event.report.lossless) return;
        this.#sendRecord({ type: "report", report: event.report }, false);
        return;
      default:
        return;
    }
  }

  #sendRecord(record: JournalRecord, historical: boolean): void {
    const rendered = recordMetrics(record, this.#options.clock.now());
    const id = cameraOf(record);
    if (rendered && id !== undefined) this.#data(id, rendered.metrics, rendered.time, historical);
  }

  /** Live records at once, then held ones at historicalPerSecond, while the node is born. */
  #pump(): void {
    const client = this.#client;
    if (!this.born || !client?.connected) return;
    const { journal, clock } = this.#options;
    let room = MAX_UNFENCED - this.#unfenced.length;
    if (room <= 0) {
      // Full while a fence was out: what waits must get a fence of its own, or nothing moves.
      this.#fence(client);
      return;
    }
    const touched = new Set<string>();
    const send = (seq: number, record: JournalRecord, historical: boolean) => {
      this.#sendRecord(record, historical);
      this.#unfenced.push(seq);
      const id = cameraOf(record);
      if (id !== undefined) touched.add(id);
    };
    for (const entry of journal.range(this.#liveCursor, Number.MAX_SAFE_INTEGER, room)) {
      send(entry.seq, entry.record, false);
      this.#liveCursor = entry.seq;
      room--;
    }
    if (this.#historicalCursor < this.#historicalEnd && room > 0) {
      const allowed = this.#historicalRate.take(room);
      if (allowed > 0) {
        const entries = journal.range(this.#historicalCursor, this.#historicalEnd, allowed);
        for (const entry of entries) send(entry.seq, entry.record, true);
        this.#historicalCursor = entries.at(-1)?.seq ?? this.#historicalEnd;
      }
      if (this.#historicalCursor < this.#historicalEnd && !this.#pacer)
        this.#pacer = clock.setTimeout(() => {
          this.#pacer = undefined;
          this.#pump();
        }, this.#historicalRate.intervalMs);
    }
    // A camera that is offline was born only to carry what the journal held of it.
    if (touched.size > 0) {
      const online = new Set(
        this.#options.hub.cameras.filter((c) => c.availability === "online").map((c) => c.id),
      );
      for (const id of touched) if (!online.has(id)) this.#deathOf(id);
    }
    this.#fence(client);
  }

  /**
   * DATA goes at QoS 0, as Sparkplug asks, so no PUBACK says the server has it. An UNSUBACK does:
   * the server reads a connection's packets in order, and an UNSUBSCRIBE of a topic the node never
   * subscribed to is always sent and always answered. The records published before it leave the
   * Sparkplug cursor when the answer comes; a connection lost before then sends them again,
   * historical.
   */
  #fence(client: MqttClient): void {
    if (this.#fencing || this.#unfenced.length === 0) return;
    this.#fencing = true;
    const batch = this.#unfenced;
    this.#unfenced = [];
    client.unsubscribe(`${this.#topic("NCMD")}/fence`, (error) => {
      this.#fencing = false;
      if (error || this.#client !== client) return;
      for (const seq of batch) this.#options.journal.ack(seq);
      this.#pump();
    });
  }

  #lost(): void {
    this.born = false;
    this.#unfenced = [];
    this.#fencing = false;
    for (const device of this.#devices.values()) device.died();
  }
}
