import { createSocket, type Socket } from "node:dgram";
import { f } from "../wire/fields.js";
import { EVENT_TYPES, MessageType } from "../wire/messages.js";
import type { Field, Frame } from "../wire/types.js";
import type { SimulatedCamera } from "./camera.js";
import { SimError } from "./sim-error.js";

/** The simulated camera's UDP side: login and control requests, and its announces. */
export class SimUdp {
  readonly #camera: SimulatedCamera;
  #socket: Socket | undefined;
  #announcer: Socket | undefined;

  constructor(camera: SimulatedCamera) {
    this.#camera = camera;
  }

  async start(): Promise<void> {
    const { host, ports, announce } = this.#camera.options;
    const socket = createSocket("udp4");
    socket.on("message", (message, remote) => this.#onDatagram(message, remote.address, remote.port));
    await new Promise<void>((resolve) => socket.bind(ports.login, host, resolve));
    this.#socket = socket;
    if (announce) this.#announcer = createSocket("udp4");
  }

  stop(): void {
    this.#socket?.close();
    this.#announcer?.close();
    this.#socket = undefined;
    this.#announcer = undefined;
  }

  #onDatagram(message: Buffer, address: string, port: number): void {
    const cam = this.#camera;
    if (cam.frozen) return;
    let frame: Frame;
    try {
      frame = cam.options.codec.decodeDatagram(message);
    } catch {
      return;
    }
    if (EVENT_TYPES.has(frame.type)) return;
    const reply = (response: Frame) => this.#socket?.send(cam.options.codec.encode(response), port, address);
    cam.respond(reply, frame, () => {
      if (frame.type !== MessageType.SET_NETWORK) return cam.control.handle(frame, address);
      if (!cam.control.inControl(address)) throw new SimError("NOT_IN_CONTROL", "SET_NETWORK needs control");
      const name = frame.fields.find((field) => field.name === "name");
      if (name?.kind === "TEXT") cam.identity.name = name.value;
      return [];
    });
  }

  announceFields(): Field[] {
    const cam = this.#camera;
    const totals = cam.inspections.reduce(
      (sum, i) => ({ p: sum.p + i.passedCount, f: sum.f + i.failedCount }),
      { p: 0, f: 0 },
    );
    return [
      f.text("name", cam.identity.name),
      f.text("model", cam.identity.model),
      f.text("serial", cam.identity.serial),
      f.text("mac", cam.identity.mac),
      f.text("ip", cam.identity.ip),
      f.text("inControl", cam.control.holder()),
      f.text("status", cam.status),
      f.text("job", cam.job),
      f.text("version", cam.identity.version),
      f.int("uptimeMs", cam.clock.now() - cam.bootTime),
      f.int("inspections", totals.p + totals.f),
      f.int("passed", totals.p),
      f.int("failed", totals.f),
      f.int("intervalMs", cam.options.announce?.intervalMs ?? 1_000),
    ];
  }

  announce(): void {
    const cam = this.#camera;
    const target = cam.options.announce;
    if (cam.frozen || !cam.announcing || !target || !this.#announcer) return;
    const frame = cam.options.codec.encode({
      type: MessageType.ANNOUNCE,
      flags: 0,
      seq: 0,
      fields: this.announceFields(),
    });
    this.#announcer.send(frame, target.port, target.host);
  }
}
