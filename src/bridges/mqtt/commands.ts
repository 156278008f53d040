import type { IPublishPacket } from "mqtt";
import { Counter, type Registry } from "prom-client";
import { CameraError, type CameraHub, type CameraImage, type CommandName } from "../../camera/index.js";
import type { Clock } from "../../lib/clock.js";
import { COMMAND_ARGS, isCommandName, transactionSchema } from "./command-schemas.js";
import type { MqttConfig } from "./connection.js";
import { reportPayload } from "./payloads.js";
import type { Topics } from "./topics.js";

export interface CommandAnswer {
  readonly status: "ok" | "error";
  readonly data?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly transaction?: string | number;
}

export interface CommandContext {
  readonly config: MqttConfig;
  readonly hub: CameraHub;
  readonly topics: Topics;
  readonly clock: Clock;
  readonly metrics: Registry;
  /** Bridge-level requests (<base>/bridge/request/<name>). */
  readonly bridgeRequests: Readonly<Record<string, () => unknown>>;
  /** Publishes what a command produced besides its answer (a snapped image). */
  readonly publishImage: (camera: string, image: CameraImage, source: string) => string;
}

/** No command needs more: a larger payload is refused before it is parsed. */
export const MAX_COMMAND_BYTES = 64 * 1024;

const fail = (code: string, message: string, transaction?: string | number): CommandAnswer => ({
  status: "error",
  error: { code, message },
  ...(transaction === undefined ? {} : { transaction }),
});

/**
 * Turns command messages into camera commands: parsed and validated first, checked against the
 * camera's allow-list, then run with a timeout. What is refused never reaches the camera.
 */
export class CommandHandler {
  readonly #context: CommandContext;
  readonly #results: Counter<"command" | "result">;

  constructor(context: CommandContext) {
    this.#context = context;
    this.#results = new Counter({
      name: "smartcam_mqtt_commands_total",
      help: "Commands received over MQTT by command and result (ok or an error code)",
      labelNames: ["command", "result"],
      registers: [context.metrics],
    });
  }

  allowed(camera: string): readonly string[] {
    const { perCamera, allow } = this.#context.config.commands;
    return perCamera[camera] ?? allow;
  }

  async handle(packet: IPublishPacket): Promise<{ topic: string; answer: CommandAnswer } | undefined> {
    const { topics } = this.#context;
    const bridgeRequest = topics.parseBridgeRequest(packet.topic);
    const command = topics.parseCommand(packet.topic);
    if (bridgeRequest === undefined && command === undefined) return undefined;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    const replyTopic =
      bridgeRequest !== undefined ? topics.bridgeResponse(bridgeRequest) : `${packet.topic}/response`;
    const answer =
      bridgeRequest !== undefined
        ? this.#bridge(bridgeRequest, payload)
        : await this.#camera(command?.camera ?? "", command?.command ?? "", payload);
    const label = bridgeRequest !== undefined ? `bridge/${bridgeRequest}` : (command?.command ?? "");
    this.#results.inc({
      command: label.slice(0, 64),
      result: answer.status === "ok" ? "ok" : (answer.error?.code ?? "error"),
    });
    return { topic: replyTopic, answer };
  }

  #parse(payload: Buffer): { body: Record<string, unknown>; transaction?: string | number } | CommandAnswer {
    if (payload.length > MAX_COMMAND_BYTES)
      return fail("BAD_REQUEST", `payload of ${payload.length} bytes; at most ${MAX_COMMAND_BYTES}`);
    let body: unknown;
    try {
      body = payload.length === 0 ? {} : JSON.parse(payload.toString("utf8"));
    } catch {
      return fail("BAD_REQUEST", "payload is not JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return fail("BAD_REQUEST", "payload must be a JSON object");
    const { transaction, ...rest } = body as Record<string, unknown>;
    const parsed = transactionSchema.safeParse(transaction);
    if (!parsed.success) return fail("BAD_REQUEST", "transaction must be a string or a number");
    return { body: rest, ...(parsed.data === undefined ? {} : { transaction: parsed.data }) };
  }

  #bridge(name: string, payload: Buffer): CommandAnswer {
    const parsed = this.#parse(payload);
    if ("status" in parsed) return parsed;
    const request = this.#context.bridgeRequests[name];
    if (!request)
      return fail(
        "UNKNOWN_COMMAND",
        `no bridge request ${name}; there are ${Object.keys(this.#context.bridgeRequests).join(", ")}`,
        parsed.transaction,
      );
    return {
      status: "ok",
      data: request(),
      ...(parsed.transaction === undefined ? {} : { transaction: parsed.transaction }),
    };
  }

  async #camera(camera: string, name: string, payload: Buffer): Promise<CommandAnswer> {
    const parsed = this.#parse(payload);
    if ("status" in parsed) return parsed;
    const { transaction } = parsed;
    if (!this.#context.hub.cameras.some((c) => c.id === camera))
      return fail("NOT_FOUND", `no camera ${camera}`, transaction);
    if (!isCommandName(name)) return fail("UNKNOWN_COMMAND", `no command ${name}`, transaction);
    if (!this.allowed(camera).includes(name))
      return fail(
        "NOT_ALLOWED",
        `${name} is not in camera ${camera}'s allow-list (mqtt.commands)`,
        transaction,
      );
    const args = COMMAND_ARGS[name].safeParse(parsed.body);
    if (!args.success) {
      const why = args.error.issues
        .map((issue) => `${issue.path.join(".") || "payload"}: ${issue.message}`)
        .join("; ");
      return fail("BAD_REQUEST", why, transaction);
    }
    try {
      const data = await this.#withTimeout(this.#run(camera, name, args.data));
      return { status: "ok", data, ...(transaction === undefined ? {} : { transaction }) };
    } catch (error) {
      const code = error instanceof CameraError ? error.code : "INTERNAL";
      return fail(code, (error as Error).message, transaction);
    }
  }

  async #run(camera: string, name: CommandName, args: object): Promise<unknown> {
    const { hub } = this.#context;
    const result = await hub.command(camera, name, args as never);
    if (name === "snap" && result && typeof result === "object" && "image" in result) {
      const image = (result as { image: CameraImage }).image;
      const topic = this.#context.publishImage(camera, image, "snap");
      return { topic, width: image.width, height: image.height, format: image.format };
    }
    if (
      (name === "queueRead" || name === "queueTake") &&
      result &&
      typeof result === "object" &&
      "reports" in result
    ) {
      return {
        reports: (result as { reports: Parameters<typeof reportPayload>[0][] }).reports.map(reportPayload),
      };
    }
    return result;
  }

  #withTimeout<T>(work: Promise<T>): Promise<T> {
    const { clock, config } = this.#context;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => reject(new CameraError("TIMEOUT", `no answer within ${config.commands.timeoutMs} ms`)),
        config.commands.timeoutMs,
      );
      work.then(
        (value) => {
          clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
