import { z } from "zod";
import type { CommandName } from "../camera/index.js";

const inspection = z.int().min(0).max(1_000);
const point = z.string().min(1).max(255);
const none = z.strictObject({});

/** What each command may take, whichever output it comes from (MQTT, the console): unknown keys are errors. */
export const COMMAND_ARGS = {
  status: none,
  start: none,
  stop: none,
  trigger: z.strictObject({ inspection: inspection.optional() }),
  jobs: none,
  selectJob: z.strictObject({ slot: z.int().min(0).max(1_000) }),
  download: z.strictObject({ file: z.string().min(1).max(255) }),
  flash: none,
  reboot: none,
  ioList: none,
  ioRead: z.strictObject({ point }),
  ioWrite: z.strictObject({ point, value: z.boolean() }),
  ioPulse: z.strictObject({ point, ms: z.int().min(1).max(60_000) }),
  snap: z.strictObject({ snapshot: z.string().min(1).max(255).optional() }),
  liveStart: z.strictObject({ fps: z.number().gt(0).max(60) }),
  liveStop: none,
  queueInfo: z.strictObject({ inspection }),
  queueRead: z.strictObject({
    inspection,
    from: z.int().min(0).optional(),
    count: z.int().min(1).max(1_000),
  }),
  queueTake: z.strictObject({ inspection }),
  queueClear: z.strictObject({ inspection }),
  reportRate: z.strictObject({ inspection, maxRate: z.number().min(0).max(10_000) }),
  reportAdd: z.strictObject({ inspection, path: z.string().min(1) }),
  reportRemove: z.strictObject({ inspection, path: z.string().min(1) }),
  reportRecords: z.strictObject({ inspection }),
  setNetwork: z.strictObject({
    name: z.string().min(1).optional(),
    ip: z.ipv4().optional(),
    mask: z.ipv4().optional(),
    gateway: z.ipv4().optional(),
    dhcp: z.boolean().optional(),
  }),
} satisfies Record<CommandName, z.ZodType>;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_ARGS, name);
}

/** Every payload is an object that may carry a transaction id to echo in the answer. */
export const transactionSchema = z.union([z.string().max(256), z.number()]).optional();
