// node bench/import-floor.js CSV DB: reads a subscriber CSV with csv-parse and writes every row into
// a new SQLite file with libsql, as herald must, and nothing else: no address checks, no lookup of
// who is already on the list, no duplicate check. The table, index and pragmas are herald's (see
// src/adapters/store/sqlite.ts), the batches are its 5,000 rows a transaction. The bench times it
// as the floor under `herald subscribers import` on the libraries herald is built on.
import { createReadStream, rmSync } from 'node:fs';
import { parse } from 'csv-parse';
import Database from 'libsql';

const [csv, file] = process.argv.slice(2);
for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
const db = new Database(file);
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = NORMAL');
db.exec(`CREATE TABLE subscribers (
  key TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
  topics TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  status_at TEXT NOT NULL, confirm_sent_at TEXT, extra TEXT
) WITHOUT ROWID;
CREATE INDEX subscribers_by_status ON subscribers (status, key);`);
const insert = db.prepare(`INSERT INTO subscribers (key, email, name, status, topics, created_at, updated_at, status_at) VALUES (?, ?, ?, 'active', '[]', ?, ?, ?)`);
const at = new Date().toISOString();
let rows = [];
const flush = () => {
  db.exec('BEGIN IMMEDIATE');
  for (const [email, name] of rows) insert.run(email.toLowerCase(), email, name, at, at, at);
  db.exec('COMMIT');
  rows = [];
};
let header = true;
for await (const record of createReadStream(csv).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }))) {
  if (header) header = false;
  else if (rows.push(record) >= 5000) flush();
}
flush();
const { n } = db.prepare('SELECT count(*) AS n FROM subscribers').get();
db.close();
if (!n) process.exitCode = 1;
