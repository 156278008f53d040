import { z } from "zod";
import type { secretSchema } from "./secret.js";

type SecretField = () => ReturnType<typeof secretSchema>;

/** A Sparkplug id: a topic level, so no wildcard and no separator. */
const sparkplugId = z
  .string()
  .min(1)
  .regex(/^[^+#/]+$/, "no +, # or /");

export function sparkplugSchema(secret: SecretField, hostname: string) {
  return z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe("run the Sparkplug B edge node, beside the JSON API or alone"),
      servers: z
        .array(
          z
            .string()
            .regex(/^(mqtt|mqtts|tcp|tls):\/\/[^\s/]+(:\d+)?\/?$/, "mqtt://host:port or mqtts://host:port"),
        )
        .default([])
        .describe(
          "MQTT servers, tried in this order; the edge node moves to the next when the primary host goes offline. None: the embedded broker",
        ),
      groupId: sparkplugId.default("smartcam").describe("the Sparkplug group id"),
      nodeId: sparkplugId
        .default(`smartcam-bridge-${hostname.replace(/[+#/]/g, "_")}`)
        .describe("the edge node id"),
      primaryHostId: sparkplugId
        .optional()
        .describe(
          "when set, births wait for this host's STATE online, and the node leaves a server whose host goes offline",
        ),
      clientId: z.string().min(1).max(128).default(`smartcam-sparkplug-${hostname}`),
      username: z.string().optional(),
      password: secret().optional(),
      keepaliveS: z.int().min(5).max(3_600).default(30),
      connectTimeoutMs: z.int().min(500).max(120_000).default(10_000),
      reconnect: z
        .strictObject({ initialMs: z.int().min(10).default(500), maxMs: z.int().min(100).default(4_000) })
        .prefault({}),
      historicalPerSecond: z
        .int()
        .min(1)
        .default(500)
        .describe(
          "rate of the records held while the host or the server was away, sent after the next birth as is_historical",
        ),
    })
    .prefault({})
    .describe("Sparkplug B 3.0 edge node: its own MQTT connection; the cameras are its devices");
}
