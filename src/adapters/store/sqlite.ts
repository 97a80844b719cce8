// The embedded default store: one SQLite file (WAL) holding the subscribers, the delivery log and
// the newsletter's state, so a status change and its delivery record commit together and a
// subscribe is one indexed write. libsql is better-sqlite3's API with a prebuilt binary: it
// installs from the npm registry with no compile step (see "The database" in the README).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'libsql';
import { HeraldError } from '../../errors.js';
import type { Change, DeliveryLog, DeliveryUpdate, NewsletterState, PostRecord, SendLock, Store, SubscriberStore } from '../../newsletter/ports.js';
import { STATUSES, type Status } from '../../newsletter/subscriber.js';
import { queuedRecipients, toDelivery, toPostRecord, toSubscriber, type Row } from './rows.js';

type Db = InstanceType<typeof Database>;
type Query = { all(...params: unknown[]): unknown[] };

const SCHEMA_VERSION = 2;
// How long a delivery outcome waits for others to commit with it (see record).
const RECORD_WINDOW_MS = 4;

// What each version adds to a database made by the one before; run in order, in one transaction.
const MIGRATIONS: Record<number, string> = {
  // 2: bounces and complaints that come back after a message was accepted.
  2: `ALTER TABLE subscribers ADD COLUMN soft_bounces INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE deliveries ADD COLUMN returned TEXT;
      ALTER TABLE deliveries ADD COLUMN returned_at TEXT;
      ALTER TABLE deliveries ADD COLUMN returned_reason TEXT;
      ALTER TABLE deliveries ADD COLUMN token TEXT;`,
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscribers (
  key TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  topics TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  status_at TEXT NOT NULL,
  confirm_sent_at TEXT,
  extra TEXT,
  soft_bounces INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscribers_by_status ON subscribers (status, key);
CREATE TABLE IF NOT EXISTS posts (
  key TEXT PRIMARY KEY,
  entry_id TEXT NOT NULL,
  file TEXT NOT NULL,
  title_date TEXT NOT NULL,
  at_baseline INTEGER NOT NULL DEFAULT 0,
  sent_at TEXT,
  recipients INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
  post TEXT NOT NULL,
  recipient TEXT NOT NULL,
  round INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  queued_at TEXT NOT NULL,
  at TEXT NOT NULL,
  provider_id TEXT,
  reason TEXT,
  returned TEXT,
  returned_at TEXT,
  returned_reason TEXT,
  token TEXT,
  PRIMARY KEY (post, recipient, round)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_queued ON deliveries (recipient, post, round) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS deliveries_resends ON deliveries (post, round) WHERE round > 0;
CREATE INDEX IF NOT EXISTS deliveries_submitted ON deliveries (post, round) WHERE state = 'submitted';
CREATE INDEX IF NOT EXISTS deliveries_by_provider_id ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_by_token ON deliveries (token) WHERE token IS NOT NULL;
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;
`;

export interface SqliteOptions {
  /** Shown in messages, relative to the working directory. */
  shown?: string;
}

/**
 * Opens (creating, mode 0600 in a 0700 folder) the database file. An unreadable file is an error
 * that names it and says what to do, and nothing is sent until it can be read.
 */
export function openSqliteStore(file: string, options: SqliteOptions = {}): SqliteStore {
  const shown = options.shown ?? file;
  const created = !existsSync(file);
  if (created) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // SQLite gives its -wal and -shm files the mode of the database file: readers' addresses stay private.
    closeSync(openSync(file, 'a', 0o600));
  }
  let db: Db;
  try {
    db = new Database(file);
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec('PRAGMA journal_mode = WAL');
    // In WAL mode NORMAL loses no committed transaction to a crash of herald, only to a power cut.
    db.exec('PRAGMA synchronous = NORMAL');
    // Checkpoints are where WAL mode syncs to disk: every 10,000 pages (40 MB) rather than 1,000,
    // which halves what recording a delivery costs; the file is cut back to 64 MB after one.
    db.exec('PRAGMA wal_autocheckpoint = 10000');
    db.exec('PRAGMA journal_size_limit = 67108864');
    const version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version);
    if (version > SCHEMA_VERSION) {
      throw new HeraldError({ code: 'E_STATE', file: shown, message: `the database was written by a newer herald (schema ${version}; this herald knows ${SCHEMA_VERSION})`, hint: 'upgrade herald' });
    }
    // A database made by an older herald gains what this one adds; a new one is made whole.
    if (version > 0 && version < SCHEMA_VERSION) {
      db.exec('BEGIN IMMEDIATE');
      for (let next = version + 1; next <= SCHEMA_VERSION; next++) db.exec(MIGRATIONS[next]!);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT`);
    }
    db.exec(SCHEMA);
    if (version < SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    throw unreadable(shown, error);
  }
  return new SqliteStore(db, file, shown, created);
}

