import { z } from "zod";
import { buildConfigSchema } from "./schema.js";

/** The JSON Schema of what a config file may hold, for editors and validation in deployment pipelines. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(buildConfigSchema(), { io: "input", unrepresentable: "any" });
  return { ...schema, title: "smartcam-bridge configuration" };
}
