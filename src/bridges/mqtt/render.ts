import type { JournalRecord } from "../../journal/index.js";
import { gapPayload, ioMessage, reportJson, serialPayload } from "./payloads.js";
import type { Topics } from "./topics.js";

export interface MqttMessage {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly retain: boolean;
}

/**
 * A journal record as the MQTT JSON API publishes it, rendered when it is sent. A replayed one
 * (left undelivered by a previous run) says so in its JSON.
 */
export function renderRecord(topics: Topics, record: JournalRecord, replayed: boolean): MqttMessage {
  const flag = replayed ? { replayed: true } : {};
  switch (record.type) {
    case "report": {
      const { report } = record;
      const payload = reportJson(report, flag);
      return { topic: topics.report(report.cameraId, report.inspection), payload, retain: false };
    }
    case "gap":
      return {
        topic: topics.gap(record.cameraId, record.inspection),
        payload: JSON.stringify({ ...gapPayload({ ...record, camera: record.cameraId }), ...flag }),
        retain: false,
      };
    case "serial":
      return {
        topic: topics.serial(record.cameraId, record.port),
        payload: JSON.stringify({ ...serialPayload(record), ...flag }),
        retain: false,
      };
    case "io": {
      const { topic, payload } = ioMessage(topics, record, replayed);
      return { topic, payload, retain: true };
    }
    case "message":
      return {
        topic: record.topic,
        payload: replayed ? markReplayed(record.payload) : Buffer.from(record.payload),
        retain: record.retain,
      };
  }
}

/** A message an older daemon rendered: the flag is added to its JSON. */
function markReplayed(payload: Uint8Array): Buffer {
  try {
    const body = JSON.parse(Buffer.from(payload).toString("utf8")) as Record<string, unknown>;
    return Buffer.from(JSON.stringify({ ...body, replayed: true }));
  } catch {
    return Buffer.from(payload);
  }
}
