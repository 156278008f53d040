import { join } from "node:path";
import { MqttBridge } from "../bridges/mqtt/bridge.js";
import { EmbeddedBroker } from "../bridges/mqtt/embedded-broker.js";
import { Journal } from "../bridges/mqtt/journal.js";
import { journalDropNotice } from "../bridges/mqtt/keepers.js";
import { Topics } from "../bridges/mqtt/topics.js";
import type { Config } from "../config/schema.js";
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

export class JournalService implements Service {
  readonly journal: Journal;

  constructor(context: ServiceContext) {
    const { mqtt, daemon } = context.config;
    this.journal = new Journal({
      path: join(daemon.stateDirectory, "journal.sqlite"),
      maxBytes: mqtt.journal.maxBytes,
      policy: mqtt.journal.policy,
      fsync: mqtt.journal.fsync,
      logger: context.logger,
      // Given here, not by the bridge: cameras may append (and so drop) before the bridge starts.
      dropNotice: journalDropNotice(new Topics(mqtt.baseTopic)),
    });
  }

  async start(): Promise<void> {
    this.journal.open();
  }

  async stop(): Promise<void> {
    this.journal.close();
  }

  health() {
    return {
      healthy: true,
      detail: `${this.journal.count} messages, ${this.journal.bytes} bytes undelivered`,
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
  configKeys: ["mqtt.embedded", "mqtt.url", "mqtt.enabled"],
  enabled: (config) => config.mqtt.enabled && config.mqtt.url === undefined && config.mqtt.embedded.enabled,
  create: (context) => new BrokerService(context),
};

export const journalServiceSpec: ServiceSpec = {
  name: "journal",
  // Not daemon.stateDirectory: a journal reopened elsewhere would strand what it holds, so that key
  // takes effect only when the daemon restarts.
  configKeys: ["mqtt.journal", "mqtt.enabled", "mqtt.url", "mqtt.embedded.enabled", "mqtt.baseTopic"],
  enabled: mqttRuns,
  create: (context) => new JournalService(context),
};

export const mqttServiceSpec: ServiceSpec = {
  name: "mqtt",
  dependsOn: ["cameras", "journal", "broker"],
  configKeys: ["mqtt"],
  enabled: mqttRuns,
  create: (context) => new MqttService(context),
};
