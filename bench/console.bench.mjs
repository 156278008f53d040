// The console's cost on the report path: lossy reports through the MQTT bridge with the console's
// feed on the same events and 50 pages' live streams open on a real HTTP server, against the same
// run without the console.
import { createServer, request } from "node:http";
import { ConsoleFeed } from "../dist/console/feed.js";
import { systemClock } from "../dist/lib/clock.js";
import { startBroker } from "./broker.mjs";
import { bridgeCapacity } from "./mqtt.bench.mjs";

const SECONDS = 3;
const RUNS = 3;
const PAGES = 50;

/** The console's feed of cameras c0..c3 and PAGES streams reading it; returns its stop. */
async function consoleOn(events) {
  const feed = new ConsoleFeed(systemClock);
  feed.start(
    [0, 1, 2, 3].map((i) => ({
      id: `c${i}`,
      address: "127.0.0.1",
      availability: "online",
      status: "running",
      job: "bench",
      inControl: "",
      counters: { inspections: 0, passed: 0, failed: 0 },
    })),
  );
  const unsubscribe = events.subscribe(feed.onEvent);
  const server = createServer((_req, res) => feed.attach(res, { cameras: feed.views() }));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  let received = 0;
  const pages = await Promise.all(
    Array.from(
      { length: PAGES },
      () =>
        new Promise((resolve) => {
          const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
            res.on("data", (chunk) => {
              received += chunk.length;
            });
            resolve(req);
          });
          req.on("error", () => undefined);
          req.end();
        }),
    ),
  );
  return async () => {
    unsubscribe();
    for (const req of pages) req.destroy();
    feed.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    if (received === 0) throw new Error("the pages received nothing");
  };
}

export async function run() {
  const broker = await startBroker();
  const off = [];
  const on = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      off.push((await bridgeCapacity(broker.url, { lossless: false, seconds: SECONDS })).rate);
      on.push(
        (await bridgeCapacity(broker.url, { lossless: false, seconds: SECONDS, attach: consoleOn })).rate,
      );
    }
  } finally {
    await broker.stop();
  }
  return [
    {
      name: `lossy reports through the bridge with the console on and ${PAGES} live pages`,
      unit: "reports/s",
      samples: on,
      baseline: { name: "the same, console off", samples: off },
      goal: ">= 0.9x",
    },
  ];
}
