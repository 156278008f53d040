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

/**
 * The OPC UA server alone: nodesets, certificate, endpoint. It starts before the cameras, because
 * loading the nodesets holds the event loop for a second or more, and cameras that are connected
 * by then miss their heartbeats (at 200 cameras every session dropped at start).
 */
export class OpcuaService implements Service {
  readonly #context: ServiceContext;
  #server: OpcuaServer | undefined;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  get server(): OpcuaServer | undefined {
    return this.#server;
  }

  async start(): Promise<void> {
    // node-opcua is large and prints a warning when loaded: load it only when the server runs,
    // after the logger has taken over the console.
    const { OpcuaServer } = await import("../bridges/opcua/server.js");
    const context = this.#context;
    const server = new OpcuaServer({
      config: context.config.opcua,
      stateDirectory: context.config.daemon.stateDirectory,
      version: packageVersion(),
      logger: context.logger,
      configFile: context.configFile,
    });
    this.#server = server;
    await server.start();
    context.logger.info({ endpoint: server.endpointUrl }, "OPC UA server listening");
  }

  async stop(): Promise<void> {
    await this.#server?.stop();
    this.#server = undefined;
  }

  health() {
    const server = this.#server;
    if (!server) return { healthy: false, detail: "not started" };
    return {
      healthy: true,
      detail: `${server.endpointUrl}: ${server.sessions} sessions, ${server.subscriptions} subscriptions${waiting(server.waitingCertificates)}`,
    };
  }

  status(): string | undefined {
    return this.#server ? `OPC UA ${this.#server.sessions} sessions` : undefined;
  }
}

/** The cameras in the OPC UA address space: the bridge between the hub and the server. */
class OpcuaBridgeService implements Service {
  readonly #context: ServiceContext;
  #bridge: OpcuaBridge | undefined;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  async start(): Promise<void> {
    const { OpcuaBridge } = await import("../bridges/opcua/bridge.js");
    const { ModelStore } = await import("../bridges/opcua/model-store.js");
    const context = this.#context;
    const cameras = context.lookup<CamerasService>("cameras");
    const server = context.lookup<OpcuaService>("opcua")?.server;
    if (!cameras || !server) throw new Error("the OPC UA bridge needs the cameras and the server");
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
    // READY does not wait on the cameras' nodes: they are built in the background, one camera a
    // turn, and a camera that reports meanwhile is built at once.
    const bridge = this.#bridge;
    this.#building = bridge.start().then(
      () => context.logger.info({ cameras: bridge.cameraCount }, "OPC UA address space built"),
      (error: unknown) => context.logger.error({ err: error }, "OPC UA address space not built"),
    );
  }

  #building: Promise<void> | undefined;

  async stop(): Promise<void> {
    // Stopped first: a build under way ends at its next camera.
    this.#bridge?.stop();
    await this.#building;
    this.#bridge = undefined;
    for (const name of OPCUA_METRICS) this.#context.metrics.removeSingleMetric(name);
  }

  health() {
    const bridge = this.#bridge;
    if (!bridge) return { healthy: false, detail: "not started" };
    return { healthy: true, detail: `${bridge.cameraCount} cameras in the address space` };
  }
}

/** Refused client certificates are not a fault of the daemon's, but an operator has a decision to make. */
function waiting(count: number): string {
  if (count === 0) return "";
  return `, ${count} certificate${count === 1 ? "" : "s"} waiting (opcua-trust list)`;
}

export const opcuaServiceSpec: ServiceSpec = {
  name: "opcua",
  configKeys: ["opcua"],
  enabled: (config) => config.opcua.enabled,
  create: (context) => new OpcuaService(context),
};

export const opcuaBridgeServiceSpec: ServiceSpec = {
  name: "opcuaBridge",
  dependsOn: ["cameras", "opcua"],
  configKeys: ["opcua"],
  enabled: (config) => config.opcua.enabled,
  create: (context) => new OpcuaBridgeService(context),
};