/** The file cannot be read as herald's database: say which, and what to do, and send nothing. */
function unreadable(shown: string, error: unknown): HeraldError {
  return new HeraldError({
    code: 'E_STATE',
    file: shown,
    message: `cannot read herald's database: ${(error as Error).message}`,
    hint: 'it holds the subscribers and what was sent to whom, so herald sends nothing without it: restore it from a backup (herald backup makes one), or move it away to start with an empty list and a new baseline',
  });
}

// A damaged page can be met by any query, long after the file opened.
const DAMAGED = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** Every method of a port, with a damaged file's error turned into the clear one. */
function guarded<T extends object>(port: T, shown: string): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(port)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (method as (...inner: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        if (DAMAGED.has((error as { code?: string }).code ?? '')) throw unreadable(shown, error);
        throw error;
      }
    };
  }
  return wrapped as T;
}

export class SqliteStore implements Store {
  readonly subscribers: SubscriberStore;
  readonly deliveries: DeliveryLog;
  readonly state: NewsletterState;
  readonly lock: SendLock;
  readonly description: string;

  constructor(
    private readonly db: Db,
    readonly file: string,
    private readonly shown: string,
    /** True when this open created the file: the first use, when older state is brought in. */
    readonly created: boolean,
  ) {
    this.description = file;
    const statement = (sql: string) => db.prepare(sql);
    // Prepared once: BEGIN and COMMIT through exec() are parsed again on every message.
    const begin = statement('BEGIN IMMEDIATE');
    const commit = statement('COMMIT');
    const rollback = statement('ROLLBACK');
    const immediate = <T>(work: () => T): T => {
      begin.run();
      try {
        const result = work();
        commit.run();
        return result;
      } catch (error) {
        if (db.inTransaction) rollback.run();
        throw error;
      }
    };
    const getSubscriber = statement('SELECT * FROM subscribers WHERE key = ?');
    const getMany = statement('SELECT * FROM subscribers WHERE key IN (SELECT value FROM json_each(?))');
    const putSubscriber = statement(
      `INSERT INTO subscribers (key, email, name, status, topics, created_at, updated_at, status_at, confirm_sent_at, extra, soft_bounces)
       VALUES (@key, @email, @name, @status, @topics, @createdAt, @updatedAt, @statusAt, @confirmSentAt, @extra, @softBounces)
       ON CONFLICT (key) DO UPDATE SET email = excluded.email, name = excluded.name, status = excluded.status, topics = excluded.topics,
         created_at = excluded.created_at, updated_at = excluded.updated_at, status_at = excluded.status_at,
         confirm_sent_at = excluded.confirm_sent_at, extra = excluded.extra, soft_bounces = excluded.soft_bounces`,
    );
    const deleteSubscriber = statement('DELETE FROM subscribers WHERE key = ?');
    const deleteDeliveriesOf = statement('DELETE FROM deliveries WHERE recipient = ?');
    const listAll = statement('SELECT * FROM subscribers WHERE key > ? ORDER BY key LIMIT ?');
    const listByStatus = statement('SELECT * FROM subscribers WHERE status = ? AND key > ? ORDER BY key LIMIT ?');
    const countByStatus = statement('SELECT status, count(*) AS n FROM subscribers GROUP BY status');
    const recordDelivery = statement(
      `INSERT INTO deliveries (post, recipient, round, state, attempts, queued_at, at, provider_id, token, reason)
       VALUES (@post, @recipient, @round, @state, @tried, @at, @at, @providerId, @token, @reason)
       ON CONFLICT (post, recipient, round) DO UPDATE SET state = excluded.state, at = excluded.at, attempts = attempts + excluded.attempts,
         provider_id = coalesce(excluded.provider_id, provider_id), token = coalesce(excluded.token, token), reason = excluded.reason`,
    );

    const recordReturned = statement('UPDATE deliveries SET returned = ?, returned_at = ?, returned_reason = ? WHERE post = ? AND recipient = ? AND round = ?');
    const writeDeliveries = (updates: DeliveryUpdate[]) => {
      for (const update of updates) {
        recordDelivery.run({ post: update.post, recipient: update.recipient, round: update.round, state: update.state, tried: update.tried ? 1 : 0, at: update.at, providerId: update.providerId ?? null, token: update.token ?? null, reason: update.reason ?? null });
      }
    };
    const applyChange = <T>(key: string, change: Change<T>): T => {
      if (change.next === null) {
        deleteSubscriber.run(key);
        // Purged means forgotten: what was sent to them goes too.
        deleteDeliveriesOf.run(key);
      } else if (change.next) {
        const next = change.next;
        putSubscriber.run({
          key: next.key,
          email: next.email,
          name: next.name,
          status: next.status,
          topics: JSON.stringify(next.topics),
          createdAt: next.createdAt,
          updatedAt: next.updatedAt,
          statusAt: next.statusAt,
          confirmSentAt: next.confirmSentAt ?? null,
          extra: Object.keys(next.extra).length ? JSON.stringify(next.extra) : null,
          softBounces: next.softBounces ?? 0,
        });
      }
      if (change.deliveries?.length) writeDeliveries(change.deliveries);
      for (const update of change.returned ?? []) recordReturned.run(update.state, update.at, update.reason ?? null, update.post, update.recipient, update.round);
      return change.result;
    };
    const readSubscriber = (key: string) => {
      const row = getSubscriber.get(key) as Row | undefined;
      return row ? toSubscriber(row) : undefined;
    };

    this.subscribers = guarded<SubscriberStore>({
      get: async (key) => readSubscriber(key),
      change: async (key, decide) => immediate(() => applyChange(key, decide(readSubscriber(key)))),
      changeMany: async (keys, decide) =>
        immediate(() => {
          // One read for the whole batch: an import of a million rows asks in thousands, not one by one.
          const current = new Map((getMany.all(JSON.stringify(keys)) as Row[]).map((row) => [row.key as string, toSubscriber(row)]));
          return keys.map((key) => applyChange(key, decide(key, current.get(key))));
        }),
      list: async ({ status, after = '', limit }) => (status ? listByStatus.all(status, after, limit) : listAll.all(after, limit)).map((row) => toSubscriber(row as Row)),
      counts: async () => {
        const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<Status, number>;
        for (const row of countByStatus.all() as Row[]) counts[row.status as Status] = Number(row.n);
        return counts;
      },
    }, shown);

    // A page of recipients in one statement: a statement each cost as much as the rest of a send's queueing.
    const enqueuePage = statement(`INSERT OR IGNORE INTO deliveries (post, recipient, round, state, attempts, queued_at, at) SELECT ?, value, ?, 'queued', 0, ?, ? FROM json_each(?)`);
    // Counted in one pass over the post's rows: a GROUP BY state would sort them all in memory
    // first (46 MB at a million recipients, more than the rest of a send holds).
    const tally = statement(
      `SELECT sum(state = 'queued') AS queued, sum(state = 'submitted') AS submitted, sum(state = 'sent') AS sent, sum(state = 'bounced') AS bounced, sum(state = 'skipped') AS skipped, sum(state = 'failed') AS failed
       FROM deliveries WHERE post = ? AND round = ?`,
    );
    const returnedTally = statement(
      `SELECT sum(returned = 'delivered') AS delivered, sum(returned = 'soft-bounced') AS soft, sum(returned = 'bounced') AS bounced, sum(returned = 'complained') AS complained
       FROM deliveries WHERE post = ? AND round = ? AND state = 'sent'`,
    );
    // Only with sending caps set, once a pass: at most a day's cap of rows.
    const sentSince = statement(`SELECT DISTINCT at, recipient FROM deliveries WHERE state = 'sent' AND at >= ? ORDER BY at`);
    const submitted = statement(`SELECT * FROM deliveries WHERE post = ? AND round = ? AND state = 'submitted'`);
    const listDeliveries = statement('SELECT * FROM deliveries WHERE post = ? AND round = ? AND recipient > ? ORDER BY recipient LIMIT ?');
    const firstSent = statement(`SELECT min(at) AS at FROM deliveries WHERE state = 'sent'`);
    const latestRound = statement('SELECT max(round) AS round FROM deliveries WHERE post = ? AND round > 0');
    const received = statement(`SELECT recipient FROM deliveries WHERE post = ? AND state = 'sent' AND recipient IN (SELECT value FROM json_each(?))`);
    const receivedInRound = statement(`SELECT recipient FROM deliveries WHERE post = ? AND round = ? AND state = 'sent' AND recipient IN (SELECT value FROM json_each(?))`);
    const byProviderId = statement('SELECT * FROM deliveries WHERE provider_id = ? LIMIT 100');
    const byToken = statement('SELECT * FROM deliveries WHERE token = ? LIMIT 100');
    // One statement per number of jobs in a send (1, or the posts of a digest).
    const queuedStatements = new Map<number, { recipients: Query; rows: Query }>();
    const queuedFor = (jobs: number) => {
      let found = queuedStatements.get(jobs);
      if (!found) {
        const which = Array.from({ length: jobs }, () => '(post = ? AND round = ?)').join(' OR ');
        found = {
          recipients: statement(`SELECT DISTINCT recipient FROM deliveries WHERE state = 'queued' AND recipient > ? AND (${which}) ORDER BY recipient LIMIT ?`),
          rows: statement(
            `SELECT d.*, s.key AS s_key, s.email, s.name, s.status, s.topics, s.created_at, s.updated_at, s.status_at, s.confirm_sent_at, s.extra, s.soft_bounces
             FROM deliveries d LEFT JOIN subscribers s ON s.key = d.recipient
             WHERE d.state = 'queued' AND d.recipient > ? AND d.recipient <= ? AND (${which}) ORDER BY d.recipient`,
          ),
        };
        queuedStatements.set(jobs, found);
      }
      return found;
    };

    // Outcomes reported within RECORD_WINDOW_MS commit together: a transaction each cost five
    // times as much, and a pool of connections answers one message a turn, so a turn's worth was
    // one message. Each commit writes every page it touched to the log whole (the indexes on
    // provider_id and token put each row on a page of its own), so a longer window writes less:
    // 20 ms took a send 8% less time than 4 ms, but a crash loses what waits to be committed, and
    // those readers are sent the post again: at 3,000 messages a second, 4 ms is a dozen. The
    // promise of each resolves once it is on disk, so `record` still means recorded; the send
    // goes on meanwhile (pass.ts).
    let waiting: { updates: DeliveryUpdate[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
    const flushRecords = () => {
      const batch = waiting;
      waiting = [];
      if (!batch.length) return;
      try {
        immediate(() => batch.forEach((entry) => writeDeliveries(entry.updates)));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      for (const entry of batch) entry.resolve();
    };
    this.flush = flushRecords;

    this.deliveries = guarded<DeliveryLog>({
      enqueue: async (post, round, recipients, at) => immediate(() => enqueuePage.run(post, round, at, at, JSON.stringify(recipients)).changes),
      queued: async (jobs, after = '', limit) => {
        const pairs: unknown[] = jobs.flatMap((job) => [job.post, job.round]);
        const statements = queuedFor(jobs.length);
        const recipients = statements.recipients.all(after, ...pairs, limit) as Row[];
        if (!recipients.length) return [];
        const last = recipients.at(-1)!.recipient as string;
        return queuedRecipients(statements.rows.all(after, last, ...pairs) as Row[]);
      },
      record: (updates) =>
        new Promise<void>((resolve, reject) => {
          waiting.push({ updates, resolve, reject });
          if (waiting.length === 1) setTimeout(flushRecords, RECORD_WINDOW_MS);
        }),
      received: async (post, recipients, round) =>
        new Set(((round === undefined ? received.all(post, JSON.stringify(recipients)) : receivedInRound.all(post, round, JSON.stringify(recipients))) as Row[]).map((row) => row.recipient as string)),
      tally: async (post, round) => {
        const row = tally.get(post, round) as Row;
        return { queued: Number(row.queued ?? 0), submitted: Number(row.submitted ?? 0), sent: Number(row.sent ?? 0), bounced: Number(row.bounced ?? 0), skipped: Number(row.skipped ?? 0), failed: Number(row.failed ?? 0) };
      },
      returnedTally: async (post, round) => {
        const row = returnedTally.get(post, round) as Row;
        return { delivered: Number(row.delivered ?? 0), 'soft-bounced': Number(row.soft ?? 0), bounced: Number(row.bounced ?? 0), complained: Number(row.complained ?? 0) };
      },
      submitted: async (post, round) => (submitted.all(post, round) as Row[]).map(toDelivery),
      list: async (post, round, after = '', limit) => (listDeliveries.all(post, round, after, limit) as Row[]).map(toDelivery),
      firstSent: async () => ((firstSent.get() as Row).at as string | null) ?? undefined,
      sentSince: async (since) => (sentSince.all(since) as Row[]).map((row) => row.at as string),
      latestRound: async (post) => Number((latestRound.get(post) as Row).round ?? 0),
      byProviderId: async (providerId) => (byProviderId.all(providerId) as Row[]).map(toDelivery),
      byToken: async (token) => (byToken.all(token) as Row[]).map(toDelivery),
    }, shown);

    const getMeta = statement('SELECT value FROM meta WHERE key = ?');
    const putMeta = statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    const allPosts = statement('SELECT * FROM posts');
    const putPost = statement(
      `INSERT INTO posts (key, entry_id, file, title_date, at_baseline, sent_at, recipients) VALUES (@key, @entryId, @file, @titleDate, @atBaseline, @sentAt, @recipients)
       ON CONFLICT (key) DO UPDATE SET entry_id = excluded.entry_id, file = excluded.file, title_date = excluded.title_date,
         at_baseline = excluded.at_baseline, sent_at = excluded.sent_at, recipients = excluded.recipients`,
    );
    const savePost = (record: PostRecord) =>
      putPost.run({ key: record.key, entryId: record.entryId, file: record.file, titleDate: record.titleDate, atBaseline: record.atBaseline ? 1 : 0, sentAt: record.sentAt ?? null, recipients: record.recipients ?? null });
    const meta = (key: string) => (getMeta.get(key) as Row | undefined)?.value as string | undefined;

    this.state = guarded<NewsletterState>({
      baseline: async () => meta('baseline'),
      setBaseline: async (at, posts) =>
        immediate(() => {
          if (meta('baseline')) return false;
          putMeta.run('baseline', at);
          for (const post of posts) savePost(post);
          return true;
        }),
      posts: async () => (allPosts.all() as Row[]).map(toPostRecord),
      savePost: async (record) => void savePost(record),
      servedAt: async () => meta('served'),
      markServed: async (at) => void putMeta.run('served', at),
    }, shown);
    const damage = <T>(work: () => T): T => {
      try {
        return work();
      } catch (error) {
        if (DAMAGED.has((error as { code?: string }).code ?? '')) throw unreadable(shown, error);
        throw error;
      }
    };
    this.meta = { get: (key) => damage(() => meta(key)), set: (key, value) => damage(() => void putMeta.run(key, value)) };

    const readLock = statement('SELECT * FROM locks WHERE name = ?');
    const putLock = statement('INSERT INTO locks (name, owner, host, pid, expires) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, expires = excluded.expires');
    const renewLock = statement('UPDATE locks SET expires = ? WHERE name = ? AND owner = ?');
    const dropLock = statement('DELETE FROM locks WHERE name = ? AND owner = ?');
    this.lock = guarded<SendLock>({
      acquire: async () => {
        const owner = `${host}:${process.pid}:${randomBytes(6).toString('hex')}`;
        immediate(() => {
          const held = readLock.get('send') as Row | undefined;
          const now = Date.now();
          if (held && lockHeld(held, now)) {
            throw new HeraldError({
              code: 'E_LOCKED',
              file: shown,
              message: `another herald (pid ${held.pid}${held.host !== host ? ` on ${held.host}` : ''}) is sending right now`,
              hint: 'wait for it to finish; the lock of a herald that was killed is taken over',
            });
          }
          putLock.run('send', owner, host, process.pid, now + LOCK_TTL_MS);
          ownLocks.add(owner);
        });
        // A busy or failing database skips one renewal; the lock lives three of them.
        const renew = setInterval(() => {
          try {
            renewLock.run(Date.now() + LOCK_TTL_MS, 'send', owner);
          } catch {
            // The next renewal tries again.
          }
        }, LOCK_TTL_MS / 3);
        renew.unref();
        return async () => {
          clearInterval(renew);
          ownLocks.delete(owner);
          dropLock.run('send', owner);
        };
      },
    }, shown);
  }

  /** Small facts about the store itself (when older files were brought in). */
  readonly meta: { get(key: string): string | undefined; set(key: string, value: string): void };

  /** SQLite's own check of every page: what `herald check` asks before it says all is well. */
  async verify(): Promise<void> {
    let verdict: string;
    try {
      verdict = (this.db.prepare('PRAGMA quick_check').all() as Row[]).map((row) => String(row.quick_check)).join('\n');
    } catch (error) {
      throw unreadable(this.shown, error);
    }
    if (verdict !== 'ok') throw unreadable(this.shown, new Error(`damaged (${verdict.split('\n').slice(0, 2).join('; ')})`));
  }

  /** A consistent copy of the whole database (mode 0600), safe while herald runs. */
  async backup(to: string): Promise<void> {
    let fd: number;
    try {
      fd = openSync(to, 'wx', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new HeraldError({ code: 'E_USAGE', file: to, message: `cannot write the backup: ${code === 'EEXIST' ? 'the file exists' : code}`, hint: 'give the name of a new file' });
    }
    closeSync(fd);
    try {
      this.db.prepare('VACUUM INTO ?').run(to);
    } catch (error) {
      rmSync(to, { force: true });
      throw error;
    }
  }

  /**
   * For a long-running herald (start): WAL checkpoints, which copy the log back into the file and
   * sync it (50-120 ms every few thousand commits), move to a worker thread with a connection of
   * its own, so they never hold up the web side's answers. The one-shot commands keep SQLite's own.
   */
  checkpointInBackground(): void {
    if (this.checkpointer) return;
    this.db.exec('PRAGMA wal_autocheckpoint = 0');
    this.checkpointer = new Worker(CHECKPOINTER, { eval: true, workerData: { file: this.file, driver: createRequire(import.meta.url).resolve('libsql'), everyMs: CHECKPOINT_EVERY_MS } });
    // Should the worker fail, SQLite checkpoints on the main thread again: the log never grows unchecked.
    this.checkpointer.on('error', () => this.db.open && this.db.exec('PRAGMA wal_autocheckpoint = 10000'));
    this.checkpointer.unref();
  }

  private checkpointer: Worker | undefined;

  async close(): Promise<void> {
    this.flush();
    await this.checkpointer?.terminate();
    if (this.db.open) this.db.close();
  }

  /** Commits the outcomes waiting for their window to end. */
  private readonly flush: () => void;
}

const CHECKPOINT_EVERY_MS = 500;
// The checkpointer's whole code (a worker evaluated from a string needs no file of its own in the
// bundle). PASSIVE copies what it can without waiting for readers or writers.
const CHECKPOINTER = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.exec('PRAGMA busy_timeout = 1000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
setInterval(() => { try { checkpoint.all(); } catch {} }, workerData.everyMs);
`;

const LOCK_TTL_MS = 30_000;
// The locks this process holds, by owner: the pid alone cannot tell a lock of ours from one left by
// an earlier process that had the same pid (PID 1 in every container).
const ownLocks = new Set<string>();
const host = hostname();

/**
 * Whether a lock row still stands: renewed lately, and its holder not known to be gone. A holder
 * on this machine is gone when its process is (a zombie, killed and not yet reaped, counts as
 * gone), or when it claims our pid but is not one of our own locks.
 */
function lockHeld(row: Row, now: number): boolean {
  if (Number(row.expires) <= now) return false;
  if (row.host !== host) return true;
  const pid = Number(row.pid);
  if (pid === process.pid) return ownLocks.has(row.owner as string);
  return processAlive(pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: the third field of /proc/<pid>/stat is the state; Z is a zombie.
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
