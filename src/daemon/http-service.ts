import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Service, ServiceContext, ServiceHealth, ServiceSpec } from "./service.js";

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice("Bearer ".length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** /healthz for probes (systemd, container HEALTHCHECK, load balancers) and /metrics for Prometheus. */
/** A handler of some paths (the console's): true when it took the request. */
export type HttpHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
) => Promise<boolean>;

export class HttpService implements Service {
  readonly #context: ServiceContext;
  readonly #handlers = new Set<HttpHandler>();
  #server: Server | undefined;
  #address = "";

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  /** host:port actually bound (port 0 in the config takes a free one). */
  get address(): string {
    return this.#address;
  }

  /** Adds a handler tried before the 404; returns the function that removes it. */
  mount(handler: HttpHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async start(): Promise<void> {
    const { host, port } = this.#context.config.http;
    const server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#context.logger.error({ err: error }, "request failed");
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    // Probes open short connections; idle keep-alive sockets must not hold up a stop.
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => this.#context.logger.error({ err: error }, "http server error"));
    const bound = server.address() as AddressInfo;
    this.#address = `${bound.address}:${bound.port}`;
    this.#server = server;
    this.#context.logger.info({ address: this.#address }, "health and metrics listening");
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    for (const handler of this.#handlers) if (await handler(request, response, path)) return;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      const report = this.#context.healthReport();
      response
        .writeHead(report.healthy ? 200 : 503, { "content-type": "application/json" })
        .end(`${JSON.stringify(report)}\n`);
      return;
    }
    if (path === "/metrics") {
      const token = this.#context.config.http.metricsToken;
      if (token && !tokenMatches(request.headers.authorization, token.reveal())) {
        response.writeHead(401, { "www-authenticate": "Bearer" }).end();
        return;
      }
      const { metrics } = this.#context;
      const body = await metrics.metrics();
      response.writeHead(200, { "content-type": metrics.contentType }).end(body);
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  health(): ServiceHealth {
    return this.#server
      ? { healthy: true, detail: `listening on ${this.#address}` }
      : { healthy: false, detail: "stopped" };
  }
}

export const httpServiceSpec: ServiceSpec = {
  name: "http",
  configKeys: ["http"],
  enabled: (config) => config.http.enabled,
  create: (context) => new HttpService(context),
};
