import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { allowedCommands } from "../bridges/allow-list.js";
import { COMMAND_ARGS } from "../bridges/command-schemas.js";
import { CameraError, type CameraHub, type CommandName } from "../camera/index.js";
import type { Config } from "../config/schema.js";
import type { Assets } from "./assets.js";
import type { ConsoleFeed } from "./feed.js";
import { imageFile } from "./image.js";
import { type ConsoleSession, roleAtLeast, type Sessions } from "./sessions.js";

/** Actions the console offers, each with the lowest role that may take it. */
export const ACTIONS = {
  trigger: "operator",
  start: "operator",
  stop: "operator",
  snap: "operator",
  ioWrite: "operator",
} as const;
type Action = keyof typeof ACTIONS;

const MAX_BODY = 16 * 1024;
const MAX_LOGINS_AT_ONCE = 4;
const loginBody = z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(1_024) });

export interface RoutesOptions {
  readonly config: Config;
  readonly hub: CameraHub;
  readonly feed: ConsoleFeed;
  readonly sessions: Sessions;
  readonly assets: Assets;
  readonly daemon: () => unknown;
  /** Counts a refused or bad request by why. */
  readonly refused: (reason: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A path segment as text; a malformed escape is the client's error, not the daemon's. */
function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "malformed escape in the path");
  }
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...SECURITY_HEADERS,
      ...headers,
    })
    .end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  if (!String(request.headers["content-type"] ?? "").startsWith("application/json"))
    throw new HttpError(415, "BAD_REQUEST", "send application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, "TOO_LARGE", `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return size === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "the body is not JSON");
  }
}

/** The web console's HTTP side: its page and assets, its state and live events, login and actions. */
export class ConsoleRoutes {
  readonly #o: RoutesOptions;
  #verifying = 0;

  constructor(options: RoutesOptions) {
    this.#o = options;
  }

