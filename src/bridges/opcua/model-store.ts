import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";

/** The OPC UA data types a learnt variable can have: what values.ts makes of datums and fields. */
export const LEARNT_TYPES = ["Boolean", "Int32", "Double", "String", "ByteString", "DateTime"] as const;
export type LearntType = (typeof LEARNT_TYPES)[number];

const variable = z.strictObject({ name: z.string().min(1).max(512), dataType: z.enum(LEARNT_TYPES) });

const cameraModel = z.strictObject({
  identity: z
    .strictObject({
      serial: z.string().optional(),
      name: z.string().optional(),
      model: z.string().optional(),
      version: z.string().optional(),
      mac: z.string().optional(),
      address: z.string().optional(),
    })
    .default({}),
  io: z
    .array(z.strictObject({ name: z.string().min(1).max(256), kind: z.enum(["input", "output", "virtual"]) }))
    .default([]),
  data: z.array(variable).default([]),
  outputs: z
    .array(z.strictObject({ name: z.string().min(1).max(256), fields: z.array(variable).default([]) }))
    .default([]),
});
export type CameraModel = z.infer<typeof cameraModel>;

const fileSchema = z.strictObject({ version: z.literal(1), cameras: z.record(z.string(), cameraModel) });

/**
 * What the OPC UA bridge learnt of each camera (its IO points, datums, formatted-output fields and
 * nameplate), kept in the state directory so that after a restart an offline camera has the same
 * nodes, reading BadNoCommunication until it is back. Written a moment after a change, whole and
 * by rename, so that a crash leaves the old file or the new one, never half of one.
 */
export class ModelStore {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #delayMs: number;
  readonly #cameras = new Map<string, CameraModel>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { file: string; logger: Logger; delayMs?: number }) {
    this.#file = options.file;
    this.#logger = options.logger;
    this.#delayMs = options.delayMs ?? 1_000;
  }

  /** Reads the file; one that is missing is an empty store, one that does not parse is logged and set aside. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.#file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (error) {
      const aside = `${this.#file}.unreadable`;
      renameSync(this.#file, aside);
      this.#logger.warn(
        { file: this.#file, movedTo: aside, err: error },
        "OPC UA model file unreadable: set aside; cameras get their nodes again as they come online",
      );
      return;
    }
    for (const [id, model] of Object.entries(parsed.cameras)) this.#cameras.set(id, model);
  }

  get ids(): string[] {
    return [...this.#cameras.keys()];
  }

  get(id: string): CameraModel | undefined {
    return this.#cameras.get(id);
  }

  /** Keeps the camera's model as it is now, and writes the file soon. */
  put(id: string, model: CameraModel): void {
    this.#cameras.set(id, model);
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.flush(), this.#delayMs);
    this.#timer.unref();
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const body: z.infer<typeof fileSchema> = { version: 1, cameras: Object.fromEntries(this.#cameras) };
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      const temporary = `${this.#file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(body, null, 1)}\n`);
      renameSync(temporary, this.#file);
    } catch (error) {
      this.#logger.error({ err: error, file: this.#file }, "OPC UA model file not written");
    }
  }

  stop(): void {
    if (this.#timer) this.flush();
  }
}
