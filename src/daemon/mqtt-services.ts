import { join } from "node:path";
import { Gauge } from "prom-client";
import { MQTT_OUTPUT, MqttBridge } from "../bridges/mqtt/bridge.js";
import { EmbeddedBroker } from "../bridges/mqtt/embedded-broker.js";
import { SPARKPLUG_OUTPUT } from "../bridges/sparkplug/output.js";
import type { Config } from "../config/schema.js";
import { Journal } from "../journal/index.js";
import { packageVersion } from "../lib/version.js";
import type { CamerasService } from "./camera-services.js";
import type { Service, ServiceContext, ServiceSpec } from "./service.js";

/** The bridge runs when MQTT is on and there is a broker: configured, or the embedded one. */
export function mqttRuns(config: Config): boolean {
  return config.mqtt.enabled && (config.mqtt.url !== undefined || config.mqtt.embedded.enabled);
}

export class BrokerService implements Service {
  readonly broker: EmbeddedBroker;
  #running = false;

  constructor(context: ServiceContext) {
    const { host, port } = context.config.mqtt.embedded;
    this.broker = new EmbeddedBroker(host, port);
  }

  async start(): Promise<void> {
    await this.broker.start();
    this.#running = true;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.broker.stop();
  }

  health() {
    return { healthy: this.#running, detail: `embedded broker on ${this.broker.url}` };
  }
}

/** The Sparkplug edge node runs when enabled and there is a server: configured, or the embedded broker. */
export function sparkplugRuns(config: Config): boolean {
  return config.sparkplug.enabled && (config.sparkplug.servers.length > 0 || config.mqtt.embedded.enabled);
}

/** The outputs that carry the journal's records under this config. */
export function journalOutputs(config: Config): string[] {
  return [...(mqttRuns(config) ? [MQTT_OUTPUT] : []), ...(sparkplugRuns(config) ? [SPARKPLUG_OUTPUT] : [])];
}

const OUTPUT_GAUGE = "smartcam_journal_output";

/**
 * The daemon's journal: cameras keep their records in it from their start, before any output
 * runs; each output reads it on its own cursor.
 */
export class JournalService implements Service {
  readonly journal: Journal;
  readonly #context: ServiceContext;

  constructor(context: ServiceContext) {
    const { mqtt, daemon } = context.config;
    this.#context = context;
    this.journal = new Journal({
      path: join(daemon.stateDirectory, "journal.sqlite"),
      maxBytes: mqtt.journal.maxBytes,
      policy: mqtt.journal.policy,
      fsync: mqtt.journal.fsync,
      groupCommitMs: mqtt.journal.groupCommitMs,
      logger: context.logger,
      outputs: journalOutputs(context.config),
      legacyOutput: MQTT_OUTPUT,
    });
  }

  async start(): Promise<void> {
    this.journal.open();
    const journal = this.journal;
    new Gauge({
      name: OUTPUT_GAUGE,
      help: "Per journal output: delivered (since start), pending (held for it), dropped (by the dropOldest policy before it had them), lost (left otherwise: always 0)",
      labelNames: ["output", "figure"],
      registers: [this.#context.metrics],
      collect() {
        for (const output of journal.outputs)
          for (const [figure, value] of Object.entries(journal.output(output).figures()))
            this.set({ output, figure }, value);
      },
    });
  }

  async stop(): Promise<void> {
    this.#context.metrics.removeSingleMetric(OUTPUT_GAUGE);
    this.journal.close();
  }

  health() {
    return {
      healthy: true,
      detail: `${this.journal.count} records, ${this.journal.bytes} bytes held for ${this.journal.outputs.join(", ")}`,
    };
  }
}

class MqttService implements Service {
  readonly #context: ServiceContext;
  #bridge: MqttBridge | undefined;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  async start(): Promise<void> {
    const context = this.#context;
    const cameras = context.lookup<CamerasService>("cameras");
    const journal = context.lookup<JournalService>("journal");
    if (!cameras || !journal) throw new Error("the MQTT bridge needs the cameras and the journal");
    const url = context.config.mqtt.url ?? context.lookup<BrokerService>("broker")?.broker.url;
    if (!url) throw new Error("no broker: set mqtt.url or mqtt.embedded.enabled");
    this.#bridge = new MqttBridge({
      config: context.config.mqtt,
      url,
      version: packageVersion(),
      hub: cameras.hub,
      journal: journal.journal,
      clock: context.clock,
      random: Math.random,
      logger: context.logger,
      metrics: context.metrics,
      health: () => context.healthReport(),
      statusChanged: context.statusChanged,
    });
    this.#bridge.start();
    if (context.config.mqtt.url === undefined) {
      context.logger.info(
        {
          url,
          watch: `mosquitto_sub -h ${url.replace(/^mqtt:\/\/|:\d+$/g, "")} -p ${url.split(":").at(-1)} -t '${context.config.mqtt.baseTopic}/#' -v`,
        },
        "embedded broker: watch the topics with this",
      );
    }
  }

  async stop(): Promise<void> {
    await this.#bridge?.stop();
    this.#bridge = undefined;
    for (const name of ["smartcam_mqtt", "smartcam_mqtt_commands_total", "smartcam_mqtt_lossy_dropped_total"])
      this.#context.metrics.removeSingleMetric(name);
  }

  health() {
    return this.#bridge?.health() ?? { healthy: false, detail: "not started" };
  }

  status(): string | undefined {
    return this.#bridge?.status();
  }
}

export const brokerServiceSpec: ServiceSpec = {
  name: "broker",
  configKeys: ["mqtt.embedded", "mqtt.url", "mqtt.enabled", "sparkplug.enabled", "sparkplug.servers"],
  enabled: (config) =>
    config.mqtt.embedded.enabled &&
    ((config.mqtt.enabled && config.mqtt.url === undefined) ||
      (config.sparkplug.enabled && config.sparkplug.servers.length === 0)),
  create: (context) => new BrokerService(context),
};

export const journalServiceSpec: ServiceSpec = {
  name: "journal",
  // Not daemon.stateDirectory: a journal reopened elsewhere would strand what it holds, so that key
  // takes effect only when the daemon restarts.
  configKeys: [
    "mqtt.journal",
    "mqtt.enabled",
    "mqtt.url",
    "mqtt.embedded.enabled",
    "sparkplug.enabled",
    "sparkplug.servers",
  ],
  enabled: (config) => journalOutputs(config).length > 0,
  create: (context) => new JournalService(context),
};

export const mqttServiceSpec: ServiceSpec = {
  name: "mqtt",
  dependsOn: ["cameras", "journal", "broker"],
  configKeys: ["mqtt"],
  enabled: mqttRuns,
  create: (context) => new MqttService(context),
};
