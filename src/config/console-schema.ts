import { z } from "zod";
import { OPCUA_ROLES, userSchema } from "./opcua-schema.js";
import type { Config } from "./schema.js";

/** The console's roles are OPC UA's ladder: each role includes the ones before it. */
export const CONSOLE_ROLES = OPCUA_ROLES;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export const consoleSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("serve the web console at /console/ on the HTTP endpoint"),
    users: z
      .array(userSchema)
      .default([])
      .refine((users) => new Set(users.map((u) => u.name)).size === users.length, "user names must be unique")
      .describe(
        "who may log in (name, scrypt hash, role observer/operator/engineer); none: the console is read-only",
      ),
    sessionIdleMs: z
      .int()
      .min(60_000)
      .max(7 * 24 * 3_600_000)
      .default(8 * 3_600_000)
      .describe("a login ends after this long without a request"),
    maxClients: z
      .int()
      .min(1)
      .max(1_000)
      .default(100)
      .describe("live connections (open pages) at once; one more is refused with 503"),
  })
  .prefault({})
  .describe("the web console; restarted on reload when changed");

export type ConsoleConfig = Config["http"]["console"];
