import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** The journal's prepared statements: one set per open database. */
export interface Statements {
  readonly insert: Database.Statement;
  readonly rewrite: Database.Statement;
  readonly position: Database.Statement;
  readonly remove: Database.Statement;
  readonly oldest: Database.Statement;
  readonly range: Database.Statement;
  readonly positions: Database.Statement;
  readonly position1: Database.Statement;
}

export interface Totals {
  readonly count: number;
  readonly bytes: number;
  /** The highest seq on disk, 0 when empty. */
  readonly last: number;
}

const OUTBOX_COLUMNS = [
  ["camera", "TEXT"],
  ["inspection", "INTEGER"],
  ["boot", "INTEGER"],
  ["cycle", "INTEGER"],
  ["keep", "INTEGER NOT NULL DEFAULT 0"],
  ["retain", "INTEGER NOT NULL DEFAULT 0"],
] as const;

/** Opens (creating or migrating) the outbox database: SQLite in WAL mode, FULL sync when fsync. */
export function openStore(path: string, fsync: boolean): { db: Database.Database; statements: Statements } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${fsync ? "FULL" : "NORMAL"}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL, bytes INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS positions (camera TEXT NOT NULL, inspection INTEGER NOT NULL, boot INTEGER NOT NULL, cycle INTEGER NOT NULL, PRIMARY KEY (camera, inspection));
  `);
  // Journals written before reports carried their position in the outbox gain the columns.
  const columns = new Set((db.pragma("table_info(outbox)") as { name: string }[]).map((c) => c.name));
  for (const [name, type] of OUTBOX_COLUMNS)
    if (!columns.has(name)) db.exec(`ALTER TABLE outbox ADD COLUMN ${name} ${type}`);
  return { db, statements: prepare(db) };
}

/** What is on disk: read at open, and again after a rolled-back transaction. */
export function readTotals(db: Database.Database): Totals {
  return db
    .prepare(
      "SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes, COALESCE(MAX(seq), 0) AS last FROM outbox",
    )
    .get() as Totals;
}

function prepare(db: Database.Database): Statements {
  return {
    insert: db.prepare(
      "INSERT INTO outbox (topic, payload, bytes, camera, inspection, boot, cycle, keep, retain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    rewrite: db.prepare("UPDATE outbox SET payload = ?, bytes = ? WHERE seq = ?"),
    position: db.prepare(
      "INSERT INTO positions (camera, inspection, boot, cycle) VALUES (?, ?, ?, ?) ON CONFLICT (camera, inspection) DO UPDATE SET boot = excluded.boot, cycle = excluded.cycle",
    ),
    remove: db.prepare("DELETE FROM outbox WHERE seq = ? RETURNING bytes"),
    oldest: db.prepare(
      "DELETE FROM outbox WHERE seq = (SELECT MIN(seq) FROM outbox WHERE keep = 0) RETURNING bytes, camera, inspection, boot AS bootTime, cycle",
    ),
    range: db.prepare(
      "SELECT seq, topic, payload, retain FROM outbox WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
    ),
    positions: db.prepare("SELECT camera, inspection, boot AS bootTime, cycle FROM positions"),
    position1: db.prepare(
      "SELECT camera, inspection, boot AS bootTime, cycle FROM positions WHERE camera = ? AND inspection = ?",
    ),
  };
}
