import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The birth/death sequence number: 0 on the first MQTT CONNECT ever, one more on every new one,
 * 255 rolling over to 0. Kept in the state directory (written before the CONNECT that carries it)
 * so that a host tells a restarted daemon's session from the one it replaced.
 */
export class BdSeqStore {
  readonly #path: string;
  #last: number | undefined;

  constructor(path: string) {
    this.#path = path;
    try {
      const value = (JSON.parse(readFileSync(path, "utf8")) as { bdSeq?: unknown }).bdSeq;
      if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 255)
        this.#last = value as number;
    } catch {
      this.#last = undefined;
    }
  }

  /** The bdSeq of the connection about to be made, made durable first. */
  next(): number {
    const value = this.#last === undefined ? 0 : (this.#last + 1) % 256;
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    const temporary = `${this.#path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ bdSeq: value })}\n`);
    renameSync(temporary, this.#path);
    this.#last = value;
    return value;
  }
}
