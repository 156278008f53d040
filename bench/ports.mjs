// Free ports for tests and benchmarks that cannot collide with one another or with the kernel.
//
// A port found free by listening on port 0 and closing again is in the ephemeral range: before the
// caller listens on it, any process's outgoing connection may take it as its local port, and a busy
// machine running many tests at once does exactly that. So ports are handed out below the ephemeral
// range instead, where the kernel never picks one, and each vitest worker takes its own slice of
// that range, so that two workers never hand out the same port. Each port is checked free for both
// TCP and UDP before it is handed out; what something outside the suite takes in between is what
// callers retry on.
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const LOW = 20_000;
const SLICES = 16;

function ephemeralLow() {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > LOW + SLICES * 100) return value;
  } catch {
    // Not Linux: the IANA dynamic range starts at 49152, and Linux's default at 32768.
  }
  return 32_768;
}

const HIGH = Math.min(ephemeralLow(), 49_152);
const SLICE = Math.floor((HIGH - LOW) / SLICES);
// Slice 0 is for processes outside vitest (a benchmark run by hand); workers count from 1.
const slot = Number(process.env.VITEST_POOL_ID ?? 0) % SLICES;
const sliceLow = LOW + slot * SLICE;
// A fresh process in the same worker slot starts elsewhere in the slice than the last one did.
let cursor = Math.floor(Math.random() * SLICE);

async function tcpFree(port) {
  const server = createServer();
  const ok = await new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

async function udpFree(port) {
  const socket = createSocket("udp4");
  const ok = await new Promise((resolve) => {
    socket.once("error", () => resolve(false));
    socket.bind(port, "127.0.0.1", () => resolve(true));
  });
  await new Promise((resolve) => {
    try {
      socket.close(resolve);
    } catch {
      resolve(undefined);
    }
  });
  return ok;
}

/** True when nothing holds the port for TCP or UDP on loopback now. */
export async function portFree(port) {
  return (await tcpFree(port)) && (await udpFree(port));
}

/** The first base of `size` consecutive free ports at the cursor, which then moves past them. */
export async function freeBlock(size = 1) {
  if (size < 1 || size > SLICE)
    throw new RangeError(`a block of ${size} ports does not fit a slice of ${SLICE}`);
  for (let tried = 0; tried < SLICE; tried++) {
    if (cursor + size > SLICE) cursor = 0;
    const base = sliceLow + cursor;
    let taken = -1;
    for (let port = base; port < base + size && taken < 0; port++) if (!(await portFree(port))) taken = port;
    if (taken < 0) {
      cursor += size;
      return base;
    }
    cursor = taken - sliceLow + 1;
  }
  throw new Error(`no ${size} free ports between ${sliceLow} and ${sliceLow + SLICE}`);
}

/** A port free for TCP and UDP that no other test worker will be handed. */
export async function freePort() {
  return freeBlock(1);
}

/** True for the error a listen or bind gives on a port something else holds. */
export function addressInUse(error) {
  return typeof error === "object" && error !== null && error.code === "EADDRINUSE";
}
