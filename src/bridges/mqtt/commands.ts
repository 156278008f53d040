import type { IPublishPacket } from "mqtt";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { CameraError, type CameraHub, type CameraImage, type CommandName } from "../../camera/index.js";
import type { Clock } from "../../lib/clock.js";
import { FirstOfKind } from "../../lib/first-of-kind.js";
import { allowedCommands } from "../allow-list.js";
import { COMMAND_ARGS, isCommandName, transactionSchema } from "../command-schemas.js";
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
  readonly logger: Logger;
  /** Bridge-level requests (<base>/bridge/request/<name>). */
  readonly bridgeRequests: Readonly<Record<string, () => unknown>>;
  /** Publishes what a command produced besides its answer (a snapped image). */
  readonly publishImage: (camera: string, image: CameraImage, source: string) => string;
}

/** No command needs more: a larger payload is refused before it is parsed. */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** Commands waiting for cameras at once; more are refused BUSY, so a flood cannot pile up. */
export const MAX_PENDING_COMMANDS = 256;

/** A topic name to answer on: no wildcards, no NUL, within MQTT's length. */
export function isTopicName(topic: string): boolean {
  return (
    topic.length > 0 &&
    Buffer.byteLength(topic) <= 65_535 &&
    !topic.includes("+") &&
    !topic.includes("#") &&
    !topic.includes(String.fromCharCode(0))
  );
}

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
  /** Refusals already logged, by command and code: each kind is logged once, then only counted. */
  readonly #logged = new FirstOfKind();
  #pending = 0;

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
    return allowedCommands(this.#context.config.commands, this.#context.hub, camera);
  }

  /** The answer, and where it goes: the MQTT 5 response topic if the request gave a usable one. */
  async handle(
    packet: IPublishPacket,
  ): Promise<{ topic: string; answer: CommandAnswer; correlated: boolean } | undefined> {
    const { topics } = this.#context;
    const bridgeRequest = topics.parseBridgeRequest(packet.topic);
    const command = topics.parseCommand(packet.topic);
    if (bridgeRequest === undefined && command === undefined) return undefined;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    const responseTopic = packet.properties?.responseTopic;
    // A wildcard in a topic the daemon publishes to would make the broker drop its connection.
    const usable = responseTopic !== undefined && isTopicName(responseTopic);
    const replyTopic = usable
      ? responseTopic
      : bridgeRequest !== undefined
        ? topics.bridgeResponse(bridgeRequest)
        : `${packet.topic}/response`;
    const answer =
      responseTopic !== undefined && !usable
        ? fail("BAD_REQUEST", "responseTopic must be a topic name: no wildcards, no NUL")
        : bridgeRequest !== undefined
          ? this.#bridge(bridgeRequest, payload)
          : await this.#guarded(command?.camera ?? "", command?.command ?? "", payload);
    // Labels only from known names: topics are the sender's to choose, and a label set must stay bounded.
    const label =
      bridgeRequest !== undefined
        ? `bridge/${this.#bridgeRequest(bridgeRequest) ? bridgeRequest : "unknown"}`
        : isCommandName(command?.command ?? "")
          ? (command?.command as string)
          : "unknown";
    const result = answer.status === "ok" ? "ok" : (answer.error?.code ?? "error");
    this.#results.inc({ command: label, result });
    this.#refused(label, result, answer.error?.message ?? "", packet.topic);
    return { topic: replyTopic, answer, correlated: usable };
  }

  /** Logs a refusal the first time its kind (command and code) is seen; the counter has the rest. */
  #refused(label: string, code: string, message: string, topic: string): void {
    if (code === "ok" || !this.#logged.first(`${label} ${code}`)) return;
    this.#context.logger.warn(
      { command: label, code, topic: topic.slice(0, 256), reason: message.slice(0, 256) },
      "command refused; further refusals of this kind are only counted (smartcam_mqtt_commands_total)",
    );
  }

  async #guarded(camera: string, name: string, payload: Buffer): Promise<CommandAnswer> {
    if (this.#pending >= MAX_PENDING_COMMANDS)
      return fail("BUSY", `${MAX_PENDING_COMMANDS} commands are already waiting for cameras`);
    this.#pending++;
    try {
      return await this.#camera(camera, name, payload);
    } finally {
      this.#pending--;
    }
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

  /** Own keys only: a request named "constructor" or "toString" is unknown, not Object's. */
  #bridgeRequest(name: string): (() => unknown) | undefined {
    const requests = this.#context.bridgeRequests;
    return Object.hasOwn(requests, name) ? requests[name] : undefined;
  }

  #bridge(name: string, payload: Buffer): CommandAnswer {
    const parsed = this.#parse(payload);
    if ("status" in parsed) return parsed;
    const request = this.#bridgeRequest(name);
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
