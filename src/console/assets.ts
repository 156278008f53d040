import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

interface Asset {
  readonly type: string;
  readonly plain: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/** Where the build puts the console's files: beside this module, in the package (no CDN). */
export const ASSETS_DIR = fileURLToPath(new URL("./assets/", import.meta.url));

/**
 * The console's files, read and compressed once at start: a request never touches the disk, and
 * only these names are served (no path from a request reaches the file system).
 */
export class Assets {
  readonly #files = new Map<string, Asset>();

  constructor(dir = ASSETS_DIR) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (!type) continue;
      const plain = readFileSync(join(dir, name));
      const etag = `"${createHash("sha256").update(plain).digest("base64url").slice(0, 16)}"`;
      this.#files.set(name, { type, plain, gzip: gzipSync(plain, { level: 9 }), etag });
    }
    if (!this.#files.has("index.html")) throw new Error(`the console's files are missing from ${dir}`);
  }

  /** Total gzipped bytes: what a first visit downloads. */
  get gzippedBytes(): number {
    let total = 0;
    for (const file of this.#files.values()) total += file.gzip.length;
    return total;
  }

  serve(
    request: IncomingMessage,
    response: ServerResponse,
    name: string,
    headers: Readonly<Record<string, string>>,
  ): boolean {
    const file = this.#files.get(name);
    if (!file) return false;
    const common = {
      "content-type": file.type,
      etag: file.etag,
      "cache-control": "no-cache",
      vary: "accept-encoding",
      ...headers,
    };
    if (request.headers["if-none-match"] === file.etag) {
      response.writeHead(304, common).end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    const body = gzip ? file.gzip : file.plain;
    response.writeHead(200, {
      ...common,
      ...(gzip ? { "content-encoding": "gzip" } : {}),
      "content-length": String(body.length),
    });
    response.end(request.method === "HEAD" ? undefined : body);
    return true;
  }
}
