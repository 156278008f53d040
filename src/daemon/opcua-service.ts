import { join } from "node:path";
import type { OpcuaBridge } from "../bridges/opcua/bridge.js";
import type { OpcuaServer } from "../bridges/opcua/server.js";
import { packageVersion } from "../lib/version.js";
import type { CamerasService } from "./camera-services.js";
import type { Service, ServiceContext, ServiceSpec } from "./service.js";

const OPCUA_METRICS = [
  "smartcam_opcua_sessions",
  "smartcam_opcua_subscriptions",
  "smartcam_opcua_events_total",
  "smartcam_opcua_calls_total",
  "smartcam_opcua_writes_total",
  "smartcam_opcua_certificates_waiting",
];

class OpcuaService implements Service {
  readonly #context: ServiceContext;
  #server: OpcuaServer | undefined;
  #bridge: OpcuaBridge | undefined;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  async start(): Promise<void> {
    // node-opcua is large and prints a warning when loaded: load it only when the server runs,
    // after the logger has taken over the console.
    const { OpcuaBridge } = await import("../bridges/opcua/bridge.js");
    const { OpcuaServer } = await import("../bridges/opcua/server.js");
    const { ModelStore } = await import("../bridges/opcua/model-store.js");
    const context = this.#context;
    const cameras = context.lookup<CamerasService>("cameras");
    if (!cameras) throw new Error("the OPC UA server needs the cameras");
    const server = new OpcuaServer({
      config: context.config.opcua,
      stateDirectory: context.config.daemon.stateDirectory,
      version: packageVersion(),
      logger: context.logger,
      configFile: context.configFile,
    });
    this.#server = server;
    await server.start();
    const store = new ModelStore({
      file: join(context.config.daemon.stateDirectory, "opcua-model.json"),
      logger: context.logger,
    });
    store.load();
    this.#bridge = new OpcuaBridge({
      server,
      hub: cameras.hub,
      logger: context.logger,
      metrics: context.metrics,
      store,
    });
    this.#bridge.start();
    context.logger.info({ endpoint: server.endpointUrl }, "OPC UA server listening");
  }

  async stop(): Promise<void> {
    this.#bridge?.stop();
    this.#bridge = undefined;
    await this.#server?.stop();
    this.#server = undefined;
    for (const name of OPCUA_METRICS) this.#context.metrics.removeSingleMetric(name);
  }

  health() {
    const server = this.#server;
    if (!server || !this.#bridge) return { healthy: false, detail: "not started" };
    return {
      healthy: true,
      detail: `${server.endpointUrl}: ${this.#bridge.cameraCount} cameras, ${server.sessions} sessions, ${server.subscriptions} subscriptions${waiting(server.waitingCertificates)}`,
    };
  }

  status(): string | undefined {
    return this.#server ? `OPC UA ${this.#server.sessions} sessions` : undefined;
  }
}

/** Refused client certificates are not a fault of the daemon's, but an operator has a decision to make. */
function waiting(count: number): string {
  if (count === 0) return "";
  return `, ${count} certificate${count === 1 ? "" : "s"} waiting (opcua-trust list)`;
}

export const opcuaServiceSpec: ServiceSpec = {
  name: "opcua",
  dependsOn: ["cameras"],
  configKeys: ["opcua"],
  enabled: (config) => config.opcua.enabled,
  create: (context) => new OpcuaService(context),
};
