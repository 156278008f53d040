import { join } from "node:path";
import { createSocket, type UnixDgramSocket } from "unix-dgram";
import { tempDir } from "./process.js";

export interface Notification {
  readonly at: number;
  readonly fields: Record<string, string>;
}

/** A real Unix datagram socket standing in for systemd's notify socket. */
export class FakeSystemdNotify {
  readonly path = join(tempDir("notify-"), "notify.sock");
  readonly received: Notification[] = [];
  readonly #socket: UnixDgramSocket;

  constructor() {
    this.#socket = createSocket("unix_dgram", (message: Buffer) => {
      const fields: Record<string, string> = {};
      for (const line of message.toString("utf8").split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
      }
      this.received.push({ at: Date.now(), fields });
    });
    this.#socket.bind(this.path);
  }

  has(key: string, value?: string): boolean {
    return this.received.some(
      (n) => n.fields[key] !== undefined && (value === undefined || n.fields[key] === value),
    );
  }

  async waitFor(key: string, value?: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.has(key, value)) {
      if (Date.now() > deadline)
        throw new Error(`no ${key}=${value ?? "*"}; got ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.#socket.close();
  }
}