  /** Handles a request under /console; false for any other path. */
  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    if (path !== "/console" && !path.startsWith("/console/")) return false;
    try {
      await this.#route(request, response, path);
    } catch (error) {
      const known = error instanceof HttpError ? error : undefined;
      if (!known) throw error;
      this.#o.refused(known.code);
      if (!response.headersSent)
        json(response, known.status, {
          status: "error",
          error: { code: known.code, message: known.message },
        });
    }
    return true;
  }

  async #route(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? "GET";
    const get = method === "GET" || method === "HEAD";
    if (path === "/console") {
      response.writeHead(308, { location: "/console/" }).end();
      return;
    }
    if (get && (path === "/console/" || path.startsWith("/console/assets/"))) {
      const name = path === "/console/" ? "index.html" : path.slice("/console/assets/".length);
      if (!this.#o.assets.serve(request, response, name, SECURITY_HEADERS))
        throw new HttpError(404, "NOT_FOUND", "no such file");
      return;
    }
    const session = this.#o.sessions.of(request);
    if (get && path === "/console/api/state") return json(response, 200, this.#snapshot(session));
    if (get && path === "/console/api/events") {
      if (this.#o.feed.clients >= this.#o.config.http.console.maxClients)
        throw new HttpError(503, "BUSY", "too many open consoles; try again later");
      this.#o.feed.attach(response, this.#snapshot(session));
      return;
    }
    const image = /^\/console\/api\/cameras\/([^/]+)\/image$/.exec(path);
    if (get && image) {
      const file = imageFile(this.#o.feed.image(segment(image[1] as string)));
      if (!file) throw new HttpError(404, "NOT_FOUND", "no image of this camera yet");
      response
        .writeHead(200, { "content-type": file.type, "cache-control": "no-store", ...SECURITY_HEADERS })
        .end(file.data);
      return;
    }
    if (method !== "POST") throw new HttpError(405, "METHOD", "not a method this path takes");
    // Same-origin only: a page of another site cannot post here (SameSite cookie, CSRF token, and this).
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      origin !== `http://${request.headers.host}` &&
      origin !== `https://${request.headers.host}`
    )
      throw new HttpError(403, "FORBIDDEN", "cross-origin request refused");
    if (path === "/console/api/login") return this.#login(request, response);
    if (this.#o.sessions.readOnly)
      throw new HttpError(403, "READ_ONLY", "the console is read-only: no users are configured");
    if (!session) throw new HttpError(401, "UNAUTHENTICATED", "log in first");
    if (!this.#o.sessions.csrfMatches(request, session))
      throw new HttpError(403, "CSRF", "missing or wrong CSRF token; reload the page");
    if (path === "/console/api/logout") {
      this.#o.sessions.logout(session);
      return json(response, 200, { status: "ok" }, { "set-cookie": this.#o.sessions.cookie(undefined) });
    }
    const action = /^\/console\/api\/cameras\/([^/]+)\/actions\/([A-Za-z]+)$/.exec(path);
    if (!action) throw new HttpError(404, "NOT_FOUND", "no such action");
    await this.#act(request, response, session, segment(action[1] as string), action[2] as string);
  }

  async #login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.#o.sessions.readOnly)
      throw new HttpError(403, "READ_ONLY", "the console is read-only: no users are configured");
    const body = loginBody.safeParse(await readJson(request));
    if (!body.success) throw new HttpError(400, "BAD_REQUEST", "give a name and a password");
    // Each login costs a scrypt hash: a flood of them must not take the daemon's CPU.
    if (this.#verifying >= MAX_LOGINS_AT_ONCE)
      throw new HttpError(429, "BUSY", "too many logins at once; try again");
    this.#verifying++;
    const session = await this.#o.sessions
      .login(body.data.name, body.data.password)
      .finally(() => this.#verifying--);
    if (!session) throw new HttpError(401, "BAD_LOGIN", "wrong name or password");
    json(response, 200, this.#who(session), { "set-cookie": this.#o.sessions.cookie(session) });
  }

  async #act(
    request: IncomingMessage,
    response: ServerResponse,
    session: ConsoleSession,
    camera: string,
    name: string,
  ): Promise<void> {
    if (!Object.hasOwn(ACTIONS, name))
      throw new HttpError(404, "NOT_FOUND", `the console has no action ${name}`);
    const command = name as Action;
    if (!roleAtLeast(session.role, ACTIONS[command]))
      throw new HttpError(
        403,
        "FORBIDDEN",
        `${command} needs the role ${ACTIONS[command]}; ${session.user} is ${session.role}`,
      );
    if (!this.#o.hub.cameras.some((c) => c.id === camera))
      throw new HttpError(404, "NOT_FOUND", `no camera ${camera}`);
    if (!allowedCommands(this.#o.config.mqtt.commands, this.#o.hub, camera).includes(command))
      throw new HttpError(403, "NOT_ALLOWED", `${command} is not in the allow-list of ${camera}`);
    const args = COMMAND_ARGS[command].safeParse(await readJson(request));
    if (!args.success)
      throw new HttpError(
        400,
        "BAD_REQUEST",
        `bad arguments for ${command}: ${args.error.issues[0]?.message ?? "invalid"}`,
      );
    try {
      const result = await this.#o.hub.command(camera, command as CommandName, args.data as never);
      json(response, 200, { status: "ok", data: command === "snap" ? {} : result });
    } catch (error) {
      if (!(error instanceof CameraError)) throw error;
      throw new HttpError(409, error.code, error.message);
    }
  }

  #who(session: ConsoleSession | undefined) {
    return {
      mode: this.#o.sessions.readOnly ? "read-only" : session ? "signed-in" : "signed-out",
      ...(session ? { user: session.user, role: session.role, csrf: session.csrf } : {}),
    };
  }

  #snapshot(session: ConsoleSession | undefined) {
    const actions = (camera: string) =>
      session
        ? allowedCommands(this.#o.config.mqtt.commands, this.#o.hub, camera).filter(
            (name): name is Action =>
              Object.hasOwn(ACTIONS, name) && roleAtLeast(session.role, ACTIONS[name as Action]),
          )
        : [];
    return {
      session: this.#who(session),
      // Every action a role may take, so that a page can show what is refused and why.
      offered: session
        ? Object.keys(ACTIONS).filter((a) => roleAtLeast(session.role, ACTIONS[a as Action]))
        : [],
      cameras: this.#o.feed.views().map((view) => ({ ...view, actions: actions(view.state.id) })),
      daemon: this.#o.daemon(),
    };
  }
}
