import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { CONSOLE_ROLES, type ConsoleConfig, type ConsoleRole } from "../config/console-schema.js";
import type { Clock } from "../lib/clock.js";
import { verifyPassword } from "../lib/passwords.js";

export const COOKIE = "smartcam_console";
/** Logins at once: each is a few hundred bytes; a flood of logins evicts the oldest. */
const MAX_SESSIONS = 1_000;

export interface ConsoleSession {
  readonly id: string;
  readonly user: string;
  readonly role: ConsoleRole;
  /** Sent back in X-CSRF-Token with every action: a page of another site cannot read it. */
  readonly csrf: string;
  lastSeen: number;
}

/** True when `role` is `needed` or above it on the ladder. */
export function roleAtLeast(role: ConsoleRole, needed: ConsoleRole): boolean {
  return CONSOLE_ROLES.indexOf(role) >= CONSOLE_ROLES.indexOf(needed);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

/** Logins kept in memory: a restart of the daemon logs everyone out, which is the safe side. */
export class Sessions {
  readonly #config: ConsoleConfig;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, ConsoleSession>();

  constructor(config: ConsoleConfig, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
  }

  /** Without users the console is read-only: nobody can log in, nothing can be done. */
  get readOnly(): boolean {
    return this.#config.users.length === 0;
  }

  async login(name: string, password: string): Promise<ConsoleSession | undefined> {
    const user = this.#config.users.find((u) => u.name === name);
    // An unknown name costs a hash too, so that timing does not tell which names exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) return undefined;
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString("base64url"),
      user: user.name,
      role: user.role,
      csrf: randomBytes(24).toString("base64url"),
      lastSeen: this.#clock.now(),
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The request's live session, if its cookie names one. */
  of(request: IncomingMessage): ConsoleSession | undefined {
    const id = cookieOf(request, COOKIE);
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const now = this.#clock.now();
    if (now - session.lastSeen > this.#config.sessionIdleMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /** The CSRF token the request carries matches its session's. */
  csrfMatches(request: IncomingMessage, session: ConsoleSession): boolean {
    const given = request.headers["x-csrf-token"];
    return typeof given === "string" && sameText(given, session.csrf);
  }

  logout(session: ConsoleSession): void {
    this.#sessions.delete(session.id);
  }

  cookie(session: ConsoleSession | undefined): string {
    const base = "Path=/console; HttpOnly; SameSite=Strict";
    return session ? `${COOKIE}=${session.id}; ${base}` : `${COOKIE}=; ${base}; Max-Age=0`;
  }
}

/** A valid hash of a random password, checked against when the user name is unknown. */
const DUMMY_HASH =
  "scrypt$16384$8$1$c21hcnRjYW0tZHVtbXktc2FsdA==$9bGM2ZQlJf6rJdqv0l2m1Y6XfJcYpGm4pB0oQe2oNn0=";
