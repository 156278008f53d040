import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { type Logger, pino } from "pino";
import { Registry } from "prom-client";
import { MqttBridge } from "../../../src/bridges/mqtt/bridge.js";
import { CameraHub } from "../../../src/camera/hub.js";
import { vsCodec } from "../../../src/camera/wire/index.js";
import { buildConfigSchema } from "../../../src/config/schema.js";
import { Journal, keepInJournal } from "../../../src/journal/index.js";
import { systemClock } from "../../../src/lib/clock.js";
import { seededRandom } from "../../../src/lib/random.js";
import { type RigOptions, startRig } from "../../camera/rig.js";
import { captureLog } from "../../support/log.js";
import { TestBroker } from "../../support/mosquitto.js";
import { tempDir } from "../../support/process.js";

export interface Message {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  readonly properties?: mqtt.IPublishPacket["properties"];
  readonly at: number;
}

export const BASE = "test";

/** A subscriber of its own on the test broker, recording every message under a filter. */
export async function subscriber(url: string, filter: string, options: IClientOptions = {}) {
  // A persistent session, as a SCADA subscriber has: what is published while it reconnects waits for it.
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 100,
    clean: false,
    clientId: `sub-${Math.random().toString(36).slice(2)}`,
    properties: { sessionExpiryInterval: 600 },
    ...options,
  });
  const messages: Message[] = [];
  client.on("message", (topic, payload, packet) =>
    messages.push({ topic, payload, retain: packet.retain, properties: packet.properties, at: Date.now() }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  const waitFor = async (predicate: (m: Message) => boolean, timeoutMs = 5_000): Promise<Message> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `no such message; got ${messages.length}: ${messages
            .slice(-5)
            .map((m) => m.topic)
            .join(", ")}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    client,
    messages,
    waitFor,
    json: (m: Message) => JSON.parse(m.payload.toString()) as Record<string, unknown>,
  };
}

export interface MqttRigOptions extends RigOptions {
  readonly mqtt?: Record<string, unknown>;
  readonly journalPath?: string;
  readonly logger?: Logger;
  /** Starts the bridge only once the camera is online, as a slow daemon start can. */
  readonly bridgeAfterOnline?: boolean;
}

export async function startMqttRig(options: MqttRigOptions = {}) {
  const broker = new TestBroker();
  await broker.start();
  const config = buildConfigSchema().parse({
    mqtt: {
      url: broker.url,
      baseTopic: BASE,
      clientId: `bridge-${broker.port}`,
      reconnect: { initialMs: 50, maxMs: 300 },
      ...options.mqtt,
    },
  }).mqtt;
  const logger = options.logger ?? pino({ level: process.env.RIG_LOG ?? "silent" });
  const journal = new Journal({
    path: options.journalPath ?? join(tempDir("journal-"), "journal.sqlite"),
    maxBytes: config.journal.maxBytes,
    policy: config.journal.policy,
    fsync: false,
    logger,
    outputs: ["mqtt"],
  });
  journal.open();
  const camera = await startRig({
    ...options,
    beforeStart: (hub) => keepInJournal(hub, journal, logger),
  });
  const metrics = new Registry();
  const bridge = new MqttBridge({
    config,
    url: broker.url,
    version: "0.0.0-test",
    hub: camera.hub,
    journal,
    clock: systemClock,
    random: seededRandom(5),
    logger,
    metrics,
    health: () => ({ healthy: true }),
    statusChanged: () => undefined,
  });
  const sub = await subscriber(broker.url, `${BASE}/#`);
  if (options.bridgeAfterOnline) await camera.online();
  bridge.start();
  const clients: MqttClient[] = [sub.client];
  return {
    broker,
    camera,
    bridge,
    journal,
    metrics,
    sub,
    config,
    async extraSubscriber(filter: string, opts: IClientOptions = {}) {
      const extra = await subscriber(broker.url, filter, opts);
      clients.push(extra.client);
      return extra;
    },
    async stop() {
      await bridge.stop();
      await camera.stop();
      journal.close();
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.stop();
    },
  };
}

export type MqttRig = Awaited<ReturnType<typeof startMqttRig>>;

/**
 * A bridge with no cameras, to a given broker URL, its log captured: for what concerns the
 * connection alone (security, protocol fallback). Returns a stop function to call after the test.
 */
export async function standaloneBridge(
  url: string,
  mqttConfig: Record<string, unknown>,
  camerasConfig: Record<string, unknown> = {},
) {
  const { logger, text } = captureLog();
  const config = buildConfigSchema().parse({
    cameras: { discovery: { enabled: false }, reconnect: { initialMs: 30, maxMs: 100 }, ...camerasConfig },
    mqtt: { baseTopic: "solo", reconnect: { initialMs: 20, maxMs: 200 }, url, ...mqttConfig },
  });
  const journal = new Journal({
    path: join(tempDir("journal-"), "j.sqlite"),
    maxBytes: config.mqtt.journal.maxBytes,
    policy: config.mqtt.journal.policy,
    fsync: false,
    logger,
    outputs: ["mqtt"],
  });
  journal.open();
  const hub = new CameraHub({
    config: config.cameras,
    codec: vsCodec,
    clock: systemClock,
    random: seededRandom(1),
    logger,
    clientName: "t",
  });
  // As the daemon composes them: the journal keeps reports and lines from the cameras' start.
  keepInJournal(hub, journal, logger);
  const bridge = new MqttBridge({
    config: config.mqtt,
    url,
    version: "t",
    hub,
    journal,
    clock: systemClock,
    random: seededRandom(1),
    logger,
    metrics: new Registry(),
    health: () => ({}),
    statusChanged: () => undefined,
  });
  bridge.start();
  await hub.start();
  return {
    bridge,
    hub,
    logs: text,
    async stop() {
      await bridge.stop();
      await hub.stop();
      journal.close();
    },
  };
}
