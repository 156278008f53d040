import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { encodeRecord } from "./records.js";

/** The journal's prepared statements: one set per open database. */
export interface Statements {
  readonly insert: Database.Statement;
  readonly rewrite: Database.Statement;
  readonly position: Database.Statement;
  readonly oldest: Database.Statement;
  readonly range: Database.Statement;
  readonly sizeOf: Database.Statement;
  readonly release: Database.Statement;
  readonly positions: Database.Statement;
  readonly position1: Database.Statement;
  readonly doneOf: Database.Statement;
  readonly clearDone: Database.Statement;
  readonly addDone: Database.Statement;
  readonly outputs: Database.Statement;
  readonly addOutput: Database.Statement;
  readonly removeOutput: Database.Statement;
}

export interface Totals {
  readonly count: number;
  readonly bytes: number;
  /** The highest seq ever given, 0 for a new journal: seqs are never reused. */
  readonly last: number;
}

/**
 * Opens (creating or migrating) the journal: SQLite in WAL mode, FULL sync when fsync. Records
 * are domain records; `done` holds, per output, the seq ranges that output no longer needs.
 */
export function openStore(
  path: string,
  fsync: boolean,
): { db: Database.Database; statements: Statements; migrated: readonly [number, number] | undefined } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${fsync ? "FULL" : "NORMAL"}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, record BLOB NOT NULL, bytes INTEGER NOT NULL, keep INTEGER NOT NULL DEFAULT 0, camera TEXT, inspection INTEGER, boot INTEGER, cycle INTEGER);
    CREATE TABLE IF NOT EXISTS outputs (name TEXT PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS done (output TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, PRIMARY KEY (output, from_seq));
    CREATE TABLE IF NOT EXISTS positions (camera TEXT NOT NULL, inspection INTEGER NOT NULL, boot INTEGER NOT NULL, cycle INTEGER NOT NULL, PRIMARY KEY (camera, inspection));
  `);
  const statements = prepare(db);
  return { db, statements, migrated: migrateOutbox(db, statements) };
}

/**
 * A journal written before it kept domain records holds rendered MQTT messages in `outbox`: they
 * become "message" records, in their order, for the MQTT output alone (see Journal.open).
 */
function migrateOutbox(db: Database.Database, st: Statements): [number, number] | undefined {
  const legacy = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").get();
  if (!legacy) return undefined;
  const columns = new Set((db.pragma("table_info(outbox)") as { name: string }[]).map((c) => c.name));
  const column = (name: string, otherwise: string) => (columns.has(name) ? name : otherwise);
  const rows = db
    .prepare(
      `SELECT topic, payload, ${column("retain", "0")} AS retain, ${column("keep", "0")} AS keep, ${column("camera", "NULL")} AS camera, ${column("inspection", "NULL")} AS inspection, ${column("boot", "NULL")} AS boot, ${column("cycle", "NULL")} AS cycle FROM outbox ORDER BY seq`,
    )
    .all() as {
    topic: string;
    payload: Buffer;
    retain: number;
    keep: number;
    camera: string | null;
    inspection: number | null;
    boot: number | null;
    cycle: number | null;
  }[];
  let range: [number, number] | undefined;
  db.transaction(() => {
    for (const row of rows) {
      const { topic, payload, retain, keep, camera, inspection, boot, cycle } = row;
      const record = encodeRecord({ type: "message", topic, payload, retain: retain === 1 });
      const seq = Number(
        st.insert.run(null, record, record.length, keep, camera, inspection, boot, cycle).lastInsertRowid,
      );
      range = range ? [range[0], seq] : [seq, seq];
    }
    db.exec("DROP TABLE outbox");
  })();
  return range;
}

/** What is on disk: read at open, and again after a rolled-back transaction. */
export function readTotals(db: Database.Database): Totals {
  const totals = db
    .prepare("SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM records")
    .get() as { count: number; bytes: number };
  const last = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'records'").get() as
    | { seq: number }
    | undefined;
  return { ...totals, last: last?.seq ?? 0 };
}

function prepare(db: Database.Database): Statements {
  return {
    insert: db.prepare(
      "INSERT INTO records (seq, record, bytes, keep, camera, inspection, boot, cycle) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    rewrite: db.prepare("UPDATE records SET record = ?, bytes = ? WHERE seq = ?"),
    position: db.prepare(
      "INSERT INTO positions (camera, inspection, boot, cycle) VALUES (?, ?, ?, ?) ON CONFLICT (camera, inspection) DO UPDATE SET boot = excluded.boot, cycle = excluded.cycle",
    ),
    oldest: db.prepare(
      "DELETE FROM records WHERE seq = (SELECT MIN(seq) FROM records WHERE keep = 0) RETURNING seq, bytes, camera, inspection, boot AS bootTime, cycle",
    ),
    range: db.prepare("SELECT seq, record FROM records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"),
    sizeOf: db.prepare(
      "SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM records WHERE seq BETWEEN ? AND ?",
    ),
    release: db.prepare("DELETE FROM records WHERE seq BETWEEN ? AND ?"),
    positions: db.prepare("SELECT camera, inspection, boot AS bootTime, cycle FROM positions"),
    position1: db.prepare(
      "SELECT camera, inspection, boot AS bootTime, cycle FROM positions WHERE camera = ? AND inspection = ?",
    ),
    doneOf: db.prepare(
      "SELECT from_seq AS fromSeq, to_seq AS toSeq FROM done WHERE output = ? ORDER BY from_seq",
    ),
    clearDone: db.prepare("DELETE FROM done WHERE output = ?"),
    addDone: db.prepare("INSERT INTO done (output, from_seq, to_seq) VALUES (?, ?, ?)"),
    outputs: db.prepare("SELECT name FROM outputs"),
    addOutput: db.prepare("INSERT INTO outputs (name) VALUES (?)"),
    removeOutput: db.prepare("DELETE FROM outputs WHERE name = ?"),
  };
}
