import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";

/** A small MQTT broker on loopback for the demo, when no broker is configured. It speaks MQTT 3.1.1. */
export class EmbeddedBroker {
  readonly #host: string;
  readonly #port: number;
  #broker: Aedes | undefined;
  #server: Server | undefined;
  #address = "";
  readonly #sockets = new Set<Socket>();

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  get url(): string {
    return `mqtt://${this.#address}`;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, this.#host, () => resolve());
    });
    const address = server.address();
    this.#address =
      typeof address === "object" && address
        ? `${this.#host}:${address.port}`
        : `${this.#host}:${this.#port}`;
    this.#broker = broker;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = undefined;
    this.#broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) {
      for (const socket of this.#sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
