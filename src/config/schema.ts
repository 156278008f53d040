import { z } from "zod";
import { HEAP_DEFAULTS } from "../lib/heap.js";
import { camerasSchema, simulatorSchema } from "./cameras-schema.js";
import { consoleSchema } from "./console-schema.js";
import { mqttSchema } from "./mqtt-schema.js";
import { opcuaSchema } from "./opcua-schema.js";
import { SECRET_META, type SecretEnvironment, secretSchema } from "./secret.js";
import { sparkplugSchema } from "./sparkplug-schema.js";

export interface SchemaEnvironment extends SecretEnvironment {
  /** systemd's StateDirectory= sets STATE_DIRECTORY; it becomes the default state folder. */
  readonly stateDirectory?: string | undefined;
  /** Makes the default MQTT client id and OPC UA application URI stable per machine. */
  readonly hostname?: string | undefined;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * The one definition of the configuration. Types, defaults, the convict layering, the JSON Schema
 * and the documentation of every key all come from here.
 */
export function buildConfigSchema(env: SchemaEnvironment = {}) {
  const secret = () => secretSchema(env).meta({ [SECRET_META]: true });
  return z.strictObject({
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS).default("info").describe("lowest level written to the JSON log on stdout"),
      })
      .prefault({})
      .describe("logging; applied on reload without a restart"),
    http: z
      .strictObject({
        enabled: z.boolean().default(true).describe("serve /healthz and /metrics"),
        host: z
          .string()
          .min(1)
          .default("127.0.0.1")
          .describe("address to bind; keep it on loopback unless needed"),
        port: z.int().min(0).max(65535).default(9180).describe("TCP port; 0 takes any free port"),
        metricsToken: secret()
          .optional()
          .describe("when set, /metrics requires 'Authorization: Bearer <token>'; /healthz stays open"),
        console: consoleSchema,
      })
      .prefault({})
      .describe("health and metrics endpoint; restarted on reload when changed"),
    daemon: z
      .strictObject({
        stateDirectory: z
          .string()
          .min(1)
          .default(env.stateDirectory ?? "state")
          .describe("folder for journals and keys; defaults to $STATE_DIRECTORY under systemd"),
        stopTimeoutMs: z
          .int()
          .min(100)
          .max(300_000)
          .default(10_000)
          .describe("deadline for a graceful stop; after it the process exits anyway"),
        heap: z
          .strictObject({
            growthPercent: z
              .int()
              .min(0)
              .max(400)
              .default(HEAP_DEFAULTS.growthPercent)
              .describe(
                "how far the old generation may grow past what a full collection left, in percent, before the next; 0 (the default) leaves it to V8. 15 keeps 200 cameras near 250 MB, but with hundreds of cameras it collects so often that the daemon falls behind",
              ),
            newSpaceGrowthFactor: z
              .int()
              .min(1)
              .max(8)
              .default(HEAP_DEFAULTS.newSpaceGrowthFactor)
              .describe(
                "how much the young generation may grow each time it fills with survivors; 2 (the default) is V8's own, which lets it reach 32 MB; 1 keeps it at 2 MB, for more frequent minor collections and more promoted to the old generation",
              ),
          })
          .prefault({})
          .describe("V8 heap sizing: memory against collector CPU; both apply on reload"),
        overload: z
          .strictObject({
            lagMs: z
              .int()
              .min(10)
              .max(60_000)
              .default(500)
              .describe("the event loop's p99 delay past which the daemon says it is overloaded"),
            windowMs: z
              .int()
              .min(500)
              .max(600_000)
              .default(5_000)
              .describe("how often the delay is measured"),
          })
          .prefault({})
          .describe(
            "when /healthz, the systemd status and smartcam_overloaded say the daemon cannot keep up",
          ),
      })
      .prefault({})
      .describe("the supervisor itself"),
    cameras: camerasSchema(secret),
    mqtt: mqttSchema(secret, env.hostname ?? "host"),
    opcua: opcuaSchema(env.hostname ?? "localhost"),
    sparkplug: sparkplugSchema(secret, env.hostname ?? "host"),
    simulator: simulatorSchema,
  });
}

export type ConfigSchema = ReturnType<typeof buildConfigSchema>;
/** The validated, frozen configuration that every component receives. */
export type Config = DeepReadonly<z.output<ConfigSchema>>;
/** What a user may write: every key optional where a default exists. */
export type ConfigInput = z.input<ConfigSchema>;

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends { reveal(): string }
    ? T
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;
