import { format } from "node:util";
import { pino } from "pino";

export type Logger = pino.Logger;
export type LogLevel = pino.LevelWithSilent;

/** Keys that hold secrets wherever they appear in a logged object; Secret values redact themselves too. */
const REDACT_PATHS = [
  "password",
  "token",
  "secret",
  "*.password",
  "*.token",
  "*.secret",
  "*.metricsToken",
  "headers.authorization",
  "*.headers.authorization",
];

/**
 * JSON lines on stdout: journald and container runtimes take them from there. Writes are
 * synchronous so that the last lines before an exit (a fatal error, a forced stop) are not lost.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

const CONSOLE_LEVELS = {
  log: "info",
  info: "info",
  debug: "debug",
  trace: "trace",
  warn: "warn",
  error: "error",
} as const;

/**
 * Third-party libraries (node-opcua among them) print with console.*; turned into log records, those
 * lines keep the stdout stream pure JSON. Returns the function that puts console back.
 */
export function captureConsole(logger: Logger): () => void {
  const target = logger.child({ component: "console" });
  const saved = new Map<string, unknown>();
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    const key = method as keyof typeof CONSOLE_LEVELS;
    saved.set(method, console[key]);
    console[key] = (...args: unknown[]) => target[level](format(...args));
  }
  return () => {
    for (const [method, original] of saved) {
      (console as unknown as Record<string, unknown>)[method] = original;
    }
  };
}
