import { createHash, X509Certificate } from "node:crypto";
import { join } from "node:path";
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
} from "node-opcua";
import type { Logger } from "pino";
import type { Config } from "../../config/schema.js";
import { verifyPassword } from "../../lib/passwords.js";
import { certificateFile, certificateGaps, certificatePlan, ensureCertificate } from "./certificate.js";
import { routeOpcuaLogs } from "./opcua-log.js";
import { roleIds } from "./permissions.js";
import { listCertificates } from "./trust.js";

export type OpcuaConfig = Config["opcua"];
export const MACHINE_VISION_URI = "http://opcfoundation.org/UA/MachineVision";
export const DI_URI = "http://opcfoundation.org/UA/DI/";

export interface OpcuaServerOptions {
  readonly config: OpcuaConfig;
  readonly stateDirectory: string;
  readonly version: string;
  readonly logger: Logger;
  /** The daemon's config file, named in the commands the log tells an operator to run. */
  readonly configFile?: string | undefined;
}

export function pkiDirectory(config: OpcuaConfig, stateDirectory: string): string {
  return config.pkiDirectory ?? join(stateDirectory, "pki");
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
    routeOpcuaLogs(logger);

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
    const plan = certificatePlan(config);
    if ((await ensureCertificate(serverCertificates, pki, plan)) === "kept") {
      const gaps = certificateGaps(certificateFile(pki), plan);
      if (gaps.length > 0)
        logger.warn(
          { lacks: gaps, command: this.#command("renew") },
          "the OPC UA server certificate does not cover this configuration: strict clients will refuse it until it is renewed (and trusted again)",
        );
    }
    this.#watchRejections(serverCertificates, pki);

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
      certificateFile: certificateFile(pki),
      privateKeyFile: serverCertificates.privateKey,
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

  /** The opcua-trust command line an operator runs, for this daemon's config. */
  #command(action: string, thumbprint?: string): string {
    const { configFile } = this.#options;
    return [
      "smartcam-bridge opcua-trust",
      action,
      ...(thumbprint ? [thumbprint] : []),
      ...(configFile ? ["--config", configFile] : []),
    ].join(" ");
  }

  /** Client certificates refused this run and not trusted since, by thumbprint. */
  readonly #refused = new Set<string>();
  #pki = "";

  /**
   * node-opcua moves an unknown client's certificate to rejected/ and tells the client only that
   * its channel failed: the operator hears it here, once per certificate, with the command to run.
   */
  #watchRejections(manager: OPCUACertificateManager, pki: string): void {
    this.#pki = pki;
    const reject = manager.rejectCertificate.bind(manager) as (certificate: Buffer) => Promise<void>;
    const watched = async (certificate: Buffer) => {
      await reject(certificate);
      const thumbprint = createHash("sha1").update(certificate).digest("hex");
      if (this.#refused.has(thumbprint)) return;
      this.#refused.add(thumbprint);
      let subject = "";
      try {
        subject = new X509Certificate(certificate).subject.replace(/\n/g, ", ");
      } catch {
        // A certificate node-opcua could read but Node cannot: its thumbprint is enough.
      }
      this.#options.logger.warn(
        { thumbprint, subject, command: this.#command("accept", thumbprint) },
        "OPC UA client refused: its certificate is not trusted; accept it with the command given",
      );
    };
    Object.assign(manager, { rejectCertificate: watched });
  }

  /** Refused client certificates still waiting for an operator's decision. */
  get waitingCertificates(): number {
    if (this.#refused.size === 0) return 0;
    const rejected = new Set(
      listCertificates(this.#pki)
        .filter((entry) => entry.status === "rejected")
        .map((entry) => entry.thumbprint),
    );
    return [...this.#refused].filter((thumbprint) => rejected.has(thumbprint)).length;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await server.shutdown(0);
    await Promise.all(this.#certificates.map((manager) => manager.dispose()));
    this.#certificates = [];
  }

  /** Activated sessions: one whose login failed is counted by node-opcua until it times out, not here. */
  get sessions(): number {
    return this.#server?.engine.getSessions().filter((session) => session.status === "active").length ?? 0;
  }

  get subscriptions(): number {
    return this.#server?.currentSubscriptionCount ?? 0;
  }
}
