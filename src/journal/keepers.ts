import type { Logger } from "pino";
import type { CameraEvent, CameraHub } from "../camera/index.js";
import type { Journal } from "./journal.js";
import { reportRecord } from "./records.js";

/**
 * Journals gap events, which the dropOldest policy never drops: they account for cycles that will
 * never arrive, so they are kept from the cameras' start, as the reports are, not only while an
 * output runs.
 */
export function journalGaps(journal: Journal, logger: Logger): (event: CameraEvent) => void {
  return (event) => {
    if (event.type !== "gap") return;
    journal
      .append(event)
      .catch((error: unknown) => logger.error({ err: error, gap: event }, "gap event not journaled"));
  };
}

/**
 * What the daemon journals of a camera hub, as domain records: lossless reports (with their resume
 * position, before the camera is acknowledged), formatted-output lines (a full journal under the
 * block policy holds back reading the port), IO transitions in order, and gap events. The daemon
 * does this before any output starts, so nothing waits for a connection.
 */
export function keepInJournal(hub: CameraHub, journal: Journal, logger: Logger): void {
  hub.addKeeper((report) => journal.append(reportRecord(report)));
  hub.addLineKeeper((line) => journal.append(line));
  hub.addIoKeeper((event) => journal.append(event));
  hub.events.subscribe(journalGaps(journal, logger));
}
