import { createServer, type Server, type Socket } from "node:net";
import { freePort, retryOnCollision } from "./process.js";

/** A plain TCP server that writes text to whoever connects: a camera's formatted-output port. */
export class TextServer {
  port = 0;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  /** Bytes clients wrote to it: a formatted-output client must never write. */
  received = 0;

  get clients(): number {
    return this.#sockets.size;
  }

  async start(): Promise<void> {
    const pick = this.port === 0;
    const listen = async () => {
      if (pick) this.port = await freePort();
      const server = this.#createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      this.#server = server;
    };
    // A port picked here may be taken before the bind; one the test gave must be kept.
    await (pick ? retryOnCollision(listen) : listen());
  }

  #createServer(): Server {
    return createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("data", (chunk: Buffer) => {
        this.received += chunk.length;
      });
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => undefined);
    });
  }

  write(data: string | Buffer): void {
    for (const socket of this.#sockets)
      socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
