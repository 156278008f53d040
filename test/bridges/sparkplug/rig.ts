import { join } from "node:path";
import { pino } from "pino";
import { BdSeqStore } from "../../../src/bridges/sparkplug/bdseq.js";
import { EdgeNode, SPARKPLUG_OUTPUT } from "../../../src/bridges/sparkplug/edge-node.js";
import { buildConfigSchema } from "../../../src/config/schema.js";
import { Journal, keepInJournal } from "../../../src/journal/index.js";
import { systemClock } from "../../../src/lib/clock.js";
import { seededRandom } from "../../../src/lib/random.js";
import { type RigOptions, startRig } from "../../camera/rig.js";
import { TestBroker } from "../../support/mosquitto.js";
import { tempDir } from "../../support/process.js";

export interface SparkplugRigOptions extends RigOptions {
  readonly sparkplug?: Record<string, unknown>;
  readonly commands?: Record<string, unknown>;
  /** Brokers to use; one of the rig's own by default. */
  readonly brokers?: readonly TestBroker[];
  readonly stateDirectory?: string;
}

/** One simulated camera, its hub keeping records in a journal, and an edge node over real Mosquitto. */
export async function startSparkplugRig(options: SparkplugRigOptions = {}) {
  const ownBroker = options.brokers ? undefined : new TestBroker();
  await ownBroker?.start();
  const brokers = options.brokers ?? [ownBroker as TestBroker];
  const stateDirectory = options.stateDirectory ?? tempDir("sparkplug-");
  const config = buildConfigSchema().parse({
    sparkplug: {
      enabled: true,
      servers: brokers.map((b) => b.url),
      groupId: "plant",
      nodeId: "gw1",
      clientId: `gw1-${brokers[0]?.port}`,
      reconnect: { initialMs: 30, maxMs: 200 },
      ...options.sparkplug,
    },
    mqtt: { commands: options.commands ?? {} },
  });
  const logger = pino({ level: process.env.RIG_LOG ?? "silent" });
  const journal = new Journal({
    path: join(stateDirectory, "journal.sqlite"),
    maxBytes: 1 << 26,
    policy: "block",
    fsync: false,
    logger,
    outputs: [SPARKPLUG_OUTPUT],
  });
  journal.open();
  const camera = await startRig({ ...options, beforeStart: (hub) => keepInJournal(hub, journal, logger) });
  const makeNode = () =>
    new EdgeNode({
      config: config.sparkplug,
      servers: config.sparkplug.servers,
      hub: camera.hub,
      journal: journal.output(SPARKPLUG_OUTPUT),
      journalEnd: () => journal.lastSeq,
      commands: config.mqtt.commands,
      bdSeq: new BdSeqStore(join(stateDirectory, "sparkplug-bdseq.json")),
      clock: systemClock,
      random: seededRandom(9),
      logger,
      version: "0.0.0-test",
      statusChanged: () => undefined,
    });
  const rig = {
    brokers,
    camera,
    journal,
    node: makeNode(),
    /** The edge node as a restarted daemon makes it: same state directory, a new process's state. */
    async restartNode() {
      await rig.node.stop();
      rig.node = makeNode();
      rig.node.start();
    },
    async stop() {
      await rig.node.stop();
      await camera.stop();
      journal.close();
      await ownBroker?.stop();
    },
  };
  return rig;
}

export type SparkplugRig = Awaited<ReturnType<typeof startSparkplugRig>>;
