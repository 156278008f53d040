import type { MqttClient } from "mqtt";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { CameraEvent, CameraHub, CameraImage } from "../../camera/index.js";
import type { Journal } from "../../journal/index.js";
import type { Clock } from "../../lib/clock.js";
import type { Random } from "../../lib/random.js";
import { CommandHandler } from "./commands.js";
import { type MqttConfig, MqttConnection } from "./connection.js";
import { imageBytes } from "./images.js";
import { Outbox } from "./outbox.js";
import { reportPayload, statePayload } from "./payloads.js";
import { Topics } from "./topics.js";

/** The MQTT JSON API's name among the journal's outputs. */
export const MQTT_OUTPUT = "mqtt";

export interface MqttBridgeOptions {
  readonly config: MqttConfig;
  readonly url: string;
  readonly version: string;
  readonly hub: CameraHub;
  /** The daemon's journal, with an output named "mqtt". */
  readonly journal: Journal;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly health: () => unknown;
  readonly statusChanged: () => void;
}

/**
 * Maps the camera layer onto MQTT: retained availability and state, reports (lossless ones through
 * the journal, lossy ones directly at QoS 0), images, and commands back. IO transitions, gaps and
 * formatted-output lines reach the broker through the journal too, rendered as they are sent.
 */
export class MqttBridge {
  readonly topics: Topics;
  readonly connection: MqttConnection;
  readonly outbox: Outbox;
  readonly #options: MqttBridgeOptions;
  readonly #commands: CommandHandler;
  readonly #lossyDropped: Counter;
  #unsubscribe: (() => void) | undefined;

