// The server store: the same tables as the embedded SQLite one, in PostgreSQL, so several herald
// processes on several machines share one list, and several senders share one post's recipients.
// Where SQLite lets one sender run at a time (SendLock), here any number run at once and each
// *claims* the recipients it reads (`queued`): a claimed delivery is nobody else's until it is
// recorded, or until its lease runs out because its sender died. So nobody is mailed twice.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { HeraldError } from '../../errors.js';
import type { Change, DeliveryLog, DeliveryUpdate, NewsletterState, PostRecord, SendLock, Store, SubscriberStore } from '../../newsletter/ports.js';
import { STATUSES, type Status, type Subscriber } from '../../newsletter/subscriber.js';
import { queuedRecipients, toDelivery, toPostRecord, toSubscriber } from './rows.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

// The same numbering as the SQLite schema (PRAGMA user_version): both describe the same tables.
// PostgreSQL's has the claim columns on top, which only several senders at once need.
const SCHEMA_VERSION = 2;

// Keys and recipients compare byte by byte ("C"), as in SQLite: pages walked with `after` see
// the same order on any server, whatever locale its database was made with.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscribers (
  key TEXT COLLATE "C" PRIMARY KEY,
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
);
CREATE INDEX IF NOT EXISTS subscribers_by_status ON subscribers (status, key);
CREATE TABLE IF NOT EXISTS posts (
  key TEXT COLLATE "C" PRIMARY KEY,
  entry_id TEXT NOT NULL,
  file TEXT NOT NULL,
  title_date TEXT NOT NULL,
  at_baseline INTEGER NOT NULL DEFAULT 0,
  sent_at TEXT,
  recipients INTEGER
);
CREATE TABLE IF NOT EXISTS deliveries (
  post TEXT COLLATE "C" NOT NULL,
  recipient TEXT COLLATE "C" NOT NULL,
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
  claimed_by TEXT,
  claimed_until TIMESTAMPTZ,
  PRIMARY KEY (post, recipient, round)
);
CREATE INDEX IF NOT EXISTS deliveries_queued ON deliveries (recipient, post, round) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS deliveries_resends ON deliveries (post, round) WHERE round > 0;
CREATE INDEX IF NOT EXISTS deliveries_submitted ON deliveries (post, round) WHERE state = 'submitted';
CREATE INDEX IF NOT EXISTS deliveries_by_provider_id ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_by_token ON deliveries (token) WHERE token IS NOT NULL;
CREATE INDEX IF NOT EXISTS deliveries_claimed ON deliveries (claimed_by) WHERE claimed_by IS NOT NULL;
`;

// Held while the tables are made: two processes starting at once would otherwise both create
// them, and one would fail. Any fixed number does; this one spells "herald".
const SCHEMA_LOCK = 0x68657261_6c64;

// Held while a sender claims a page: claims are made one at a time, each seeing all those before
// it. Rows skipped while locked (SKIP LOCKED) would not do: two senders could each take some of
// one reader's deliveries (the posts of a digest) and mail that reader two messages, not one.
// A claim takes milliseconds and a sender makes one per page of 500, so nobody waits long.
const CLAIM_LOCK = SCHEMA_LOCK + 1;

// How long a claim stands without its sender renewing it: longer than any one message takes.
const LEASE_MS = 5 * 60_000;

export interface PostgresOptions {
  /** Shown in messages instead of the URL (which is shown without its password). */
  shown?: string;
  /** Who claims recipients: unique per sender (the default is host, pid and a random part). */
  owner?: string;
  leaseMs?: number;
}

/**
 * Connects to the database at `url` (postgres://user:password@host:port/name), making herald's
 * tables if they are missing. A server that cannot be reached, or refuses the credentials, is an
 * error that names the URL (without its password) and says what to check.
 */
export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  const shown = options.shown ?? withoutPassword(url);
  // A few connections are plenty: a send reads pages and records outcomes, each in one statement.
  const pool = new pg.Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 10_000 });
  // An idle connection the server drops (a restart) is replaced on the next query; without a
  // listener, the pool's 'error' event would end the process.
  pool.on('error', () => {});
  try {
    await prepareSchema(pool, shown);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error instanceof HeraldError ? error : databaseError(shown, error);
  }
  return new PostgresStore(pool, shown, options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`, options.leaseMs ?? LEASE_MS);
}

