import type { Namespace, StatusCode, UAObject } from "node-opcua";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { CameraEvent, CameraHub, CameraState } from "../../camera/index.js";
import { FirstOfKind } from "../../lib/first-of-kind.js";
import { CameraFolder } from "./camera-folder.js";
import type { CameraModel, ModelStore } from "./model-store.js";
import type { OpcuaServer } from "./server.js";
import { Structures } from "./structures.js";
import { VisionSystem } from "./vision-system.js";

export interface OpcuaBridgeOptions {
  readonly server: OpcuaServer;
  readonly hub: CameraHub;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** What earlier runs learnt of the cameras; without it, nodes come as the cameras show them. */
  readonly store?: ModelStore | undefined;
}

interface CameraNodes {
  readonly folder: CameraFolder;
  readonly vision: VisionSystem;
}

/**
 * Maps camera-layer events onto the address space: a plain folder and a VisionSystemType instance
 * per camera, made when the camera first shows up. They stay when the hub lets an adopted camera
 * go (reading BadNoCommunication), so that its NodeIds hold when it is adopted again.
 */
export class OpcuaBridge {
  readonly #options: OpcuaBridgeOptions;
  readonly #cameras = new Map<string, CameraNodes>();
  readonly #events: Counter;
  readonly #calls: Counter;
  readonly #writes: Counter;
  /** Refused writes and calls already logged, by service and status: each kind once. */
  readonly #logged = new FirstOfKind();
  #model: { plain: UAObject; vision: UAObject; structures: Structures } | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: OpcuaBridgeOptions) {
    this.#options = options;
    const { metrics, server } = options;
    this.#events = new Counter({
      name: "smartcam_opcua_events_total",
      help: "ResultReady events raised",
      registers: [metrics],
    });
    this.#calls = new Counter({
      name: "smartcam_opcua_calls_total",
      help: "OPC UA method calls by result status",
      labelNames: ["status"],
      registers: [metrics],
    });
    this.#writes = new Counter({
      name: "smartcam_opcua_writes_total",
      help: "OPC UA attribute writes by result status",
      labelNames: ["status"],
      registers: [metrics],
    });
    new Gauge({
      name: "smartcam_opcua_sessions",
      help: "open OPC UA sessions",
      registers: [metrics],
      collect() {
        this.set(server.sessions);
      },
    });
    new Gauge({
      name: "smartcam_opcua_certificates_waiting",
      help: "client certificates refused this run and not trusted since (opcua-trust list shows them)",
      registers: [metrics],
      collect() {
        this.set(server.waitingCertificates);
      },
    });
    new Gauge({
      name: "smartcam_opcua_subscriptions",
      help: "OPC UA subscriptions",
      registers: [metrics],
      collect() {
        this.set(server.subscriptions);
      },
    });
  }

  /**
   * Builds every known camera's nodes, one camera per turn of the event loop: a VisionSystem
   * instance is some milliseconds of work, and hundreds at once would starve the cameras'
   * heartbeats. Events are taken from the start; a camera they name is built at once.
   */
  async start(): Promise<void> {
    const { server, hub } = this.#options;
    const own = server.own;
    const objects = server.addressSpace.rootFolder.objects;
    this.#model = {
      plain: own.addFolder(objects, {
        browseName: "Cameras",
        nodeId: "s=Cameras",
        description: "every camera as plain variables",
      }),
      vision: own.addFolder(objects, {
        browseName: "VisionSystems",
        nodeId: "s=VisionSystems",
        description: "every camera as an OPC 40100 VisionSystemType; ResultReady events are raised here",
        eventNotifier: 1,
      } as never),
      structures: new Structures(server.addressSpace, server.machineVision),
    };
    server.addressSpace.rootFolder.objects.server.addReference({
      referenceType: "HasNotifier",
      nodeId: this.#model.vision,
    });
    server.server.on("response", (response) => {
      const name = response.schema.name;
      if (name === "CallResponse") {
        const results = (response as unknown as { results?: { statusCode: StatusCode }[] }).results ?? [];
        for (const { statusCode } of results) this.#count(this.#calls, "call", statusCode);
      } else if (name === "WriteResponse") {
        const results = (response as unknown as { results?: StatusCode[] }).results ?? [];
        for (const statusCode of results) this.#count(this.#writes, "write", statusCode);
      }
    });
    this.#unsubscribe = hub.events.subscribe((event) => this.#onEvent(event));
    // Cameras an earlier run knew and the hub has not (yet) adopted: their NodeIds hold from the start.
    const ids = [...hub.cameras.map((state) => state.id), ...(this.#options.store?.ids ?? [])];
    for (const id of ids) {
      if (!this.#model) return;
      this.#camera(id);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Counts every result; logs a refusal the first time its kind is seen, as hostile clients repeat. */
  #count(counter: Counter, service: string, status: StatusCode): void {
    counter.inc({ status: status.name });
    const kind = `${service} ${status.name}`;
    if (status.isGood() || !this.#logged.first(kind)) return;
    this.#options.logger.warn(
      { service, status: status.name },
      "OPC UA request refused; further refusals of this kind are only counted",
    );
  }

  stop(): void {
    this.#options.store?.stop();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#cameras.clear();
    this.#model = undefined;
  }

  get cameraCount(): number {
    return this.#cameras.size;
  }

  #camera(id: string, state?: CameraState): CameraNodes | undefined {
    const known = this.#cameras.get(id);
    if (known) return known;
    const model = this.#model;
    const { server, hub, store } = this.#options;
    const stored = store?.get(id);
    const current = state ?? hub.cameras.find((camera) => camera.id === id) ?? (stored && away(id, stored));
    if (!model || !current) return undefined;
    const own: Namespace = server.own;
    const nodes: CameraNodes = {
      folder: new CameraFolder({
        own,
        parent: model.plain,
        cameraId: id,
        writeIo: async (point, value) => {
          await hub.command(id, "ioWrite", { point, value });
        },
        known: stored,
        learnt: () => this.#keep(id),
      }),
      vision: new VisionSystem({
        space: server.addressSpace,
        own,
        mv: server.machineVision,
        parent: model.vision,
        cameraId: id,
        run: (name, args) => hub.command(id, name, args),
        structures: model.structures,
        identity: stored?.identity,
      }),
    };
    this.#cameras.set(id, nodes);
    this.#update(id, nodes, current);
    // A camera attached before this bridge started told of its IO already: the hub kept it.
    for (const io of hub.io(id)) nodes.folder.io(io.point, io.value, io.time, io.kind);
    return nodes;
  }

  #update(id: string, nodes: CameraNodes, state: CameraState): void {
    nodes.folder.update(state);
    nodes.vision.update(state);
    const stored = this.#options.store?.get(id);
    const identity = identityOf(state, stored?.identity);
    if (!stored || IDENTITY.some((key) => identity[key] !== stored.identity[key])) this.#keep(id, identity);
  }

  /** Writes what the bridge now knows of the camera to the store. */
  #keep(id: string, identity?: CameraModel["identity"]): void {
    const store = this.#options.store;
    const nodes = this.#cameras.get(id);
    if (!store || !nodes) return;
    store.put(id, { identity: identity ?? store.get(id)?.identity ?? {}, ...nodes.folder.model });
  }

  #onEvent(event: CameraEvent): void {
    switch (event.type) {
      case "online":
      case "offline":
      case "state": {
        const nodes = this.#camera(event.cameraId, event.state);
        if (nodes) this.#update(event.cameraId, nodes, event.state);
        return;
      }
      case "io":
        this.#camera(event.cameraId)?.folder.io(event.point, event.value, event.time, event.kind);
        return;
      case "report": {
        const nodes = this.#camera(event.report.cameraId);
        if (!nodes) return;
        nodes.folder.report(event.report);
        nodes.vision.resultReady(event.report);
        this.#events.inc();
        return;
      }
      case "gap":
        this.#camera(event.cameraId)?.folder.gap();
        return;
      case "serial":
        this.#camera(event.cameraId)?.folder.serial(event);
        return;
      default:
        return;
    }
  }
}

const IDENTITY = ["serial", "name", "model", "version", "mac", "address"] as const;

/** The nameplate as the camera last told it; what it has not said this run, as an earlier run heard it. */
function identityOf(state: CameraState, before: CameraModel["identity"] = {}): CameraModel["identity"] {
  const identity: Record<string, string> = {};
  for (const key of IDENTITY) {
    const value = state[key] || before[key];
    if (value) identity[key] = value;
  }
  return identity;
}

/** A camera an earlier run knew, not run now: offline, as its nodes read. */
function away(id: string, stored: CameraModel): CameraState {
  return {
    ...stored.identity,
    id,
    address: stored.identity.address ?? "",
    availability: "offline",
    status: "unknown",
    job: "",
    inControl: "",
    counters: { inspections: 0, passed: 0, failed: 0 },
  };
}
