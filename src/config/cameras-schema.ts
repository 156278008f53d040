import { isIPv4 } from "node:net";
import { z } from "zod";
import type { DeepReadonly } from "./schema.js";
import type { secretSchema } from "./secret.js";

type SecretField = () => ReturnType<typeof secretSchema>;

const port = () => z.int().min(1).max(65535);

const portOverrides = z
  .strictObject({
    login: port().optional(),
    monitor: port().optional(),
    io: port().optional(),
    acquire: port().optional(),
    rpc: port().optional(),
    reports: port().optional(),
    queue: port().optional(),
    reportControl: port().optional(),
  })
  .describe(
    "port overrides; the profile's defaults otherwise (49493, 49079, 49049, 49050, 49059, 49200, 49201, 49202)",
  );

const reportStream = z.strictObject({
  inspection: z.int().min(0).default(0),
  lossless: z
    .boolean()
    .default(true)
    .describe("lossless: acknowledged, never skipped; lossy: rate-limited, may skip"),
  window: z.int().min(1).max(1024).default(8).describe("lossless: reports in flight before the camera waits"),
  maxRate: z.number().min(0).default(0).describe("lossy: reports per second at most; 0 = no limit"),
  images: z.boolean().default(false).describe("ask for the report's images"),
});

const fieldType = z.enum(["int", "float", "hex", "octal", "string", "char", "bool"]);

/** One formatted-output port: how its byte stream is cut into lines and each line into fields. */
const formattedOutput = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 letters, digits, '_' or '-'")
      .optional()
      .describe(
        "names the output in OPC UA, so a port change keeps its NodeIds; default Output<n>, n from 1 in list order",
      ),
    port: z.int().min(1).max(65535).default(49211).describe("49211 to 49214 on a real camera"),
    framing: z
      .union([
        z.strictObject({ terminator: z.string().min(1).describe("C escapes allowed: \\r\\n") }),
        z.strictObject({ fixedLength: z.int().min(1).max(1_048_576) }),
        z.strictObject({
          quietMs: z.int().min(1).max(60_000).describe("a line ends after this long without bytes"),
        }),
      ])
      .default({ terminator: "\\r\\n" }),
    maxLineLength: z
      .int()
      .min(1)
      .max(1_048_576)
      .default(4_096)
      .describe("a longer line is counted and skipped"),
    encoding: z.enum(["latin1", "utf8", "ascii"]).default("latin1"),
    parse: z
      .union([
        z.strictObject({
          format: z.string().min(1).describe("the job's printf-style format"),
          names: z.array(z.string().min(1)),
        }),
        z.strictObject({
          regex: z.string().min(1).describe("named groups become fields"),
          types: z.record(z.string(), fieldType).default({}),
        }),
        z.strictObject({
          csv: z.strictObject({
            delimiter: z.string().min(1).default(","),
            quote: z.string().length(1).optional(),
            names: z.array(z.string().min(1)).min(1),
            types: z.record(z.string(), fieldType).default({}),
          }),
        }),
      ])
      .optional()
      .describe("none: the raw line only"),
  })
  .superRefine((value, ctx) => {
    if (value.parse && "regex" in value.parse) {
      try {
        new RegExp(value.parse.regex);
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          path: ["parse", "regex"],
          message: `not a regular expression: ${(error as Error).message}`,
        });
      }
    }
  });

export type FormattedOutputConfig = DeepReadonly<z.output<typeof formattedOutput>>;
export type ReportStreamSetting = DeepReadonly<z.output<typeof reportStream>>;

const cameraId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 letters, digits, '_' or '-' (it names topics and nodes)");

/** What every camera gets unless its own entry says otherwise. */
export function cameraSettings(secret: SecretField) {
  return {
    user: z.string().min(1).default("admin"),
    password: secret().optional().describe("the camera's password for LOGIN (control)"),
    control: z
      .enum(["never", "onDemand", "hold"])
      .default("onDemand")
      .describe(
        "never: no LOGIN; onDemand: LOGIN for a command that needs control, LOGOUT after; hold: keep control",
      ),
    reports: z
      .array(reportStream)
      .default([{ inspection: 0, lossless: true, window: 8, maxRate: 0, images: false }]),
    manufacturer: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("the maker's name on the OPC UA nameplate: the camera does not announce it"),
    firstContact: z
      .enum(["recover", "live"])
      .default("recover")
      .describe(
        "cycles from before the daemon first heard of an inspection: recover = what the camera's part queue holds, as recovered reports; live = none, the record starts with the first live report",
      ),
  };
}

