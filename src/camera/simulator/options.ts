import { z } from "zod";
import type { SimulateOptions } from "./command.js";

const options = z.strictObject({
  cameras: z.coerce.number().int().min(1).max(500),
  seed: z.coerce.number().int(),
  rate: z.coerce.number().min(0).max(1_000),
  host: z.string().min(1),
  basePort: z.coerce
    .number()
    .int()
    .min(1)
    .max(65_535 - 20 * 500),
  password: z.string().min(1),
  announce: z.union([
    z.literal(false),
    z
      .string()
      .regex(/^[^:]+:\d{1,5}$/, "host:port")
      .transform((value) => {
        const [host = "", port = "0"] = value.split(":");
        return { host, port: Number(port) };
      }),
  ]),
});

/** Validates the simulate command's flags; returns the options or a message naming the bad flag. */
export function parseSimulateOptions(raw: Record<string, unknown>): SimulateOptions | string {
  const parsed = options.safeParse(raw);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `--${issue.path.join(".")}: ${issue.message}`).join("; ");
  }
  const { rate, announce, ...rest } = parsed.data;
  return { ...rest, rateHz: rate, announce: announce === false ? undefined : announce };
}