async function prepareSchema(pool: pg.Pool, shown: string): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const { rows } = await client.query(`SELECT to_regclass('meta') IS NOT NULL AS present`);
    const version = rows[0]!.present ? Number((await client.query(`SELECT value FROM meta WHERE key = 'schema'`)).rows[0]?.value ?? 0) : 0;
    if (version > SCHEMA_VERSION) {
      throw new HeraldError({ code: 'E_STATE', file: shown, message: `the database was written by a newer herald (schema ${version}; this herald knows ${SCHEMA_VERSION})`, hint: 'upgrade herald' });
    }
    await client.query(SCHEMA);
    await client.query(`INSERT INTO meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(SCHEMA_VERSION)]);
  });
}

/** The URL as it may be shown: without a password, in its user part or its query. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    if (parsed.searchParams.has('password')) parsed.searchParams.delete('password');
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, '@');
  }
}

// Errors of the connection rather than of a query: the network, the server, the login.
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const LOGIN = new Set(['28P01', '28000']);

function connectionFailed(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return NETWORK.has(code) || LOGIN.has(code) || code === '3D000' || /^(08|57P0)/.test(code);
  return /Connection terminated|timeout exceeded when trying to connect|connection error/i.test((error as Error | undefined)?.message ?? '');
}

/** What went wrong with the database, where, and what to check; nothing is sent without it. */
function databaseError(shown: string, error: unknown): HeraldError {
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  // Connecting to a name with two addresses (localhost) fails with an AggregateError, which has no message.
  const detail = (error as Error | undefined)?.message || code || String(error);
  const hint = LOGIN.has(code)
    ? 'check the user name and password in the database URL, and that the server lets that user in from this machine (pg_hba.conf)'
    : code === '3D000'
      ? 'create the database (createdb) or correct its name in the URL'
      : code === '42501'
        ? "the user needs the right to create tables (GRANT CREATE ON SCHEMA public TO the user), or the tables made once by their owner"
        : 'check that PostgreSQL is running and can be reached from this machine at the host and port of the database URL; herald sends nothing until it can';
  return new HeraldError({ code: 'E_STATE', file: shown, message: `cannot use herald's database: ${detail}`, hint });
}

/** Every method of a port, with a lost connection turned into the clear error. */
function guarded<T extends object>(port: T, shown: string): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(port)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (method as (...inner: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        if (!(error instanceof HeraldError) && connectionFailed(error)) throw databaseError(shown, error);
        throw error;
      }
    };
  }
  return wrapped as T;
}

// A deadlock or a serialization failure undoes the whole transaction, so running it again is safe.
const RETRYABLE = new Set(['40P01', '40001']);

async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      if (attempt < 5 && RETRYABLE.has(String((error as { code?: unknown }).code))) continue;
      throw error;
    } finally {
      // A connection that could not even roll back is closed, not handed to the next query.
      client.release(broken);
    }
  }
}

const SUBSCRIBER_COLUMNS = 'key, email, name, status, topics, created_at, updated_at, status_at, confirm_sent_at, extra, soft_bounces';
const SUBSCRIBER_ROWS = `SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[])`;

/** Writes whole subscriber rows in one statement: over the old ones, or only where none exists (returning which were new). */
async function putSubscribers(client: Queryable, rows: Subscriber[], mode: 'replace' | 'create'): Promise<string[]> {
  if (!rows.length) return [];
  const columns: unknown[][] = Array.from({ length: 11 }, () => []);
  for (const next of rows) {
    const values = [next.key, next.email, next.name, next.status, JSON.stringify(next.topics), next.createdAt, next.updatedAt, next.statusAt, next.confirmSentAt ?? null, Object.keys(next.extra).length ? JSON.stringify(next.extra) : null, next.softBounces ?? 0];
    values.forEach((value, index) => columns[index]!.push(value));
  }
  const conflict =
    mode === 'create'
      ? 'DO NOTHING RETURNING key'
      : `DO UPDATE SET email = excluded.email, name = excluded.name, status = excluded.status, topics = excluded.topics, created_at = excluded.created_at,
           updated_at = excluded.updated_at, status_at = excluded.status_at, confirm_sent_at = excluded.confirm_sent_at, extra = excluded.extra, soft_bounces = excluded.soft_bounces`;
  const { rows: written } = await client.query(`INSERT INTO subscribers (${SUBSCRIBER_COLUMNS}) ${SUBSCRIBER_ROWS} ON CONFLICT (key) ${conflict}`, columns);
  return written.map((row) => row.key as string);
}

