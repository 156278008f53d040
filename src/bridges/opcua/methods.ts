import {
  type ISessionContext,
  type StatusCode,
  StatusCodes,
  type UAMethod,
  type UAObject,
  Variant,
} from "node-opcua";
import { type Level, restrictCall } from "./permissions.js";
import { statusOf } from "./status.js";

export type Handler = (inputs: Variant[], context: ISessionContext) => Promise<unknown[]>;

/** A method refused for the state the vision system is in, with the status OPC 40100 gives it. */
export class Refused extends Error {
  constructor(
    readonly status: StatusCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Binds a Machine Vision method for the lowest role that may call it: node-opcua refuses the rest
 * (BadUserAccessDenied) before the handler runs, so nothing reaches a camera.
 */
export function bindMethod(owner: UAObject, mv: number, name: string, level: Level, handler: Handler): void {
  const method = owner.getMethodByName(name, mv) as UAMethod | null;
  if (!method) throw new Error(`${name} missing from the Machine Vision model`);
  restrictCall(method, level);
  method.bindMethod(async (inputs: Variant[], context: ISessionContext) => {
    try {
      const outputs = await handler(inputs, context);
      return {
        statusCode: StatusCodes.Good,
        outputArguments: outputs.map((output) => new Variant(output as never)),
      };
    } catch (error) {
      return { statusCode: error instanceof Refused ? error.status : statusOf(error) };
    }
  });
}
