import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { v5 as uuidv5 } from 'uuid';
import { makeSite, post } from '../helpers.js';
import { startSmtpSink } from '../smtp.js';

const CONFIG = 'site:\n  title: Store\n  url: https://example.com/\n';

async function herald(dir: string, env: Record<string, string>, ...args: string[]) {
  const { main } = await import('../../src/cli.js');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { cwd: dir, env, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('an unreadable database is an error naming the file and what to do, never a stack trace; nothing is mailed', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const site = await makeSite(t, { 'p.md': post({ title: 'P' }) }, CONFIG);
  await site.write('.herald/herald.db', 'this is not a database, it was overwritten by mistake '.repeat(200));
  const env = { HERALD_SMTP_URL: sink.url };
  for (const args of [['run'], ['send', 'p'], ['status'], ['subscribers', 'list'], ['check']]) {
    const result = await herald(site.dir, env, ...args);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.err, /^(herald: )?\.herald\/herald\.db: cannot read herald's database: .*\(it holds the subscribers and what was sent to whom, so herald sends nothing without it: restore it from a backup/m, args.join(' '));
    assert.doesNotMatch(result.err, /at .*\.ts:\d+/, 'no stack trace');
  }
  assert.equal(sink.received.length, 0);
});

test('a database damaged inside, not in its header, is the same clear error wherever it is met; check finds it first', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const site = await makeSite(t, { 'p.md': post({ title: 'P' }) }, CONFIG);
  const rows = Array.from({ length: 20_000 }, (_, i) => `reader${i}@example.com,Reader ${i}`).join('\n');
  await writeFile(join(site.dir, 'list.csv'), `email,name\n${rows}\n`);
  // In its own process, which checkpoints the WAL into the file as it exits.
  const { runBuilt } = await import('../helpers.js');
  assert.equal((await runBuilt(site.dir, 'subscribers', 'import', 'list.csv')).code, 0);
  const { open, stat } = await import('node:fs/promises');
  const { size } = await stat(join(site.dir, '.herald/herald.db'));
  const handle = await open(join(site.dir, '.herald/herald.db'), 'r+');
  for (let offset = 16_384; offset < size - 8192; offset += 32_768) await handle.write(Buffer.alloc(3000, 0x5a), 0, 3000, offset);
  await handle.close();
  for (const args of [['check'], ['subscribers', 'list'], ['subscribers', 'export'], ['send', 'p']]) {
    const result = await herald(site.dir, { HERALD_SMTP_URL: sink.url }, ...args);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.err, /\.herald\/herald\.db: cannot read herald's database: .*(malformed|damaged)/, args.join(' '));
    assert.doesNotMatch(result.err, /unexpected error|at .*:\d+:\d+/, args.join(' '));
  }
  assert.equal(sink.received.length, 0);
});