/**
 * Writes outcomes in one statement, each ending its delivery's claim, except `submitted`: a
 * message in a batch call still unanswered stays its sender's, so no other sender reconciles it
 * meanwhile. Two outcomes of one delivery in a batch fold into one, as if written in turn (one
 * statement may touch a row once).
 */
async function writeDeliveries(client: Queryable, updates: DeliveryUpdate[]): Promise<void> {
  const byId = new Map<string, { update: DeliveryUpdate; tries: number; firstAt: string }>();
  for (const update of updates) {
    const id = `${update.post}\0${update.recipient}\0${update.round}`;
    const before = byId.get(id);
    byId.set(id, {
      update: { ...update, providerId: update.providerId ?? before?.update.providerId, token: update.token ?? before?.update.token },
      tries: (before?.tries ?? 0) + (update.tried ? 1 : 0),
      firstAt: before?.firstAt ?? update.at,
    });
  }
  if (!byId.size) return;
  // Rows are locked in one order by every writer, so two batches never wait on each other in a circle.
  const merged = [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
  await client.query(
    `INSERT INTO deliveries (post, recipient, round, state, attempts, queued_at, at, provider_id, reason, token)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
     ON CONFLICT (post, recipient, round) DO UPDATE SET state = excluded.state, at = excluded.at, attempts = deliveries.attempts + excluded.attempts,
       provider_id = coalesce(excluded.provider_id, deliveries.provider_id), token = coalesce(excluded.token, deliveries.token), reason = excluded.reason,
       claimed_by = CASE WHEN excluded.state = 'submitted' THEN deliveries.claimed_by END,
       claimed_until = CASE WHEN excluded.state = 'submitted' THEN deliveries.claimed_until END`,
    [
      merged.map(({ update }) => update.post),
      merged.map(({ update }) => update.recipient),
      merged.map(({ update }) => update.round),
      merged.map(({ update }) => update.state),
      merged.map(({ tries }) => tries),
      merged.map(({ firstAt }) => firstAt),
      merged.map(({ update }) => update.at),
      merged.map(({ update }) => update.providerId ?? null),
      merged.map(({ update }) => update.reason ?? null),
      merged.map(({ update }) => update.token ?? null),
    ],
  );
}

/**
 * Claims, for `owner`, the queued deliveries of these jobs of the first `limit` recipients after
 * `after` that no live sender holds, and returns them with their subscribers. Run under
 * CLAIM_LOCK, so it sees every claim made before it. The conditions are repeated in the UPDATE:
 * a row recorded meanwhile (sent) is checked again as it is now, and not claimed. The recipients
 * are chosen once (MATERIALIZED): inlined, a planner with no statistics yet (a new table's first
 * send) ran the choice again for every queued row, a minute a page at 50,000 recipients.
 */
function claimStatement(jobs: number): string {
  const which = Array.from({ length: jobs }, (_, i) => `(d.post = $${5 + 2 * i} AND d.round = $${6 + 2 * i})`).join(' OR ');
  const claimable = `d.state = 'queued' AND (${which}) AND (d.claimed_by IS NULL OR d.claimed_by = $2 OR d.claimed_until < now())`;
  return `WITH chosen AS MATERIALIZED (
      SELECT DISTINCT d.recipient FROM deliveries d WHERE d.recipient > $1 AND ${claimable} ORDER BY d.recipient LIMIT $3::int
    ), claimed AS (
      UPDATE deliveries d SET claimed_by = $2, claimed_until = now() + $4::int * interval '1 millisecond'
      FROM chosen c WHERE d.recipient = c.recipient AND ${claimable}
      RETURNING d.*
    )
    SELECT c.*, s.key AS s_key, s.email, s.name, s.status, s.topics, s.created_at, s.updated_at, s.status_at, s.confirm_sent_at, s.extra, s.soft_bounces
    FROM claimed c LEFT JOIN subscribers s ON s.key = c.recipient ORDER BY c.recipient, c.post, c.round`;
}

export class PostgresStore implements Store {
  readonly subscribers: SubscriberStore;
  readonly deliveries: DeliveryLog;
  readonly state: NewsletterState;
  readonly lock: SendLock;
  /** Small facts about the store itself, as SqliteStore's `meta` (which answers synchronously). */
  readonly meta: {
    get(key: string): Promise<string | undefined>;
    set(key: string, value: string): Promise<void>;
    /** Sets the value unless one is set already (first writer wins); the value that holds. */
    setOnce(key: string, value: string): Promise<string>;
  };
  /** Outcomes waiting for the end of this turn of the event loop, and the write of the last batch. */
  private waiting: { updates: DeliveryUpdate[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> = Promise.resolve();
  /** Renews this store's claims while it sends. */
  private renewal: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly description: string,
    /** Who this store claims recipients as. */
    readonly owner: string,
    leaseMs: number,
  ) {
    const query = (sql: string, params: unknown[] = []) => pool.query(sql, params);
    const readSubscriber = async (key: string) => {
      const { rows } = await query('SELECT * FROM subscribers WHERE key = $1', [key]);
      return rows[0] ? toSubscriber(rows[0]) : undefined;
    };
    // The subscribers' rows first (locked by the read), then the deliveries: the order every writer takes.
    const applyChanges = async <T>(client: pg.PoolClient, settled: { key: string; change: Change<T> }[], current: Map<string, Subscriber>) => {
      const removed = settled.filter(({ change }) => change.next === null).map(({ key }) => key);
      if (removed.length) {
        await client.query('DELETE FROM subscribers WHERE key = ANY($1::text[])', [removed]);
        // Purged means forgotten: what was sent to them goes too.
        await client.query('DELETE FROM deliveries WHERE recipient = ANY($1::text[])', [removed]);
      }
      await putSubscribers(client, settled.filter(({ key, change }) => change.next && current.has(key)).map(({ change }) => change.next!), 'replace');
      await writeDeliveries(client, settled.flatMap(({ change }) => change.deliveries ?? []));
      for (const update of settled.flatMap(({ change }) => change.returned ?? [])) {
        await client.query('UPDATE deliveries SET returned = $1, returned_at = $2, returned_reason = $3 WHERE post = $4 AND recipient = $5 AND round = $6', [update.state, update.at, update.reason ?? null, update.post, update.recipient, update.round]);
      }
    };
    const changeMany = <T>(keys: string[], decide: (key: string, current: Subscriber | undefined) => Change<T>): Promise<T[]> =>
      transaction(pool, async (client) => {
        const results = new Map<string, T>();
        // A row that was missing when read may be created by another process before this one
        // writes it (a subscribe during an import): that key is read again, and decided again.
        for (let pending = [...new Set(keys)]; pending.length; ) {
          const { rows } = await client.query('SELECT * FROM subscribers WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE', [pending]);
          const current = new Map(rows.map((row) => [row.key as string, toSubscriber(row)]));
          const decided = pending.map((key) => ({ key, change: decide(key, current.get(key)) }));
          const creating = decided.filter(({ key, change }) => change.next && !current.has(key));
          const created = new Set(await putSubscribers(client, creating.map(({ change }) => change.next!), 'create'));
          const settled = decided.filter(({ key, change }) => !change.next || current.has(key) || created.has(key));
          await applyChanges(client, settled, current);
          for (const { key, change } of settled) results.set(key, change.result);
          pending = creating.filter(({ key }) => !created.has(key)).map(({ key }) => key);
        }
        return keys.map((key) => results.get(key)!);
      });

    this.subscribers = guarded<SubscriberStore>({
      get: readSubscriber,
      change: async (key, decide) => (await changeMany([key], (_key, current) => decide(current)))[0]!,
      changeMany,
      list: async ({ status, after = '', limit }) => {
        const { rows } = status
          ? await query('SELECT * FROM subscribers WHERE status = $1 AND key > $2 ORDER BY key LIMIT $3', [status, after, limit])
          : await query('SELECT * FROM subscribers WHERE key > $1 ORDER BY key LIMIT $2', [after, limit]);
        return rows.map(toSubscriber);
      },
      counts: async () => {
        const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<Status, number>;
        for (const row of (await query('SELECT status, count(*) AS n FROM subscribers GROUP BY status')).rows) counts[row.status as Status] = Number(row.n);
        return counts;
      },
    }, description);

    this.deliveries = guarded<DeliveryLog>({
      enqueue: async (post, round, recipients, at) => {
        if (!recipients.length) return 0;
        // In one order, so two senders queueing the same audience at once never wait on each other in a circle.
        const { rowCount } = await query(
          `INSERT INTO deliveries (post, recipient, round, state, attempts, queued_at, at)
           SELECT $1, recipient, $2, 'queued', 0, $4, $4 FROM unnest($3::text[]) AS recipient ORDER BY recipient
           ON CONFLICT (post, recipient, round) DO NOTHING`,
          [post, round, recipients, at],
        );
        return rowCount ?? 0;
      },
      queued: async (jobs, after = '', limit) => {
        if (!jobs.length || limit < 1) return [];
        const { rows } = await transaction(pool, async (client) => {
          await client.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
          return client.query(claimStatement(jobs.length), [after, owner, limit, leaseMs, ...jobs.flatMap((job) => [job.post, job.round])]);
        });
        return queuedRecipients(rows);
      },
      // Outcomes reported in one turn of the event loop (many messages are in flight) are written
      // together; each promise resolves once its batch is committed, so `record` means recorded.
      record: (updates) =>
        new Promise<void>((resolve, reject) => {
          this.waiting.push({ updates, resolve, reject });
          if (this.waiting.length === 1) setImmediate(() => this.flush());
        }),
      received: async (post, recipients, round) => {
        const { rows } =
          round === undefined
            ? await query(`SELECT recipient FROM deliveries WHERE post = $1 AND state = 'sent' AND recipient = ANY($2::text[])`, [post, recipients])
            : await query(`SELECT recipient FROM deliveries WHERE post = $1 AND round = $2 AND state = 'sent' AND recipient = ANY($3::text[])`, [post, round, recipients]);
        return new Set(rows.map((row) => row.recipient as string));
      },
      tally: async (post, round) => {
        const { rows } = await query(
          `SELECT count(*) FILTER (WHERE state = 'queued') AS queued, count(*) FILTER (WHERE state = 'submitted') AS submitted, count(*) FILTER (WHERE state = 'sent') AS sent,
             count(*) FILTER (WHERE state = 'bounced') AS bounced, count(*) FILTER (WHERE state = 'skipped') AS skipped, count(*) FILTER (WHERE state = 'failed') AS failed
           FROM deliveries WHERE post = $1 AND round = $2`,
          [post, round],
        );
        const row = rows[0]!;
        return { queued: Number(row.queued), submitted: Number(row.submitted), sent: Number(row.sent), bounced: Number(row.bounced), skipped: Number(row.skipped), failed: Number(row.failed) };
      },
      returnedTally: async (post, round) => {
        const { rows } = await query(
          `SELECT count(*) FILTER (WHERE returned = 'delivered') AS delivered, count(*) FILTER (WHERE returned = 'soft-bounced') AS soft,
             count(*) FILTER (WHERE returned = 'bounced') AS bounced, count(*) FILTER (WHERE returned = 'complained') AS complained
           FROM deliveries WHERE post = $1 AND round = $2 AND state = 'sent'`,
          [post, round],
        );
        const row = rows[0]!;
        return { delivered: Number(row.delivered), 'soft-bounced': Number(row.soft), bounced: Number(row.bounced), complained: Number(row.complained) };
      },
      // A digest's deliveries share one moment and one recipient: one message.
      sentSince: async (since) => (await query(`SELECT DISTINCT at, recipient FROM deliveries WHERE state = 'sent' AND at >= $1 ORDER BY at`, [since])).rows.map((row) => row.at as string),
      firstSent: async () => ((await query(`SELECT min(at) AS at FROM deliveries WHERE state = 'sent'`)).rows[0]!.at as string | null) ?? undefined,
      // Not those in a batch call that a live sender still waits on: only a dead sender's, or one
      // whose call ended without an answer (its release gave them up), are anyone's to ask about.
      submitted: async (post, round) =>
        (await query(
          `SELECT * FROM deliveries WHERE post = $1 AND round = $2 AND state = 'submitted'
             AND (claimed_by IS NULL OR claimed_by = $3 OR claimed_until < now()) ORDER BY recipient`,
          [post, round, owner],
        )).rows.map(toDelivery),
      list: async (post, round, after = '', limit) =>
        (await query('SELECT * FROM deliveries WHERE post = $1 AND round = $2 AND recipient > $3 ORDER BY recipient LIMIT $4', [post, round, after, limit])).rows.map(toDelivery),
      latestRound: async (post) => Number((await query('SELECT max(round) AS round FROM deliveries WHERE post = $1 AND round > 0', [post])).rows[0]!.round ?? 0),
      byProviderId: async (providerId) => (await query('SELECT * FROM deliveries WHERE provider_id = $1 ORDER BY post, recipient, round LIMIT 100', [providerId])).rows.map(toDelivery),
      byToken: async (token) => (await query('SELECT * FROM deliveries WHERE token = $1 ORDER BY post, recipient, round LIMIT 100', [token])).rows.map(toDelivery),
    }, description);

    const meta = async (key: string) => (await query('SELECT value FROM meta WHERE key = $1', [key])).rows[0]?.value as string | undefined;
    const putMeta = async (key: string, value: string) => void (await query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]));
    const savePost = async (client: Queryable, record: PostRecord) =>
      void (await client.query(
        `INSERT INTO posts (key, entry_id, file, title_date, at_baseline, sent_at, recipients) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (key) DO UPDATE SET entry_id = excluded.entry_id, file = excluded.file, title_date = excluded.title_date,
           at_baseline = excluded.at_baseline, sent_at = excluded.sent_at, recipients = excluded.recipients`,
        [record.key, record.entryId, record.file, record.titleDate, record.atBaseline ? 1 : 0, record.sentAt ?? null, record.recipients ?? null],
      ));

    this.state = guarded<NewsletterState>({
      baseline: () => meta('baseline'),
      // The insert of the baseline row decides the race: a second one waits for the first to
      // commit, then finds the row there.
      setBaseline: (at, posts) =>
        transaction(pool, async (client) => {
          const { rowCount } = await client.query(`INSERT INTO meta (key, value) VALUES ('baseline', $1) ON CONFLICT (key) DO NOTHING`, [at]);
          if (!rowCount) return false;
          for (const post of posts) await savePost(client, post);
          return true;
        }),
      posts: async () => (await query('SELECT * FROM posts ORDER BY key')).rows.map(toPostRecord),
      savePost: (record) => savePost(pool, record),
      servedAt: () => meta('served'),
      markServed: (at) => putMeta('served', at),
    }, description);
    const putMetaOnce = async (key: string, value: string) => {
      await query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
      return (await meta(key))!;
    };
    this.meta = guarded({ get: meta, set: putMeta, setOnce: putMetaOnce }, description);

    this.lock = guarded<SendLock>({
      // Other herald processes send at the same time: each claims its own recipients (`queued`).
      // Within this store one send at a time, as its claims are one owner's and would be shared.
      acquire: async () => {
        if (this.renewal) {
          throw new HeraldError({ code: 'E_LOCKED', file: description, message: 'this herald is sending right now', hint: 'wait for it to finish; other herald processes may send at the same time' });
        }
        // A live sender keeps what it claimed, however slowly it goes (a sending cap): its claims
        // are renewed while it sends, and only a dead sender's run out.
        const renewal = setInterval(() => {
          query(`UPDATE deliveries SET claimed_until = now() + $2::int * interval '1 millisecond' WHERE claimed_by = $1`, [owner, leaseMs]).catch(() => {
            // The next renewal tries again; the lease outlives two missed ones.
          });
        }, leaseMs / 3);
        renewal.unref();
        this.renewal = renewal;
        return async () => {
          clearInterval(renewal);
          this.renewal = undefined;
          // Outcomes first, then the claims still held (a send that stopped or paused) go back
          // to the others at once rather than when their lease ends.
          await this.flush();
          await query('UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1', [owner]);
        };
      },
    }, description);
  }

  /** Writes the outcomes waiting, after the batch before them; resolves once every outcome recorded so far is committed. */
  private flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    if (!batch.length) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        await transaction(this.pool, (client) => writeDeliveries(client, batch.flatMap((entry) => entry.updates)));
      } catch (error) {
        for (const entry of batch) entry.reject(connectionFailed(error) ? databaseError(this.description, error) : error);
        return;
      }
      for (const entry of batch) entry.resolve();
    });
    return this.flushing;
  }

  /** The server answers: what `herald check` asks before it says all is well. */
  async verify(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw databaseError(this.description, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewal);
    await this.flush();
    await this.pool.end();
  }
}
