import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { Config } from "../../config/schema.js";
import type { Clock, TimerHandle } from "../../lib/clock.js";
import { backoffDelay, type Random } from "../../lib/random.js";

export type MqttConfig = Config["mqtt"];

/** The largest packet the daemon takes from the broker: commands stop at 64 KiB, so this is ample. */
export const MAX_INBOUND_PACKET = 1 << 20;

export interface ConnectionOptions {
  readonly config: MqttConfig;
  readonly url: string;
  readonly will: { readonly topic: string; readonly payload: string };
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** A connection is up: publish what a (re)connect must publish, subscribe, resume the outbox. */
  readonly onUp: (client: MqttClient, protocolVersion: 4 | 5) => void;
  /** The connection is gone; whatever was in flight on it must be sent again on the next one. */
  readonly onDown: () => void;
}

/**
 * One broker connection at a time, each attempt a fresh client: MQTT.js only retries at a fixed
 * period, so reconnection is ours, with capped exponential backoff and jitter. Starts with MQTT 5
 * and falls back to 3.1.1 when a broker refuses 5.
 */
export class MqttConnection {
  readonly #options: ConnectionOptions;
  #client: MqttClient | undefined;
  #version: 4 | 5;
  /** CA and client certificate, read once at start: a reconnect does no file I/O. */
  readonly #tlsFiles: { ca?: Buffer; cert?: Buffer };
  #attempt = 0;
  #retry: TimerHandle | undefined;
  #running = false;
  connects = 0;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#version = options.config.protocolVersion;
    const { ca, cert } = options.config.tls;
    this.#tlsFiles = {
      ...(ca ? { ca: readFileSync(ca) } : {}),
      ...(cert ? { cert: readFileSync(cert) } : {}),
    };
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  get client(): MqttClient | undefined {
    return this.#client?.connected ? this.#client : undefined;
  }

  get protocolVersion(): 4 | 5 {
    return this.#version;
  }

  start(): void {
    this.#running = true;
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#options.clock.clearTimeout(this.#retry);
    this.#retry = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  #clientOptions(): IClientOptions {
    const { config, will } = this.#options;
    const options: IClientOptions = {
      clientId: config.clientId,
      protocolVersion: this.#version,
      clean: true,
      keepalive: config.keepaliveS,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    };
    // MQTT 5: the broker drops what no command needs instead of making the daemon buffer it.
    if (this.#version === 5) options.properties = { maximumPacketSize: MAX_INBOUND_PACKET };
    if (config.username !== undefined) options.username = config.username;
    if (config.password) options.password = config.password.reveal();
    const tls = config.tls;
    if (this.#tlsFiles.ca) options.ca = this.#tlsFiles.ca;
    if (this.#tlsFiles.cert) options.cert = this.#tlsFiles.cert;
    if (tls.key) options.key = tls.key.reveal();
    options.rejectUnauthorized = tls.rejectUnauthorized;
    return options;
  }

  #connect(): void {
    const { logger, url } = this.#options;
    let acknowledged = false;
    let refusedVersion = false;
    let sentConnect = false;
    const client = mqtt.connect(url, this.#clientOptions());
    this.#client = client;
    client.on("packetsend", (packet) => {
      if (packet.cmd === "connect") sentConnect = true;
    });
    client.on("connect", () => {
      acknowledged = true;
      this.#attempt = 0;
      this.connects++;
      (client.stream as Partial<Socket>).setNoDelay?.(true);
      logger.info({ url, protocolVersion: this.#version }, "MQTT connected");
      this.#options.onUp(client, this.#version);
    });
    client.on("error", (error: Error & { code?: number }) => {
      // 1: 3.1.1's "unacceptable protocol version"; 132: MQTT 5's "unsupported protocol version".
      if (error.code === 1 || error.code === 132) refusedVersion = true;
      // Once per outage at warn: a broker that is down for an hour must not fill the journal of logs.
      if (this.#attempt === 0) logger.warn({ err: error, url }, "MQTT connection error");
      else logger.debug({ err: error, url, attempt: this.#attempt }, "MQTT connection error");
    });
    client.on("close", () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end(true);
      if (acknowledged) {
        logger.warn({ url }, "MQTT connection lost");
        this.#options.onDown();
      } else if (this.#version === 5 && (refusedVersion || sentConnect)) {
        // No CONNACK to an MQTT 5 CONNECT: try 3.1.1 next, as many brokers on the edge still only speak it.
        this.#version = 4;
        logger.info({ url }, "broker did not accept MQTT 5; trying 3.1.1");
      }
      if (this.#running) this.#schedule();
    });
  }

  #schedule(): void {
    const { config, random, clock } = this.#options;
    const delay = backoffDelay(this.#attempt++, config.reconnect.initialMs, config.reconnect.maxMs, random);
    this.#retry = clock.setTimeout(() => {
      this.#retry = undefined;
      if (this.#running) this.#connect();
    }, delay);
  }
}
