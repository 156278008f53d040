import { join } from "node:path";
import {
  AttributeIds,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
} from "node-opcua";
import { type Logger, pino } from "pino";
import { Registry } from "prom-client";
import { OpcuaBridge } from "../../../src/bridges/opcua/bridge.js";
import { ModelStore } from "../../../src/bridges/opcua/model-store.js";
import { OpcuaServer } from "../../../src/bridges/opcua/server.js";
import { buildConfigSchema } from "../../../src/config/schema.js";
import { hashPassword } from "../../../src/lib/passwords.js";
import { type RigOptions, startRig } from "../../camera/rig.js";
import { freePort, tempDir } from "../../support/process.js";

export const PASSWORDS = { olga: "observe-pw", otto: "operate-pw", erin: "engineer-pw" } as const;
export type UserName = keyof typeof PASSWORDS;

export interface OpcuaRigOptions extends RigOptions {
  readonly opcua?: Record<string, unknown>;
  readonly logger?: Logger;
  /** Starts the server only once the camera is online, as the daemon's slower start can. */
  readonly serverAfterOnline?: boolean;
  /** The state directory: one from an earlier rig keeps what that rig's bridge learnt. */
  readonly stateDirectory?: string;
}

/** A simulated camera, the hub, and the OPC UA server and bridge on a free port; PKI in a temp folder. */
export async function startOpcuaRig(options: OpcuaRigOptions = {}) {
  const rig = await startRig(options);
  if (options.serverAfterOnline) await rig.online();
  const stateDirectory = options.stateDirectory ?? tempDir("smartcam-opcua-");
  const users = [
    { name: "olga", passwordHash: await hashPassword(PASSWORDS.olga), role: "observer" },
    { name: "otto", passwordHash: await hashPassword(PASSWORDS.otto), role: "operator" },
    { name: "erin", passwordHash: await hashPassword(PASSWORDS.erin), role: "engineer" },
  ];
  const metrics = new Registry();
  const logger = options.logger ?? pino({ level: process.env.RIG_LOG ?? "silent" });
  let server: OpcuaServer | undefined;
  for (let attempt = 0; !server; attempt++) {
    const config = buildConfigSchema().parse({
      opcua: {
        host: "127.0.0.1",
        hostname: "127.0.0.1",
        port: await freePort(),
        autoAcceptCertificates: true,
        users,
        ...options.opcua,
      },
    }).opcua;
    const candidate = new OpcuaServer({ config, stateDirectory, version: "test", logger });
    try {
      await candidate.start();
      server = candidate;
    } catch (error) {
      await candidate.stop();
      if (attempt >= 3) throw error;
    }
  }
  const store = new ModelStore({ file: join(stateDirectory, "opcua-model.json"), logger });
  store.load();
  const bridge = new OpcuaBridge({ server, hub: rig.hub, logger, metrics, store });
  await bridge.start();
  const clients: OPCUAClient[] = [];

  type Security = { mode?: MessageSecurityMode; policy?: SecurityPolicy; password?: string };

  async function connect(
    user: UserName | "anonymous" = "anonymous",
    security: Security = {},
  ): Promise<ClientSession> {
    const client = await openClient(security);
    const identity: UserIdentityInfo =
      user === "anonymous"
        ? { type: UserTokenType.Anonymous }
        : { type: UserTokenType.UserName, userName: user, password: security.password ?? PASSWORDS[user] };
    return client.createSession(identity);
  }

  /** A client with its secure channel open and no session yet. */
  async function openClient(security: Security = {}): Promise<OPCUAClient> {
    const client = OPCUAClient.create({
      applicationName: "smartcam-test-client",
      endpointMustExist: false,
      securityMode: security.mode ?? MessageSecurityMode.SignAndEncrypt,
      securityPolicy: security.policy ?? SecurityPolicy.Basic256Sha256,
      connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
      clientCertificateManager: new OPCUACertificateManager({
        rootFolder: join(stateDirectory, "client-pki"),
        automaticallyAcceptUnknownCertificate: true,
      }),
    });
    clients.push(client);
    await client.connect(server?.endpointUrl ?? "");
    return client;
  }

  /** Every change of one variable, as delivered: sampling interval 0, a queue that never drops. */
  async function watch(session: ClientSession, nodeId: string) {
    const subscription = await subscribe(session);
    const values: DataValue[] = [];
    const item = await subscription.monitor(
      { nodeId, attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 1_000, discardOldest: false },
      TimestampsToReturn.Both,
    );
    item.on("changed", (value: DataValue) => values.push(value));
    return values;
  }

  return {
    ...rig,
    server,
    bridge,
    metrics,
    stateDirectory,
    connect,
    openClient,
    watch,
    async stop() {
      await Promise.all(clients.map((client) => client.disconnect()));
      bridge.stop();
      await server.stop();
      await rig.stop();
    },
  };
}

export async function subscribe(session: ClientSession): Promise<ClientSubscription> {
  return session.createSubscription2({
    requestedPublishingInterval: 20,
    requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 20,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
}

export type OpcuaRig = Awaited<ReturnType<typeof startOpcuaRig>>;

export { until } from "../../support/until.js";
