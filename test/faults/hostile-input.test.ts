import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { Discovery, MAX_CAMERAS } from "../../src/camera/discovery.js";
import { type Frame, f, MalformedFrameError, MessageType, vsCodec } from "../../src/camera/wire/index.js";
import { systemClock } from "../../src/lib/clock.js";
import { seededRandom } from "../../src/lib/random.js";
import { sleep } from "../camera/rig.js";
import { freeUdpPort } from "../support/process.js";

const TEMPLATES: Frame[] = [
  {
    type: MessageType.HEARTBEAT,
    flags: 0,
    seq: 0,
    fields: [f.int("uptimeMs", 123), f.text("status", "running")],
  },
  {
    type: MessageType.IO_CHANGE,
    flags: 0,
    seq: 0,
    fields: [f.text("name", "out0"), f.bool("value", true), f.time("time", 1)],
  },
  {
    type: MessageType.CALL,
    flags: 1,
    seq: 9,
    fields: [
      f.record("result", [
        f.list("jobs", [{ kind: "RECORD", value: [f.int("slot", 1), f.text("name", "j")] }]),
      ]),
    ],
  },
];

/** A well-formed ANNOUNCE of a camera with the given serial and announced interval. */
function announce(serial: string, intervalMs: number): Buffer {
  const texts = ["name", "model", "mac", "ip", "inControl", "status", "job", "version"].map((name) =>
    f.text(name, name === "ip" ? "10.0.0.1" : "x"),
  );
  const ints = ["uptimeMs", "inspections", "passed", "failed"].map((name) => f.int(name, 1));
  return vsCodec.encode({
    type: MessageType.ANNOUNCE,
    flags: 0,
    seq: 0,
    fields: [...texts, f.text("serial", serial), ...ints, f.int("intervalMs", intervalMs)],
  });
}

/**
 * How many hostile frames: 10^6 by default. Bounded by count, never by time: on a busy machine the
 * test takes longer and is given the time (FUZZ_TIMEOUT_MS), it does not do less.
 */
const FRAMES = Number(process.env.SMARTCAM_FUZZ_FRAMES ?? 1_000_000);
const FUZZ_TIMEOUT_MS = 600_000;

describe("hostile input", () => {
  it(
    `${FRAMES} random and mutated frames: only the codec's typed error, and the buffer stays within its limit`,
    () => {
      const random = seededRandom(2026);
      const encoded = TEMPLATES.map((t) => vsCodec.encode(t));
      const byReason = new Map<string, number>();
      let decoded = 0;
      const limit = 4_096;
      let decoder = vsCodec.createDecoder({ maxPayload: limit });
      const started = Date.now();
      let overBuffered = 0;
      for (let i = 0; i < FRAMES; i++) {
        let bytes: Buffer;
        const template = encoded[i % encoded.length] as Buffer;
        if (i % 4 === 0) {
          bytes = Buffer.allocUnsafe(Math.floor(random() * 48));
          for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
        } else {
          bytes = Buffer.from(template);
          const edits = 1 + Math.floor(random() * 3);
          for (let e = 0; e < edits; e++)
            bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
          if (i % 4 === 3) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
        }
        try {
          vsCodec.decodeDatagram(bytes, { maxPayload: limit });
          decoded++;
        } catch (error) {
          if (!(error instanceof MalformedFrameError)) throw error;
          byReason.set(error.reason, (byReason.get(error.reason) ?? 0) + 1);
        }
        // The same bytes as a stream: a fresh decoder after each malformed frame, as a new connection would.
        try {
          decoder.push(bytes);
          // A plain comparison, not expect(): a million matcher calls cost more than the decoding.
          if (decoder.buffered > 14 + limit + bytes.length) overBuffered++;
        } catch (error) {
          if (!(error instanceof MalformedFrameError)) throw error;
          decoder = vsCodec.createDecoder({ maxPayload: limit });
        }
      }
      console.info(
        `${FRAMES} hostile frames in ${Date.now() - started} ms: ${decoded} decoded, rejected by reason ${JSON.stringify(Object.fromEntries(byReason))}`,
      );
      expect(overBuffered).toBe(0);
      expect(byReason.size).toBeGreaterThan(3);
    },
    FUZZ_TIMEOUT_MS,
  );

  it("10^5 datagrams at the discovery port: counted, logged once per kind, the registry bounded", async () => {
    const port = await freeUdpPort();
    const kinds: string[] = [];
    const discovery = new Discovery({
      codec: vsCodec,
      clock: systemClock,
      bindAddress: "127.0.0.1",
      port,
      emit: () => undefined,
      onMalformed: (kind) => kinds.push(kind),
    });
    await discovery.start();
    const sender = createSocket("udp4");
    const random = seededRandom(7);
    const rssBefore = process.memoryUsage().rss;
    try {
      for (let i = 0; i < 100_000; i++) {
        let datagram: Buffer;
        if (i % 2 === 0) {
          datagram = Buffer.allocUnsafe(1 + Math.floor(random() * 64));
          for (let j = 0; j < datagram.length; j++) datagram[j] = Math.floor(random() * 256);
        } else {
          // Well-formed announces from ever-new serials with a huge interval: a registry flood.
          datagram = announce(`S${i}`, 2 ** 40);
        }
        sender.send(datagram, port, "127.0.0.1");
        // Paced so that the kernel's receive buffer keeps up: UDP on loopback drops what overflows it.
        if (i % 40 === 0) await sleep(1);
      }
      await sleep(300);
    } finally {
      sender.close();
    }
    const registered = discovery.cameras.length;
    console.info(
      `1e5 datagrams: ${discovery.malformed} malformed (kinds ${kinds.join(", ")}), ${registered} cameras registered (cap ${MAX_CAMERAS}), ${discovery.refused} refused; RSS +${Math.round((process.memoryUsage().rss - rssBefore) / 1e6)} MB`,
    );
    expect(discovery.malformed).toBeGreaterThan(10_000);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(registered).toBe(MAX_CAMERAS);
    expect(discovery.refused).toBeGreaterThan(1_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200e6);
    discovery.stop();
  }, 300_000);

  it("caps the registry even before stop()", async () => {
    const discovery = new Discovery({
      codec: vsCodec,
      clock: systemClock,
      bindAddress: "127.0.0.1",
      port: await freeUdpPort(),
      emit: () => undefined,
    });
    for (let i = 0; i < MAX_CAMERAS + 50; i++) discovery.handle(announce(`S${i}`, 1_000));
    expect(discovery.cameras).toHaveLength(MAX_CAMERAS);
    expect(discovery.refused).toBe(50);
    discovery.stop();
  });
});
