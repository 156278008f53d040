// Not a benchmark of its own: runs the lossless bridge capacity once, for node --cpu-prof.
import { startBroker } from "./broker.mjs";
import { bridgeCapacity } from "./mqtt.bench.mjs";

const broker = await startBroker();
const { rate } = await bridgeCapacity(broker.url, {
  lossless: true,
  seconds: Number(process.env.SECONDS ?? 4),
  fsync: process.env.FSYNC !== "0",
});
console.log(`lossless: ${Math.round(rate)} reports/s`);
await broker.stop();
