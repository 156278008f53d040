import { format } from "node:util";
import { setDebugLogger, setErrorLogger, setWarningLogger } from "node-opcua";
import type { Logger } from "pino";

// Colour codes and node-opcua's padded context columns are noise in a JSON log.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
export function logLine(args: unknown[]): string {
  return format(...args)
    .replace(ANSI, "")
    .replace(/^\d\d:\d\d:\d\d\.\d+Z :\S+\s+:\d+\s+/, "")
    .replace(/^\{ filename: '[^']*', callerline: \d+ \}\s*/, "")
    .trim();
}

/**
 * node-opcua's start-up check of RSA PKCS#1 v1.5 decryption (W27): Node 20 disabled it for
 * CVE-2023-46809, and only the deprecated Basic128Rsa15 and Basic256 policies use it. This server
 * never offers those, so the advice to revert the fix is wrong here and is not passed on.
 */
const IRRELEVANT = /NODE-OPCUA-W27|CVE-2023-46809/;

let target: Logger | undefined;
let now: () => number = Date.now;

/** node-opcua repeats some lines per packet (a client retrying past the connection limit, say). */
const INTERVAL_MS = 60_000;
const recent = new Map<string, { at: number; suppressed: number }>();
const MAX_KINDS = 256;

/**
 * Each kind of line (its text without numbers) at most once a minute, with how many were held
 * back since; the map of kinds is bounded, so hostile variety cannot grow it.
 */
function emit(level: "warn" | "error", line: string): void {
  const kind = line.replace(/\d+/g, "#").slice(0, 200);
  const seen = recent.get(kind);
  const at = now();
  if (seen && at - seen.at < INTERVAL_MS) {
    seen.suppressed++;
    return;
  }
  if (!seen && recent.size >= MAX_KINDS) recent.delete(recent.keys().next().value as string);
  recent.set(kind, { at, suppressed: 0 });
  const suppressed = seen?.suppressed ?? 0;
  if (!target) {
    process.stderr.write(`${line}\n`);
    return;
  }
  if (suppressed > 0) target[level]({ suppressed }, `${line} (and ${suppressed} like it in the last minute)`);
  else target[level](line);
}

// Installed when this module loads, right after node-opcua: its W27 check runs a moment later.
// Until a logger is given (commands such as opcua-trust), warnings and errors go to stderr.
setWarningLogger((...args) => {
  const line = logLine(args);
  if (!IRRELEVANT.test(line)) emit("warn", line);
});
setErrorLogger((...args) => emit("error", logLine(args)));
setDebugLogger((...args) => target?.debug(logLine(args)));

/** From here on node-opcua logs through this logger; `clock` is for tests. */
export function routeOpcuaLogs(logger: Logger, clock: () => number = Date.now): void {
  target = logger;
  now = clock;
  recent.clear();
}
