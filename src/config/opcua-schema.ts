import { z } from "zod";

/** The policies a client may pick; None is separate so that it is never on by accident. */
export const SECURE_POLICIES = ["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] as const;

/** Each role includes the ones before it. */
export const OPCUA_ROLES = ["observer", "operator", "engineer"] as const;
export type OpcuaRole = (typeof OPCUA_ROLES)[number];

const PASSWORD_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

/** A user who logs in with a password: OPC UA's and the web console's. */
export const userSchema = z.strictObject({
  name: z.string().min(1).max(64),
  passwordHash: z
    .string()
    .regex(PASSWORD_HASH, "a hash made by 'smartcam-bridge opcua-hash-password', never a plain password"),
  role: z.enum(OPCUA_ROLES),
});

export function opcuaSchema(hostname: string) {
  return z
    .strictObject({
      enabled: z.boolean().default(true).describe("run the OPC UA server"),
      host: z
        .string()
        .min(1)
        .default("0.0.0.0")
        .describe("address to bind; SCADA usually reaches it over the plant network"),
      port: z.int().min(0).max(65535).default(4840).describe("TCP port; 0 takes any free port"),
      hostname: z
        .string()
        .min(1)
        .default(hostname)
        .describe("the host name in the endpoint URL and the certificate"),
      resourcePath: z
        .string()
        .regex(/^(\/[\w.-]+)*$/, "empty or /path")
        .default("")
        .describe("path after host:port in the endpoint URL"),
      applicationName: z.string().min(1).default("smartcam-bridge"),
      applicationUri: z
        .string()
        .regex(/^urn:\S+$/, "urn:...")
        .default(`urn:${hostname}:smartcam-bridge`)
        .describe("must match the certificate; change it and the certificate is made anew"),
      certificate: z
        .strictObject({
          organization: z.string().min(1).max(64).default("smartcam-bridge").describe("the subject's O="),
          organizationalUnit: z.string().min(1).max(64).optional().describe("the subject's OU="),
          locality: z.string().min(1).max(128).optional().describe("the subject's L="),
          country: z
            .string()
            .regex(/^[A-Z]{2}$/, "two capital letters, as DE")
            .optional()
            .describe("the subject's C="),
          validityDays: z
            .int()
            .min(1)
            .max(36_500)
            .default(1_825)
            .describe("how long a new certificate is valid"),
        })
        .prefault({})
        .describe(
          "the server's own certificate, made on first start; 'opcua-trust renew' makes it anew from these",
        ),
      pkiDirectory: z
        .string()
        .min(1)
        .optional()
        .describe("certificate store (own, trusted, rejected); default: <stateDirectory>/pki"),
      securityPolicies: z
        .array(z.enum(SECURE_POLICIES))
        .min(1)
        .default([...SECURE_POLICIES])
        .describe("offered with Sign and SignAndEncrypt"),
      allowUnsecured: z
        .boolean()
        .default(false)
        .describe("also offer the None policy: anyone on the network reads and writes in clear"),
      anonymous: z
        .boolean()
        .default(true)
        .describe("let clients in without a user name; they can browse, read and subscribe only"),
      autoAcceptCertificates: z
        .boolean()
        .default(false)
        .describe("trust every client certificate on first sight; otherwise use 'opcua-trust accept'"),
      users: z
        .array(userSchema)
        .default([])
        .describe("name, scrypt hash and role (observer, operator, engineer)"),
      maxSessions: z
        .int()
        .min(1)
        .max(1_000)
        .default(100)
        .describe("concurrent client sessions; one more is refused at once with BadTooManySessions"),
      maxQueueSize: z
        .int()
        .min(1)
        .max(100_000)
        .default(10_000)
        .describe("per monitored item: the most changes kept for a slow client before the oldest go"),
    })
    .prefault({})
    .describe("OPC UA server: every camera as a Machine Vision system, plus plain variables");
}
