import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

/** A JSON logger whose lines the test reads back. */
export function captureLog(level = "trace"): {
  logger: Logger;
  text: () => string;
  records: () => Record<string, unknown>[];
} {
  let logged = "";
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    }),
  );
  return {
    logger,
    text: () => logged,
    records: () =>
      logged
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