const commandList = () =>
  z
    .array(z.string().min(1))
    .optional()
    .describe("this camera's command allow-list (MQTT and every other output); else mqtt.commands");

const CIDR = /^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/;

function regexText(what: string) {
  return z.string().refine((pattern) => {
    try {
      new RegExp(pattern);
      return true;
    } catch {
      return false;
    }
  }, `${what}: a regular expression`);
}

export function camerasSchema(secret: SecretField) {
  const settings = cameraSettings(secret);
  /** What one camera's entry may say for itself, a static one or a discovery rule's. */
  const ownSettings = {
    ports: portOverrides.optional(),
    user: settings.user.optional(),
    password: settings.password,
    control: settings.control.optional(),
    reports: z.array(reportStream).optional(),
    firstContact: settings.firstContact.unwrap().optional(),
    manufacturer: settings.manufacturer,
    commands: commandList(),
    formattedOutput: z
      .array(formattedOutput)
      .default([])
      .describe("formatted-output ports to read (plain TCP text)"),
  };
  const staticCamera = z.strictObject({
    id: cameraId.describe("stable name of the camera in topics and OPC UA, kept across renames"),
    address: z.string().refine(isIPv4, "an IPv4 address").describe("the camera's IPv4 address"),
    serial: z
      .string()
      .min(1)
      .optional()
      .describe("the camera's serial, when known: matches its announces and fixes report ids"),
    ...ownSettings,
    binary: z
      .boolean()
      .default(true)
      .describe("false: a camera reached only through its formatted-output ports"),
  });
  /** Settings a discovery rule gives the cameras it adopts: what a static entry can say, but the address. */
  const rule = z.strictObject({
    match: z
      .strictObject({
        namePattern: regexText("namePattern").optional().describe("the announced name matches"),
        serial: z.string().min(1).optional().describe("the announced serial is this"),
        model: z.string().min(1).optional().describe("the announced model is this"),
        subnet: z.string().regex(CIDR, "CIDR, as 192.168.1.0/24").optional().describe("the address is in it"),
      })
      .refine(
        (m) => Object.values(m).some((v) => v !== undefined),
        "at least one of namePattern, serial, model, subnet",
      )
      .describe("every condition given must hold"),
    adopt: z.boolean().default(true).describe("false: cameras this rule matches are not run"),
    ...ownSettings,
  });
  return z
    .strictObject({
      static: z.array(staticCamera).default([]).describe("cameras to run whether or not they announce"),
      discovery: z
        .strictObject({
          enabled: z.boolean().default(true).describe("listen for ANNOUNCE datagrams"),
          bindAddress: z.string().default("0.0.0.0"),
          port: port().default(49495),
          rules: z
            .array(rule)
            .default([])
            .describe(
              "which announced cameras to run and with what settings; the first rule that matches wins, then adopt",
            ),
          adopt: z
            .strictObject({
              namePattern: regexText("namePattern")
                .optional()
                .describe("run announced cameras whose name matches"),
              subnets: z
                .array(z.string().regex(CIDR, "CIDR, as 192.168.1.0/24"))
                .default([])
                .describe("run announced cameras whose address is in one of these"),
            })
            .prefault({})
            .describe(
              "shorthand for rules with cameras.defaults' settings, tried after rules; none by default",
            ),
        })
        .prefault({}),
      defaults: z.strictObject(settings).prefault({}),
      allowSetNetwork: z
        .boolean()
        .default(false)
        .describe("allow the setNetwork command (changes a camera's IP)"),
      requestTimeoutMs: z.int().min(100).max(120_000).default(5_000),
      connectTimeoutMs: z.int().min(100).max(60_000).default(3_000),
      reconnect: z
        .strictObject({
          initialMs: z.int().min(10).default(1_000),
          maxMs: z.int().min(100).default(10_000),
        })
        .prefault({}),
    })
    .prefault({})
    .describe("which cameras to run and how to talk to them");
}

export const simulatorSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe("run simulated cameras inside the daemon (the demo) and bridge them"),
    cameras: z.int().min(1).max(500).default(3),
    seed: z.int().default(1),
    rateHz: z.number().min(0).max(1_000).default(2).describe("inspection cycles per second per camera"),
    host: z.string().default("127.0.0.1"),
    basePort: port()
      .default(21000)
      .describe(
        "camera i listens on basePort + 20*i and up; keep below 32768, where the system picks ports for outgoing connections",
      ),
    password: z
      .string()
      .min(1)
      .default("simulator")
      .describe("what the simulated cameras accept for LOGIN; not a secret"),
  })
  .prefault({})
  .describe("embedded simulated cameras; off unless asked for");
