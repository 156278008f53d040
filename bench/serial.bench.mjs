// Formatted output: parsed lines/s from a TCP stream through the bridge (framing, the job's
// format parser, journal, outbox) and Mosquitto to a subscriber, against a raw line split of the
// same stream in the same run.
import { connect, createServer } from "node:net";
import { pino } from "pino";
import { CameraHub } from "../dist/camera/hub.js";
import { vsCodec } from "../dist/camera/wire/index.js";
import { buildConfigSchema } from "../dist/config/schema.js";
import { keepInJournal } from "../dist/journal/index.js";
import { systemClock } from "../dist/lib/clock.js";
import { startBroker } from "./broker.mjs";
import { openJournal, startBridge, subscribe } from "./mqtt.bench.mjs";

const LINES = 60_000;
const RUNS = 3;
const logger = pino({ level: "silent" });
const stream = Buffer.from(
  Array.from(
    { length: LINES },
    (_, i) =>
      `${i % 7 ? "PASS" : "FAIL"},${i + 1},${(20 + (i % 100) / 10).toFixed(3)},LOT-${(i * 7919) % 100_000}\r\n`,
  ).join(""),
  "latin1",
);

/** A server that writes the whole stream to each client that connects. */
async function textServer() {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.end(stream);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function rawSplit() {
  const server = await textServer();
  const started = process.hrtime.bigint();
  let lines = 0;
  await new Promise((resolve) => {
    const socket = connect(server.port, "127.0.0.1");
    let carry = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      let data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let at = data.indexOf("\r\n");
      while (at >= 0) {
        data.subarray(0, at).toString("latin1");
        lines++;
        data = data.subarray(at + 2);
        at = data.indexOf("\r\n");
      }
      carry = data;
    });
    socket.on("close", resolve);
  });
  await server.close();
  return lines / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function throughBridge(url) {
  const server = await textServer();
  const base = `ser${Math.floor(Math.random() * 1e6)}`;
  const config = buildConfigSchema().parse({
    cameras: {
      discovery: { enabled: false },
      reconnect: { initialMs: 60_000, maxMs: 60_000 },
      static: [
        {
          id: "t",
          address: "127.0.0.1",
          binary: false,
          formattedOutput: [
            {
              port: server.port,
              parse: { format: "%s,%d,%.3f,%s\r\n", names: ["result", "cycle", "value", "lot"] },
            },
          ],
        },
      ],
    },
    mqtt: { url, baseTopic: base },
  });
  let received = 0;
  let done;
  let timer;
  // A pipeline that lost lines must fail the benchmark, not hang it.
  const all = new Promise((resolve, reject) => {
    done = resolve;
    timer = setTimeout(() => reject(new Error(`${received} of ${LINES} lines arrived in 60 s`)), 60_000);
  });
  const sub = await subscribe(url, `${base}/t/serial/+`, () => {
    if (++received === LINES) done();
  });
  const journal = openJournal(true);
  const hub = new CameraHub({
    config: config.cameras,
    codec: vsCodec,
    clock: systemClock,
    random: Math.random,
    logger,
    clientName: "bench",
  });
  // As the daemon composes them: the journal keeps the lines, the bridge publishes what it holds.
  keepInJournal(hub, journal, logger);
  const bridge = startBridge(config.mqtt, url, hub, journal);
  while (!bridge.connection.connected) await new Promise((r) => setTimeout(r, 5));
  const started = process.hrtime.bigint();
  await hub.start();
  await all;
  clearTimeout(timer);
  const rate = LINES / (Number(process.hrtime.bigint() - started) / 1e9);
  const parseErrors = hub.serial.counters()[0].counters.parseErrors;
  if (parseErrors !== 0) throw new Error(`${parseErrors} lines did not parse`);
  await bridge.stop();
  await hub.stop();
  journal.close();
  await sub.endAsync(true);
  await server.close();
  return rate;
}

export async function run() {
  const broker = await startBroker();
  const parsed = [];
  const raw = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      raw.push(await rawSplit());
      parsed.push(await throughBridge(broker.url));
    }
  } finally {
    await broker.stop();
  }
  return [
    {
      name: `formatted output: ${LINES} lines, TCP -> parse -> MQTT -> subscriber`,
      unit: "lines/s",
      samples: parsed,
      baseline: { name: "raw TCP line split", samples: raw },
    },
  ];
}
