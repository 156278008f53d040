/** Message types of the profile, by name. */
export const MessageType = {
  HELLO: 0x01,
  HEARTBEAT: 0x02,
  ATTACH: 0x03,
  ANNOUNCE: 0x10,
  CHALLENGE: 0x11,
  LOGIN: 0x12,
  LOGOUT: 0x13,
  SET_NETWORK: 0x14,
  IO_LIST: 0x20,
  IO_READ: 0x21,
  IO_WRITE: 0x22,
  IO_PULSE: 0x23,
  IO_SUBSCRIBE: 0x24,
  IO_CHANGE: 0x25,
  SNAP: 0x30,
  LIVE_START: 0x31,
  LIVE_FRAME: 0x32,
  LIVE_STOP: 0x33,
  CALL: 0x40,
  REPORT_OPEN: 0x50,
  REPORT: 0x51,
  REPORT_ACK: 0x52,
  REPORT_RATE: 0x53,
  REPORT_ADD: 0x54,
  REPORT_REMOVE: 0x55,
  REPORT_RECORDS: 0x56,
  QUEUE_INFO: 0x60,
  QUEUE_READ: 0x61,
  QUEUE_TAKE: 0x62,
  QUEUE_CLEAR: 0x63,
} as const;
export type MessageTypeName = keyof typeof MessageType;

const NAMES = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, type]) => [type, name as MessageTypeName]),
);

export function messageTypeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(2, "0")}`;
}

/** Error codes a camera answers with (flags RESPONSE|ERROR, fields code and message). */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "UNKNOWN_TYPE",
  "UNKNOWN_METHOD",
  "NOT_ATTACHED",
  "UNKNOWN_SESSION",
  "NOT_IN_CONTROL",
  "AUTH_FAILED",
  "CONTROLLED_ELSEWHERE",
  "NOT_FOUND",
  "READ_ONLY",
  "BUSY",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** Events never get a response; an out-of-place one is ignored. */
export const EVENT_TYPES: ReadonlySet<number> = new Set([
  MessageType.HEARTBEAT,
  MessageType.ANNOUNCE,
  MessageType.IO_CHANGE,
  MessageType.LIVE_FRAME,
  MessageType.REPORT,
  MessageType.REPORT_ACK,
]);

/** Default ports of the profile; a camera's config may override each. */
export const DEFAULT_PORTS = {
  announce: 49495,
  login: 49493,
  monitor: 49079,
  io: 49049,
  acquire: 49050,
  rpc: 49059,
  reports: 49200,
  queue: 49201,
  reportControl: 49202,
} as const;
export type PortName = keyof typeof DEFAULT_PORTS;
export type Ports = { readonly [K in PortName]: number };
