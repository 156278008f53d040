import { z } from "zod";

const stateSchema = z.object({ online: z.boolean(), timestamp: z.number().int().nonnegative() });

/** A host's STATE payload, or undefined for anything else. */
export function parseState(payload: Buffer): z.infer<typeof stateSchema> | undefined {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(payload.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