test('a corrupt newsletter.json from before the database is an error naming it; nothing is mailed', async (t) => {
  const site = await makeSite(t, { 'p.md': post({ title: 'P' }) }, CONFIG);
  await site.write('.herald/newsletter.json', '{"baseline": "2026-01-01T00:00:00.000Z", "sent": [');
  const result = await herald(site.dir, {}, 'run');
  assert.equal(result.code, 1);
  assert.match(result.err, /^herald: \.herald\/newsletter\.json: cannot read what the newsletter has sent: .*\(restore it from a backup/m);
});

test('an upgrade in the middle of a send: the old ledger is brought in, so the rest get the post and nobody gets it twice', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-03-01' }), 'new.md': post({ title: 'New', date: '2026-03-05 10:00' }) }, CONFIG);
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\na@example.com,A,active,,,\nb@example.com,B,active,,,\nc@example.com,C,active,,,\n');
  // What herald wrote before the database: the baseline, and a ledger for the job of post "new"
  // (its file named by a hash of the job key) saying a and b already have it.
  const idOf = (slug: string) => `urn:uuid:${uuidv5(`example.com/${slug}`, uuidv5('https://herald.invalid/post-id', uuidv5.URL))}`;
  await site.write('.herald/newsletter.json', JSON.stringify({ baseline: '2026-03-05T09:00:00.000Z', baselinePosts: [idOf('old')], sent: [] }));
  const ledger = `${createHash('sha256').update(`post:${idOf('new')}`).digest('base64url').slice(0, 24)}.log`;
  await site.write(`.herald/deliveries/${ledger}`, 'a@example.com\t2026-03-05T10:01:00.000Z\nb@example.com\t2026-03-05T10:01:01.000Z\nc@exam');
  const result = await herald(site.dir, { HERALD_SMTP_URL: sink.url }, 'run', '--now', '2026-03-05T11:00:00Z');
  assert.equal(result.code, 0, result.err);
  assert.match(result.err, /brought in the newsletter's baseline \(2026-03-05T09:00:00\.000Z\) and 0 sent posts from \.herald\/newsletter\.json, and 2 deliveries of posts still going out/);
  assert.deepEqual(sink.received.map((received) => `${received.to[0]} ${received.mail.subject}`), ['c@example.com New'], 'a line cut short by a crash never counted');
  const status = JSON.parse((await herald(site.dir, {}, 'status', '--json', '--now', '2026-03-05T11:00:00Z')).out);
  const { returns, ...sent } = status.posts.find((row: { slug: string }) => row.slug === 'new').mail;
  assert.deepEqual(sent, { state: 'sent', sentAt: '2026-03-05T11:00:00.000Z', recipients: 3 });
  assert.equal(returns.accepted, 3);
  assert.equal(status.posts.find((row: { slug: string }) => row.slug === 'old').mail.state, 'before-baseline');
});

test('two processes writing at once: a web subscribe and a CLI import of the same list lose nothing', async (t) => {
  const site = await makeSite(t, {}, CONFIG);
  const rows = Array.from({ length: 20_000 }, (_, i) => `bulk${i}@example.com,Bulk ${i}`).join('\n');
  await writeFile(join(site.dir, 'bulk.csv'), `email,name\n${rows}\n`);
  const { spawn } = await import('node:child_process');
  const { BUILT_CLI } = await import('../helpers.js');
  const run = (...args: string[]) =>
    new Promise<number>((resolve) => spawn(process.execPath, [BUILT_CLI, ...args], { cwd: site.dir, stdio: 'ignore' }).on('exit', (code) => resolve(code ?? 1)));
  const adds = Array.from({ length: 10 }, (_, i) => run('subscribers', 'add', `hand${i}@example.com`));
  const [imported, ...added] = await Promise.all([run('subscribers', 'import', 'bulk.csv'), ...adds]);
  assert.equal(imported, 0);
  assert.deepEqual(added, Array(10).fill(0));
  const list = await herald(site.dir, {}, 'subscribers', 'list');
  assert.match(list.out, /20010 shown; 20010 active/);
});

test('a database made by the herald before bounces came back is brought up to date, keeping every row', async (t) => {
  const site = await makeSite(t, {}, CONFIG);
  const file = join(site.dir, 'old.db');
  const { default: Database } = await import('libsql');
  const old = new Database(file);
  // The first schema's two tables that have since grown, with a row each.
  old.exec(`CREATE TABLE subscribers (key TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, topics TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, status_at TEXT NOT NULL, confirm_sent_at TEXT, extra TEXT) WITHOUT ROWID;
    CREATE TABLE deliveries (post TEXT NOT NULL, recipient TEXT NOT NULL, round INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      queued_at TEXT NOT NULL, at TEXT NOT NULL, provider_id TEXT, reason TEXT, PRIMARY KEY (post, recipient, round)) WITHOUT ROWID;
    INSERT INTO subscribers VALUES ('ann@example.com', 'Ann@example.com', 'Ann', 'active', '[]', '2026-01-01', '2026-01-01', '2026-01-01', NULL, NULL);
    INSERT INTO deliveries VALUES ('p', 'ann@example.com', 0, 'sent', 1, '2026-01-02', '2026-01-02', 'id-1@example.com', NULL);
    PRAGMA user_version = 1;`);
  old.close();
  const { openSqliteStore } = await import('../../src/adapters/store/sqlite.js');
  const store = openSqliteStore(file);
  t.after(() => store.close());
  assert.equal((await store.subscribers.get('ann@example.com'))?.name, 'Ann');
  const outcome = await store.subscribers.change('ann@example.com', (current) => ({
    next: { ...current!, softBounces: 1 },
    result: 'ok',
    returned: [{ post: 'p', round: 0, recipient: 'ann@example.com', state: 'soft-bounced', at: '2026-01-03T00:00:00.000Z', reason: 'mailbox full' }],
  }));
  assert.equal(outcome, 'ok');
  assert.equal((await store.subscribers.get('ann@example.com'))?.softBounces, 1);
  const [delivery] = await store.deliveries.byProviderId('id-1@example.com');
  assert.deepEqual(delivery?.returned, { state: 'soft-bounced', at: '2026-01-03T00:00:00.000Z', reason: 'mailbox full' });
});

test('with checkpoints in a worker thread (herald start), thousands of commits while it copies the log lose nothing, and closing stops it', async (t) => {
  const site = await makeSite(t, {}, CONFIG);
  const { openSqliteStore } = await import('../../src/adapters/store/sqlite.js');
  const file = join(site.dir, 'herald.db');
  const store = openSqliteStore(file);
  store.checkpointInBackground();
  const keys = Array.from({ length: 3000 }, (_, i) => `r${i}@example.com`);
  const at = '2026-01-01T00:00:00.000Z';
  for (const key of keys) {
    await store.subscribers.change(key, () => ({ next: { key, email: key, name: '', status: 'active', topics: [], createdAt: at, updatedAt: at, statusAt: at, extra: {} }, result: 'added' }));
    if (key.endsWith('00@example.com')) await new Promise((resolve) => setTimeout(resolve, 5)); // turns for the worker
  }
  await new Promise((resolve) => setTimeout(resolve, 700)); // a checkpoint at least
  await store.close();
  const again = openSqliteStore(file);
  t.after(() => again.close());
  await again.verify();
  assert.equal((await again.subscribers.counts()).active, 3000);
});