  constructor(options: MqttBridgeOptions) {
    this.#options = options;
    const { config, clock, random, logger, metrics, journal, hub } = options;
    this.topics = new Topics(config.baseTopic);
    this.outbox = new Outbox({
      journal: journal.output(MQTT_OUTPUT),
      topics: this.topics,
      clock,
      logger,
      maxInflight: config.maxInflight,
      replayPerSecond: config.journal.replayPerSecond,
    });
    this.connection = new MqttConnection({
      config,
      url: options.url,
      will: { topic: this.topics.bridgeState(), payload: "offline" },
      clock,
      random,
      logger,
      onUp: (client) => this.#up(client),
      onDown: () => {
        this.outbox.detach();
        options.statusChanged();
      },
    });
    this.#commands = new CommandHandler({
      config,
      hub,
      topics: this.topics,
      clock,
      metrics,
      logger,
      bridgeRequests: {
        cameras: () => hub.cameras.map(statePayload),
        info: () => this.#info(),
        health: () => options.health(),
      },
      publishImage: (camera, image, source) => this.#publishImage(camera, image, source),
    });
    this.#lossyDropped = new Counter({
      name: "smartcam_mqtt_lossy_dropped_total",
      help: "Lossy reports not published because the broker was unreachable",
      registers: [metrics],
    });
    this.#registerGauges(metrics);
  }

  #registerGauges(metrics: Registry): void {
    const bridge = this;
    new Gauge({
      name: "smartcam_mqtt",
      help: "MQTT bridge figures: connected (0/1), published (journal records sent, each once), resent (sent again after a lost connection), acknowledged (each once), replayed, inflight, journal_bytes, journal_entries, journal_dropped, journal_blocked (the whole journal's; per output in smartcam_journal_output)",
      labelNames: ["figure"],
      registers: [metrics],
      collect() {
        const { journal } = bridge.#options;
        const figures: Record<string, number> = {
          connected: bridge.connection.connected ? 1 : 0,
          published: bridge.outbox.published,
          resent: bridge.outbox.resent,
          acknowledged: bridge.outbox.acknowledged,
          replayed: bridge.outbox.replayed,
          inflight: bridge.outbox.inflight,
          journal_bytes: journal.bytes,
          journal_entries: journal.count,
          journal_dropped: journal.dropped,
          journal_blocked: journal.blocked,
        };
        for (const [figure, value] of Object.entries(figures)) this.set({ figure }, value);
      },
    });
  }

  start(): void {
    this.#unsubscribe = this.#options.hub.events.subscribe((event) => this.#onEvent(event));
    this.connection.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.outbox.stop();
    const client = this.connection.client;
    // A clean stop says offline itself, for the bridge and each camera; the Will covers only a crash.
    if (client)
      await Promise.all([
        ...this.#options.hub.cameras.map((state) =>
          client.publishAsync(this.topics.availability(state.id), "offline", { qos: 1, retain: true }),
        ),
        client.publishAsync(this.topics.bridgeState(), "offline", { qos: 1, retain: true }),
      ]).catch(() => undefined);
    await this.connection.stop();
  }

  #publish(topic: string, payload: string | Buffer, retain: boolean, qos: 0 | 1 = 1): void {
    this.connection.client?.publish(topic, payload, { qos, retain });
  }

  /** What bridge/info says: published (retained) on connect, and answered fresh to bridge/request/info. */
  #info() {
    const { hub, version, journal } = this.#options;
    const cameras = hub.cameras;
    return {
      version,
      cameras: cameras.map((c) => c.id),
      features: {
        commands: Object.fromEntries(cameras.map((c) => [c.id, [...this.#commands.allowed(c.id)]])),
        journal: {
          maxBytes: journal.maxBytes,
          policy: journal.policy,
          outputs: Object.fromEntries(journal.outputs.map((name) => [name, journal.output(name).figures()])),
        },
        protocolVersion: this.connection.protocolVersion,
      },
    };
  }

  #up(client: MqttClient): void {
    const { hub } = this.#options;
    const topics = this.topics;
    this.#publish(topics.bridgeState(), "online", true);
    const cameras = hub.cameras;
    this.#publish(topics.bridgeInfo(), JSON.stringify(this.#info()), true);
    for (const state of cameras) {
      this.#publish(
        topics.availability(state.id),
        state.availability === "online" ? "online" : "offline",
        true,
      );
      this.#publish(topics.state(state.id), JSON.stringify(statePayload(state)), true);
    }
    // The IO as the hub last heard it, again: a broker that restarted without persistence lost
    // the retained values. Through the journal, behind the transitions it still holds, so that a
    // subscriber sees every point's values in order.
    for (const state of cameras)
      for (const event of hub.io(state.id))
        this.#options.journal
          .append(event, { only: [MQTT_OUTPUT] })
          .catch((error: unknown) =>
            this.#options.logger.warn(
              { err: error, camera: event.cameraId, point: event.point },
              "IO state not journaled",
            ),
          );
    client.subscribe([topics.commands(), topics.bridgeRequests()], { qos: 1 });
    client.on("message", (_topic, _payload, packet) => {
      void this.#commands.handle(packet).then((reply) => {
        if (!reply) return;
        const correlationData = packet.properties?.correlationData;
        const options =
          reply.correlated && correlationData
            ? { qos: 1 as const, properties: { correlationData } }
            : { qos: 1 as const };
        this.connection.client?.publish(reply.topic, JSON.stringify(reply.answer), options);
      });
    });
    this.outbox.attach(client);
    this.#options.statusChanged();
  }

  #onEvent(event: CameraEvent): void {
    const topics = this.topics;
    switch (event.type) {
      case "online":
      case "offline":
        this.#publish(topics.availability(event.cameraId), event.type, true);
        this.#publish(topics.state(event.cameraId), JSON.stringify(statePayload(event.state)), true);
        return;
      case "state":
        this.#publish(topics.state(event.cameraId), JSON.stringify(statePayload(event.state)), true);
        return;
      case "report":
        // Lossless reports travel through the journal (the keeper); lossy ones go now or never.
        if (event.report.lossless) return;
        if (!this.connection.connected) this.#lossyDropped.inc();
        else
          this.#publish(
            topics.report(event.report.cameraId, event.report.inspection),
            // Sent once and never kept: one stringify, with nothing cached for other outputs.
            JSON.stringify(reportPayload(event.report)),
            false,
            0,
          );
        return;
      case "image":
        if (event.source !== "snap") this.#publishImage(event.cameraId, event.image, event.source);
        return;
      default:
        return;
    }
  }

  /** Image bytes on the image topic, metadata as MQTT 5 user properties and on a JSON sidecar topic. */
  #publishImage(camera: string, image: CameraImage, source: string): string {
    const topic = this.topics.image(camera, source);
    const { bytes, mime } = imageBytes(image);
    const meta = {
      width: image.width,
      height: image.height,
      format: image.format,
      contentType: mime,
      snapshot: image.snapshot ?? null,
      time: image.time === undefined ? null : new Date(image.time).toISOString(),
    };
    const client = this.connection.client;
    if (!client) return topic;
    const userProperties = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, String(v)]));
    client.publish(topic, bytes, {
      qos: 0,
      retain: false,
      ...(this.connection.protocolVersion === 5 ? { properties: { contentType: mime, userProperties } } : {}),
    });
    client.publish(this.topics.imageMeta(camera, source), JSON.stringify(meta), { qos: 0 });
    return topic;
  }

  health() {
    return this.connection.connected
      ? { healthy: true, detail: "MQTT connected" }
      : { healthy: false, detail: "MQTT not connected" };
  }

  status(): string {
    return this.connection.connected ? "MQTT connected" : "MQTT disconnected";
  }
}
