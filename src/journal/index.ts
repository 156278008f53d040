/** The daemon's journal: domain records kept until every output is done with them. */
export { type AppendOptions, Journal, type JournalOptions } from "./journal.js";
export { journalGaps, keepInJournal } from "./keepers.js";
export type { JournalEntry, JournalOutput, OutputFigures } from "./output.js";
export { cameraOf, type GapRecord, type JournalRecord, type Position, reportRecord } from "./records.js";
