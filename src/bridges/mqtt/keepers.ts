import type { Logger } from "pino";
import type { CameraEvent, CameraHub, IoKeeper, Keeper, LineKeeper, Report } from "../../camera/index.js";
import type { DropNotice } from "./drop-runs.js";
import type { Journal } from "./journal.js";
import { gapPayload, ioMessage, reportPayload, serialPayload } from "./payloads.js";
import type { Topics } from "./topics.js";

// What the journal keeps, in the form the bridge will publish it. The daemon hands these to the
// camera layer and the journal before the bridge starts, so nothing waits for the connection.

const JOURNAL_DROPPED = "dropped from the daemon's full journal (policy dropOldest)";

/**
 * The keeper of formatted-output lines: they have no acknowledgement on the camera side, so the
 * journal keeps them across an outage, and a full journal (block policy) holds back reading the port.
 */
export function journalLineKeeper(journal: Journal, topics: Topics): LineKeeper {
  return (line) =>
    journal.append(topics.serial(line.cameraId, line.port), JSON.stringify(serialPayload(line)));
}

/**
 * The keeper of IO transitions: each one in order, retained (the last one is the point's state),
 * so that transitions during a broker outage or across a daemon restart still arrive.
 */
export function journalIoKeeper(journal: Journal, topics: Topics): IoKeeper {
  return (event) => {
    const { topic, payload } = ioMessage(topics, event);
    return journal.append(topic, payload, { retain: true });
  };
}

/** The gap event that accounts for reports the journal's dropOldest policy dropped. */
export function journalDropNotice(topics: Topics): DropNotice {
  return (run) => ({
    topic: topics.gap(run.camera, run.inspection),
    payload: JSON.stringify(gapPayload({ ...run, reason: JOURNAL_DROPPED })),
  });
}

/** The keeper that makes lossless reports durable: journaled (with the resume position) before the camera is acknowledged. */
export function journalKeeper(journal: Journal, topics: Topics): Keeper {
  return (report: Report) =>
    journal.append(topics.report(report.cameraId, report.inspection), JSON.stringify(reportPayload(report)), {
      position: {
        camera: report.cameraId,
        inspection: report.inspection,
        bootTime: report.bootTime,
        cycle: report.cycle,
      },
    });
}

/**
 * Journals gap events, which the dropOldest policy never drops: they account for cycles that will
 * never arrive, so they are kept from the cameras' start, as the reports are, not only while a
 * bridge runs.
 */
export function journalGaps(journal: Journal, topics: Topics, logger: Logger): (event: CameraEvent) => void {
  return (event) => {
    if (event.type !== "gap") return;
    const payload = JSON.stringify(gapPayload({ ...event, camera: event.cameraId }));
    journal
      .append(topics.gap(event.cameraId, event.inspection), payload, { keep: true })
      .catch((error: unknown) => logger.error({ err: error, gap: payload }, "gap event not journaled"));
  };
}

/** What the daemon journals of a camera hub: lossless reports, formatted-output lines, IO transitions and gap events. */
export function keepInJournal(hub: CameraHub, journal: Journal, topics: Topics, logger: Logger): void {
  hub.addKeeper(journalKeeper(journal, topics));
  hub.addLineKeeper(journalLineKeeper(journal, topics));
  hub.addIoKeeper(journalIoKeeper(journal, topics));
  hub.events.subscribe(journalGaps(journal, topics, logger));
}
