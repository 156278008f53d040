import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../lib/clock.js";
import { f, read } from "../wire/fields.js";
import { MessageType } from "../wire/messages.js";
import type { Field, Frame } from "../wire/types.js";
import { SimError } from "./sim-error.js";

const NONCE_LIFE_MS = 10_000;
const MAX_NONCES = 16;

/** Who controls the camera: one source address, by LOGIN lease or a live monitor session. */
export class SimControl {
  readonly #clock: Clock;
  readonly #users: ReadonlyMap<string, string>;
  readonly #leaseMs: number;
  readonly #hasSession: (address: string) => boolean;
  readonly #nonces = new Map<string, { nonce: Buffer; until: number }[]>();
  #holder: string | undefined;
  #leaseUntil = 0;

  constructor(
    clock: Clock,
    users: ReadonlyMap<string, string>,
    leaseMs: number,
    hasSession: (address: string) => boolean,
  ) {
    this.#clock = clock;
    this.#users = users;
    this.#leaseMs = leaseMs;
    this.#hasSession = hasSession;
  }

  /** The address in control now, or "" when none. */
  holder(): string {
    if (!this.#holder) return "";
    if (this.#hasSession(this.#holder) || this.#clock.now() < this.#leaseUntil) return this.#holder;
    this.#holder = undefined;
    return "";
  }

  inControl(address: string): boolean {
    return this.holder() === address;
  }

  reset(): void {
    this.#holder = undefined;
    this.#nonces.clear();
  }

  /** Handles one UDP request from `address`; returns the response fields or throws SimError. */
  handle(frame: Frame, address: string): Field[] {
    const fields = read(frame.fields);
    switch (frame.type) {
      case MessageType.CHALLENGE: {
        const user = fields.text("user");
        const key = `${address}|${user}`;
        const now = this.#clock.now();
        const live = (this.#nonces.get(key) ?? []).filter((n) => n.until > now);
        const nonce = randomBytes(16);
        live.push({ nonce, until: now + NONCE_LIFE_MS });
        this.#nonces.set(key, live.slice(-MAX_NONCES));
        return [f.bytes("nonce", nonce)];
      }
      case MessageType.LOGIN: {
        const user = fields.text("user");
        const proof = Buffer.from(fields.required("proof", "BYTES"));
        const password = this.#users.get(user);
        const key = `${address}|${user}`;
        const now = this.#clock.now();
        const live = (this.#nonces.get(key) ?? []).filter((n) => n.until > now);
        const match =
          password === undefined
            ? -1
            : live.findIndex((n) => {
                const expected = createHmac("sha256", password).update(n.nonce).digest();
                return expected.length === proof.length && timingSafeEqual(expected, proof);
              });
        if (match < 0) throw new SimError("AUTH_FAILED", "unknown user, wrong proof or no live nonce");
        const holder = this.holder();
        if (holder && holder !== address)
          throw new SimError("CONTROLLED_ELSEWHERE", `${holder} is in control`);
        live.splice(match, 1);
        this.#nonces.set(key, live);
        this.#holder = address;
        this.#leaseUntil = now + this.#leaseMs;
        return [f.text("inControl", address), f.int("leaseMs", this.#leaseMs)];
      }
      case MessageType.LOGOUT:
        if (this.inControl(address)) this.#holder = undefined;
        return [];
      default:
        throw new SimError("UNKNOWN_TYPE", `type ${frame.type} is not served on the login port`);
    }
  }
}
