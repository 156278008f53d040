import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { inspect } from "node:util";
import { z } from "zod";

const REDACTED = "[redacted]";

/**
 * A secret value that cannot leak by accident: JSON, string conversion and util.inspect all
 * print "[redacted]", so logging or printing the config never shows it. Only reveal() gives the value.
 */
export class Secret {
  readonly #value: string;
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** What the environment a secret may be read from offers: systemd's credentials folder. */
export interface SecretEnvironment {
  readonly credentialsDirectory?: string | undefined;
}

const secretInput = z.union([
  z.string().min(1).describe("the secret itself (prefer file or credential)"),
  z.strictObject({ file: z.string().min(1).describe("path of a file that holds the secret") }),
  z.strictObject({
    credential: z
      .string()
      .min(1)
      .regex(/^[^/]+$/, "a credential is a name, not a path")
      .describe("name of a systemd credential (LoadCredential=) in $CREDENTIALS_DIRECTORY"),
  }),
]);

export type SecretInput = z.input<typeof secretInput>;

/** Trailing newlines are what editors and `echo` add to secret files; they are never part of a secret. */
function readSecretFile(path: string): string {
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}

/**
 * A config field that holds a secret. Files are read while the config is parsed, so a missing or
 * unreadable file is a config error that names the key, and nothing reads secrets later.
 */
export function secretSchema(env: SecretEnvironment) {
  return secretInput.transform((input, ctx): Secret => {
    if (typeof input === "string") return new Secret(input, "inline");
    let path: string;
    let source: string;
    if ("file" in input) {
      path = input.file;
      source = `file ${input.file}`;
    } else {
      if (!env.credentialsDirectory) {
        ctx.addIssue({
          code: "custom",
          message: `credential "${input.credential}" given but CREDENTIALS_DIRECTORY is not set`,
        });
        return z.NEVER;
      }
      path = join(env.credentialsDirectory, input.credential);
      source = `credential ${input.credential}`;
    }
    if (!isAbsolute(path) && "file" in input) path = join(process.cwd(), path);
    try {
      const value = readSecretFile(path);
      if (value.length === 0) {
        ctx.addIssue({ code: "custom", message: `secret ${source} is empty` });
        return z.NEVER;
      }
      return new Secret(value, source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      ctx.addIssue({ code: "custom", message: `cannot read secret ${source}: ${code}` });
      return z.NEVER;
    }
  });
}

/** Marks which schema nodes are secrets, so the env layer can offer `<VAR>_FILE` for them. */
export const SECRET_META = "smartcam.secret";
