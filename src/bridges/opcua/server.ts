import { join } from "node:path";
import { format } from "node:util";
import {
  type AddressSpace,
  MessageSecurityMode,
  type Namespace,
  NamespaceOptions,
  nodesets,
  OPCUACertificateManager,
  OPCUAServer,
  type OPCUAServerOptions,
  SecurityPolicy,
  setDebugLogger,
  setErrorLogger,
  setWarningLogger,
} from "node-opcua";
import type { Logger } from "pino";
import type { Config } from "../../config/schema.js";
import { verifyPassword } from "./passwords.js";
import { roleIds } from "./permissions.js";

export type OpcuaConfig = Config["opcua"];
export const MACHINE_VISION_URI = "http://opcfoundation.org/UA/MachineVision";
export const DI_URI = "http://opcfoundation.org/UA/DI/";

export interface OpcuaServerOptions {
  readonly config: OpcuaConfig;
  readonly stateDirectory: string;
  readonly version: string;
  readonly logger: Logger;
}

export function pkiDirectory(config: OpcuaConfig, stateDirectory: string): string {
  return config.pkiDirectory ?? join(stateDirectory, "pki");
}

// Colour codes and node-opcua's padded context columns are noise in a JSON log.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
function logLine(args: unknown[]): string {
  return format(...args)
    .replace(ANSI, "")
    .replace(/^\d\d:\d\d:\d\d\.\d+Z :\S+\s+:\d+\s+/, "")
    .replace(/^\{ filename: '[^']*', callerline: \d+ \}\s*/, "")
    .trim();
}

/** Channels beyond maxSessions: clients that are opening, or that hold a channel without a session. */
const CONNECTION_HEADROOM = 16;

// One NodeId scheme: what node-opcua makes for the children of an instantiated type joins its
// path with dots, as the bridge's own nodes do (ns=1;s=cam1.VisionSystem.VisionStateMachine...).
NamespaceOptions.nodeIdNameSeparator = ".";

/**
 * The node-opcua server, built from one options object: secure policies only unless the config
 * says otherwise, users checked against scrypt hashes, and every certificate store under the
 * state directory (node-opcua would otherwise write under $HOME, which a hardened unit forbids).
 */
export class OpcuaServer {
  readonly #options: OpcuaServerOptions;
  #server: OPCUAServer | undefined;
  #certificates: OPCUACertificateManager[] = [];

  constructor(options: OpcuaServerOptions) {
    this.#options = options;
  }

  get server(): OPCUAServer {
    if (!this.#server) throw new Error("the OPC UA server is not started");
    return this.#server;
  }

  get addressSpace(): AddressSpace {
    const space = this.server.engine.addressSpace;
    if (!space) throw new Error("the OPC UA address space is not loaded");
    return space;
  }

  get own(): Namespace {
    return this.addressSpace.getOwnNamespace();
  }

  get machineVision(): number {
    return this.addressSpace.getNamespaceIndex(MACHINE_VISION_URI);
  }

  get di(): number {
    return this.addressSpace.getNamespaceIndex(DI_URI);
  }

  get endpointUrl(): string {
    return this.server.getEndpointUrl();
  }

  async start(): Promise<void> {
    const { config, logger, stateDirectory, version } = this.#options;
    // node-opcua logs through process-wide functions: they stay pointed at our logger from here on.
    const log = logger;
    setWarningLogger((...args) => log.warn(logLine(args)));
    setErrorLogger((...args) => log.error(logLine(args)));
    setDebugLogger((...args) => log.debug(logLine(args)));

    const pki = pkiDirectory(config, stateDirectory);
    const serverCertificates = new OPCUACertificateManager({
      rootFolder: pki,
      name: "PKI",
      automaticallyAcceptUnknownCertificate: config.autoAcceptCertificates,
    });
    const userCertificates = new OPCUACertificateManager({
      rootFolder: join(pki, "user"),
      name: "UserPKI",
      automaticallyAcceptUnknownCertificate: false,
    });
    this.#certificates = [serverCertificates, userCertificates];
    await Promise.all(this.#certificates.map((manager) => manager.initialize()));

    const users = new Map(config.users.map((user) => [user.name, user]));
    const options: OPCUAServerOptions = {
      host: config.host,
      port: config.port,
      hostname: config.hostname,
      resourcePath: config.resourcePath,
      // DI for the nameplate (OPC 10000-100), so that clients find it by its DI browse path.
      nodeset_filename: [nodesets.standard, nodesets.di, nodesets.machineVision],
      serverInfo: {
        applicationUri: config.applicationUri,
        applicationName: { text: config.applicationName },
        productUri: "urn:smartcam-bridge",
      },
      buildInfo: {
        productName: "smartcam-bridge",
        manufacturerName: "smartcam-bridge",
        softwareVersion: version,
      },
      securityPolicies: [
        ...(config.allowUnsecured ? [SecurityPolicy.None] : []),
        ...config.securityPolicies.map((name) => SecurityPolicy[name]),
      ],
      securityModes: [
        ...(config.allowUnsecured ? [MessageSecurityMode.None] : []),
        MessageSecurityMode.Sign,
        MessageSecurityMode.SignAndEncrypt,
      ],
      allowAnonymous: config.anonymous,
      // Room for a channel per session and some that are opening: past maxSessions a client is
      // answered BadTooManySessions at once, where the transport's own cap (10 by default) made
      // the 11th client wait for its own timeout.
      maxConnectionsPerEndpoint: config.maxSessions + CONNECTION_HEADROOM,
      serverCertificateManager: serverCertificates,
      userCertificateManager: userCertificates,
      serverCapabilities: {
        // 0: changes are delivered as they happen, never merged over a sampling window.
        minSupportedSampleRate: 0,
        maxSessions: config.maxSessions,
        maxMonitoredItemsQueueSize: config.maxQueueSize,
      },
      userManager: {
        isValidUserAsync: (name, password, callback) => {
          const user = users.get(name);
          if (!user) return callback(null, false);
          verifyPassword(password, user.passwordHash).then(
            (ok) => callback(null, ok),
            () => callback(null, false),
          );
        },
        getUserRoles: (name) => {
          const user = users.get(name);
          return user ? roleIds(user.role) : [];
        },
      },
    };
    if (config.allowUnsecured)
      logger.warn(
        { endpoint: `opc.tcp://${config.hostname}:${config.port}${config.resourcePath}` },
        "OPC UA: the None security policy is on; traffic and passwords cross the network in clear",
      );
    const server = new OPCUAServer(options);
    this.#server = server;
    await server.initialize();
    await server.start();
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await server.shutdown(0);
    await Promise.all(this.#certificates.map((manager) => manager.dispose()));
    this.#certificates = [];
  }

  get sessions(): number {
    return this.#server?.currentSessionCount ?? 0;
  }

  get subscriptions(): number {
    return this.#server?.currentSubscriptionCount ?? 0;
  }
}
