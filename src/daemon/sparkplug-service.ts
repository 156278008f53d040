import { join } from "node:path";
import { Gauge } from "prom-client";
import type { EdgeNode } from "../bridges/sparkplug/edge-node.js";
import { SPARKPLUG_OUTPUT } from "../bridges/sparkplug/output.js";
import { packageVersion } from "../lib/version.js";
import type { CamerasService } from "./camera-services.js";
import { type BrokerService, type JournalService, sparkplugRuns } from "./mqtt-services.js";
import type { Service, ServiceContext, ServiceSpec } from "./service.js";

const GAUGE = "smartcam_sparkplug";

/** The Sparkplug B edge node, on its own MQTT connection, reading the journal on its own cursor. */
class SparkplugService implements Service {
  readonly #context: ServiceContext;
  #node: EdgeNode | undefined;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  async start(): Promise<void> {
    const context = this.#context;
    const cameras = context.lookup<CamerasService>("cameras");
    const journal = context.lookup<JournalService>("journal")?.journal;
    if (!cameras || !journal) throw new Error("the Sparkplug edge node needs the cameras and the journal");
    const { sparkplug, daemon, mqtt } = context.config;
    const embedded = context.lookup<BrokerService>("broker")?.broker.url;
    const servers = sparkplug.servers.length > 0 ? sparkplug.servers : embedded ? [embedded] : [];
    if (servers.length === 0)
      throw new Error("no Sparkplug server: set sparkplug.servers or mqtt.embedded.enabled");
    // Loaded here, not at the daemon's start: a daemon without Sparkplug loads no protobuf.
    const { EdgeNode } = await import("../bridges/sparkplug/edge-node.js");
    const { BdSeqStore } = await import("../bridges/sparkplug/bdseq.js");
    const node = new EdgeNode({
      config: sparkplug,
      servers,
      hub: cameras.hub,
      journal: journal.output(SPARKPLUG_OUTPUT),
      journalEnd: () => journal.lastSeq,
      commands: mqtt.commands,
      bdSeq: new BdSeqStore(join(daemon.stateDirectory, "sparkplug-bdseq.json")),
      clock: context.clock,
      random: Math.random,
      logger: context.logger,
      version: packageVersion(),
      statusChanged: context.statusChanged,
    });
    this.#node = node;
    new Gauge({
      name: GAUGE,
      help: "Sparkplug edge node: connected and born (0/1), bdSeq, connects, births, deviceBirths, deviceDeaths, data (DDATA sent), historical (of those, is_historical), staleOffline and badState (primary host STATE ignored), commands_sent, commands_refused, commands_unknown, commands_malformed, commands_failed",
      labelNames: ["figure"],
      registers: [context.metrics],
      collect() {
        this.set({ figure: "connected" }, node.connected ? 1 : 0);
        this.set({ figure: "born" }, node.born ? 1 : 0);
        this.set({ figure: "bdSeq" }, node.bdSeq);
        for (const [figure, value] of Object.entries(node.figures)) this.set({ figure }, value);
        for (const [figure, value] of Object.entries(node.commandFigures))
          this.set({ figure: `commands_${figure}` }, value);
      },
    });
    node.start();
  }

  async stop(): Promise<void> {
    await this.#node?.stop();
    this.#node = undefined;
    this.#context.metrics.removeSingleMetric(GAUGE);
  }

  health() {
    const node = this.#node;
    if (!node) return { healthy: false, detail: "not started" };
    if (node.born) return { healthy: true, detail: `Sparkplug born on ${node.server} (bdSeq ${node.bdSeq})` };
    return {
      healthy: false,
      detail: node.connected
        ? `Sparkplug connected to ${node.server}, waiting for the primary host`
        : "Sparkplug not connected",
    };
  }

  status(): string | undefined {
    return this.#node?.born ? "Sparkplug born" : "Sparkplug not born";
  }
}

export const sparkplugServiceSpec: ServiceSpec = {
  name: "sparkplug",
  dependsOn: ["cameras", "journal", "broker"],
  configKeys: ["sparkplug", "mqtt.commands"],
  enabled: sparkplugRuns,
  create: (context) => new SparkplugService(context),
};
