import { z } from "zod";
import { ConfigError } from "../config/errors.js";
import type { Config } from "../config/schema.js";
import { adoptionOf, matchingRule } from "./adoption.js";
import type { Announce } from "./domain.js";

/** What a person gives `check-config --announce`: the announce fields that rules look at. */
const announceInput = z.strictObject({
  name: z.string().min(1),
  serial: z.string().min(1),
  ip: z.string().regex(/^\d+\.\d+\.\d+\.\d+$/, "an IPv4 address"),
  model: z.string().default(""),
  mac: z.string().default(""),
  version: z.string().default(""),
});

/**
 * The effective settings of an announced camera under a config: which rule adopts it and the
 * camera it would run (secrets show redacted), or why none does.
 */
export function announceCheck(config: Config, json: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch (error) {
    throw new ConfigError([{ path: "--announce", message: `not JSON: ${(error as Error).message}` }]);
  }
  const parsed = announceInput.safeParse(input);
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ path: `--announce ${i.path.join(".")}`.trim(), message: i.message })),
    );
  const announce: Announce = {
    ...parsed.data,
    inControl: "",
    status: "unknown",
    job: "",
    uptimeMs: 0,
    inspections: 0,
    passed: 0,
    failed: 0,
    intervalMs: 1_000,
  };
  const adoption = adoptionOf(config.cameras, announce);
  if (adoption) return { adopted: true, rule: adoption.rule, camera: adoption.endpoint };
  const rule = matchingRule(config.cameras, announce);
  return {
    adopted: false,
    why:
      rule < 0 ? "no discovery rule matches it" : `rule ${rule}, the first that matches, says adopt: false`,
  };
}
