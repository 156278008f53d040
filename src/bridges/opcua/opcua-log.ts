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

// Installed when this module loads, right after node-opcua: its W27 check runs a moment later.
// Until a logger is given (commands such as opcua-trust), warnings and errors go to stderr.
setWarningLogger((...args) => {
  const line = logLine(args);
  if (IRRELEVANT.test(line)) return;
  if (target) target.warn(line);
  else process.stderr.write(`${line}\n`);
});
setErrorLogger((...args) => {
  const line = logLine(args);
  if (target) target.error(line);
  else process.stderr.write(`${line}\n`);
});
setDebugLogger((...args) => target?.debug(logLine(args)));

/** From here on node-opcua logs through this logger. */
export function routeOpcuaLogs(logger: Logger): void {
  target = logger;
}
