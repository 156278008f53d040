import { z } from "zod";
import type { secretSchema } from "./secret.js";

type SecretField = () => ReturnType<typeof secretSchema>;

/** Commands that only read: what a camera accepts over MQTT unless its allow-list says more. */
export const READ_ONLY_COMMANDS = [
  "status",
  "jobs",
  "ioList",
  "ioRead",
  "snap",
  "queueInfo",
  "queueRead",
  "reportRecords",
];

export function mqttSchema(secret: SecretField, hostname: string) {
  return z
    .strictObject({
      enabled: z.boolean().default(true).describe("run the MQTT bridge"),
      url: z
        .string()
        .regex(/^(mqtt|mqtts|tcp|tls):\/\/[^\s/]+(:\d+)?\/?$/, "mqtt://host:port or mqtts://host:port")
        .optional()
        .describe("the broker; none: the embedded broker when embedded.enabled, else the bridge stays off"),
      baseTopic: z
        .string()
        .regex(/^[^+#]+$/, "no wildcards")
        .refine((topic) => !topic.startsWith("/") && !topic.endsWith("/"), "no leading or trailing /")
        .default("smartcam"),
      clientId: z
        .string()
        .min(1)
        .max(128)
        .default(`smartcam-bridge-${hostname}`)
        .describe("stable per daemon: the broker knows it by this"),
      protocolVersion: z
        .union([z.literal(5), z.literal(4)])
        .default(5)
        .describe("5, falling back to 3.1.1 (4) when the broker refuses 5"),
      username: z.string().optional(),
      password: secret().optional(),
      tls: z
        .strictObject({
          ca: z.string().optional().describe("CA certificate file (PEM)"),
          cert: z.string().optional().describe("client certificate file (PEM)"),
          key: secret().optional().describe("client key (PEM), as a secret"),
          rejectUnauthorized: z.boolean().default(true),
        })
        .prefault({}),
      keepaliveS: z.int().min(5).max(3_600).default(30),
      connectTimeoutMs: z.int().min(500).max(120_000).default(10_000),
      reconnect: z
        .strictObject({ initialMs: z.int().min(10).default(500), maxMs: z.int().min(100).default(4_000) })
        .describe(
          "backoff between connection attempts; maxMs bounds how long after a broker returns the bridge is back",
        )
        .prefault({}),
      journal: z
        .strictObject({
          maxBytes: z
            .int()
            .min(65_536)
            .default(256 * 1024 * 1024)
            .describe("bytes of undelivered messages kept on disk at most"),
          policy: z
            .enum(["block", "dropOldest"])
            .default("block")
            .describe(
              "at the bound: block = stop acknowledging cameras (they slow down, nothing is lost); dropOldest = drop and count",
            ),
          replayPerSecond: z
            .int()
            .min(1)
            .default(500)
            .describe("rate of replaying what a previous run left undelivered"),
          fsync: z
            .boolean()
            .default(true)
            .describe("fsync each group commit: survives power loss, not just a crash"),
          groupCommitMs: z
            .int()
            .min(0)
            .max(100)
            .default(2)
            .describe(
              "under load (the last commit carried several records), wait as long as it took (at most this many ms) before the next: one commit (and fsync) then carries many records; one record at a time commits at once; 0 never waits",
            ),
        })
        .prefault({}),
      maxInflight: z.int().min(1).max(65_535).default(256).describe("QoS 1 messages awaiting PUBACK at once"),
      commands: z
        .strictObject({
          allow: z
            .array(z.string())
            .default(READ_ONLY_COMMANDS)
            .describe("commands every camera accepts; read-only ones by default"),
          perCamera: z
            .record(z.string(), z.array(z.string()))
            .default({})
            .describe("camera id -> its allow-list, replacing the default one"),
          timeoutMs: z.int().min(100).max(600_000).default(10_000),
        })
        .prefault({}),
      embedded: z
        .strictObject({
          enabled: z
            .boolean()
            .default(false)
            .describe("run an embedded broker (aedes) on loopback when no url is set: the demo"),
          host: z.string().default("127.0.0.1"),
          port: z.int().min(0).max(65_535).default(1884),
        })
        .prefault({}),
    })
    .prefault({})
    .describe("the MQTT bridge");
}
