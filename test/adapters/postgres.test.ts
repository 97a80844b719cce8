// The PostgreSQL store against a real server started here: the store contract (the same answers
// as the memory store), atomic changes from several processes, and several senders sharing one
// post's recipients by claiming them, each reader mailed exactly once.
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import pg from 'pg';
import { MemoryStore } from '../../src/adapters/store/memory.js';
import { openPostgresStore, type PostgresOptions, type PostgresStore } from '../../src/adapters/store/postgres.js';
import { parseConfig } from '../../src/config.js';
import { HeraldError } from '../../src/errors.js';
import { Newsletter } from '../../src/newsletter/newsletter.js';
import type { Change, MailTransport, OutgoingMessage, PostRecord, SendResult, Store } from '../../src/newsletter/ports.js';
import type { Subscriber } from '../../src/newsletter/subscriber.js';
import { parseAddress } from '../../src/newsletter/subscriptions.js';
import { loadPosts } from '../../src/posts/load.js';
import { scanPostFiles } from '../../src/posts/scan.js';
import { closedPort, makeSite, post } from '../helpers.js';
import { startPostgres, type Postgres } from '../postgres.js';

let server: Postgres;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

/** A store on a new database (or on `url`), closed when the test ends. */
async function open(t: TestContext, url?: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  const store = await openPostgresStore(url ?? (await server.createDatabase()), options);
  t.after(() => store.close());
  return store;
}

/** Statements as the superuser, for what the store itself never does (roles, a newer schema). */
async function superuser<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const at = (minute: number) => `2026-03-05T10:${String(minute).padStart(2, '0')}:00.000Z`;

function reader(key: string, fields: Partial<Subscriber> = {}): Subscriber {
  return { key, email: key, name: '', status: 'active', topics: [], extra: {}, createdAt: at(0), updatedAt: at(0), statusAt: at(0), ...fields };
}

const JOBS = [
  { post: 'p1', round: 0 },
  { post: 'p2', round: 0 },
];

/** Every kind of question the core asks of a store, with the answers, in order: run on two stores, the answers must match. */
async function scenario(store: Store): Promise<Record<string, unknown>> {
  const answers: Record<string, unknown> = {};
  const log = store.deliveries;
  // Byte order: '.' < '_' < 'b', whatever the server's locale.
  const keys = ['ann@x.com', 'a_b@x.com', 'bob@x.com', 'cy@x.com', 'a.b@x.com'];
  answers.created = await store.subscribers.changeMany(keys, (key, current) => ({ next: reader(key, key === 'cy@x.com' ? { status: 'unsubscribed', topics: ['work'], extra: { plan: 'pro' }, confirmSentAt: at(1) } : {}), result: current ? 'had' : 'new' }));
  answers.unchanged = await store.subscribers.change('ann@x.com', (current) => ({ result: current?.status }));
  answers.listed = (await store.subscribers.list({ limit: 3 })).map((row) => row.key);
  answers.listedAfter = await store.subscribers.list({ after: 'a_b@x.com', limit: 10 });
  answers.unsubscribed = await store.subscribers.list({ status: 'unsubscribed', limit: 10 });
  answers.counts = await store.subscribers.counts();

  answers.enqueued = [
    await log.enqueue('p1', 0, [...keys, 'ann@x.com'], at(1)),
    await log.enqueue('p1', 0, ['ann@x.com', 'gone@x.com'], at(2)),
    await log.enqueue('p2', 0, ['ann@x.com', 'bob@x.com'], at(2)),
    await log.enqueue('p2', 0, [], at(2)),
  ];
  const first = await log.queued(JOBS, undefined, 2);
  answers.firstPage = first;
  answers.secondPage = await log.queued(JOBS, first.at(-1)!.recipient, 10);
  answers.nothingAfter = await log.queued(JOBS, 'zzz', 10);

  // A digest: one message, both posts. A temporary refusal, twice. Two outcomes of one delivery in one call.
  await log.record([
    { post: 'p1', round: 0, recipient: 'ann@x.com', state: 'sent', at: at(3), tried: true, providerId: 'm1' },
    { post: 'p2', round: 0, recipient: 'ann@x.com', state: 'sent', at: at(3), tried: true, providerId: 'm1' },
  ]);
  await log.record([{ post: 'p1', round: 0, recipient: 'bob@x.com', state: 'queued', at: at(3), tried: true, reason: '451 later' }]);
  await log.record([{ post: 'p1', round: 0, recipient: 'bob@x.com', state: 'queued', at: at(4), tried: true }]);
  await log.record([
    { post: 'p2', round: 0, recipient: 'bob@x.com', state: 'queued', at: at(4), tried: true, reason: '451 later' },
    { post: 'p2', round: 0, recipient: 'bob@x.com', state: 'sent', at: at(5), tried: true, providerId: 'm2' },
  ]);
  await Promise.all([
    log.record([{ post: 'p1', round: 0, recipient: 'cy@x.com', state: 'skipped', at: at(5), reason: 'unsubscribed' }]),
    log.record([{ post: 'p1', round: 0, recipient: 'a.b@x.com', state: 'submitted', at: at(5), providerId: 'm3' }]),
    log.record([{ post: 'p1', round: 1, recipient: 'a_b@x.com', state: 'sent', at: at(6), tried: true, providerId: 'm4' }]),
  ]);
  // A bounce that comes back, written with the change it makes to the reader.
  answers.bounced = await store.subscribers.change('ann@x.com', (current) => ({
    next: { ...current!, status: 'bounced', statusAt: at(7), updatedAt: at(7) },
    result: 'bounced',
    returned: [{ post: 'p1', round: 0, recipient: 'ann@x.com', state: 'bounced', at: at(7), reason: '550 gone' }],
  }));

  answers.tally = [await log.tally('p1', 0), await log.tally('p2', 0), await log.tally('p1', 1), await log.tally('none', 0)];
  answers.returnedTally = [await log.returnedTally('p1', 0), await log.returnedTally('p2', 0)];
  answers.received = [await log.received('p1', keys), await log.received('p1', keys, 0), await log.received('p1', keys, 1), await log.received('p1', [])].map((set) => [...set].sort());
  answers.sentSince = [await log.sentSince(at(0)), await log.sentSince(at(4)), await log.sentSince(at(9))];
  answers.firstSent = await log.firstSent();
  const page = await log.list('p1', 0, undefined, 3);
  answers.list = [page, await log.list('p1', 0, page.at(-1)!.recipient, 10)];
  answers.submitted = await log.submitted('p1', 0);
  answers.latestRound = [await log.latestRound('p1'), await log.latestRound('p2'), await log.latestRound('none')];
  answers.byProviderId = [(await log.byProviderId('m1')).sort((a, b) => (a.post < b.post ? -1 : 1)), await log.byProviderId('m2'), await log.byProviderId('nope')];
  answers.stillQueued = await log.queued(JOBS, undefined, 10);

  // Purged: the row and what was sent to them are forgotten.
  answers.purged = await store.subscribers.change('bob@x.com', () => ({ next: null, result: 'purged' }));
  answers.afterPurge = [await store.subscribers.get('bob@x.com'), await log.list('p2', 0, undefined, 10), await store.subscribers.counts()];
  // Queued for a reader whose row is gone: returned with no subscriber, for the core to skip.
  answers.orphans = await log.queued([{ post: 'p1', round: 0 }], undefined, 10);

  const record = (key: string, fields: Partial<PostRecord> = {}): PostRecord => ({ key, entryId: `urn:${key}`, file: `posts/${key}.md`, titleDate: `${key} 2026-03-01`, atBaseline: false, ...fields });
  answers.state = [await store.state.baseline(), await store.state.servedAt()];
  answers.setBaseline = [await store.state.setBaseline(at(0), [record('old', { atBaseline: true })]), await store.state.setBaseline(at(1), [record('other')])];
  await store.state.savePost(record('new'));
  await store.state.savePost(record('new', { file: 'posts/renamed.md', sentAt: at(8), recipients: 3 }));
  await store.state.markServed(at(8));
  await store.state.markServed(at(9));
  answers.stateAfter = [await store.state.baseline(), (await store.state.posts()).sort((a, b) => (a.key < b.key ? -1 : 1)), await store.state.servedAt()];
  return answers;
}

test('the store answers every question of the contract as the memory store does', async (t) => {
  const store = await open(t);
  const answers = await scenario(store);
  assert.deepEqual(answers, await scenario(new MemoryStore()));
  // What the scenario is meant to show, said once more in plain values.
  assert.deepEqual(answers.listed, ['a.b@x.com', 'a_b@x.com', 'ann@x.com'], 'keys in byte order');
  assert.deepEqual(answers.enqueued, [5, 1, 2, 0]);
  assert.deepEqual((answers.firstPage as { recipient: string; deliveries: unknown[] }[]).map((entry) => [entry.recipient, entry.deliveries.length]), [['a.b@x.com', 1], ['a_b@x.com', 1]]);
  const [p1, p2] = answers.tally as Record<string, number>[];
  assert.deepEqual(p1, { queued: 3, submitted: 1, sent: 1, bounced: 0, skipped: 1, failed: 0 });
  assert.deepEqual(p2, { queued: 0, submitted: 0, sent: 2, bounced: 0, skipped: 0, failed: 0 });
  assert.deepEqual(answers.sentSince, [[at(3), at(5), at(6)], [at(5), at(6)], []], 'a digest is one message');
  const bob = (answers.list as { recipient: string; attempts: number; reason?: string }[][]).flat().find((row) => row.recipient === 'bob@x.com');
  assert.deepEqual({ attempts: bob?.attempts, reason: bob?.reason }, { attempts: 2, reason: undefined });
  assert.deepEqual(answers.setBaseline, [true, false]);
});

test('a change commits with its deliveries, or not at all', async (t) => {
  const store = await open(t);
  await store.deliveries.enqueue('p', 0, ['ann@x.com'], at(0));
  await store.subscribers.change('ann@x.com', () => ({ next: reader('ann@x.com'), result: 'added' }));
  const bounce = (current: Subscriber | undefined, round = 0): Change<string> => ({
    next: { ...current!, status: 'bounced' },
    result: 'bounced',
    deliveries: [{ post: 'p', round, recipient: 'ann@x.com', state: 'bounced', at: at(2), tried: true, reason: '550' }],
  });
  // The reader's row is written first; its delivery then fails (a round that is no number): neither stays.
  await assert.rejects(store.subscribers.change('ann@x.com', (current) => bounce(current, Number.NaN)));
  await assert.rejects(store.subscribers.change('ann@x.com', () => assert.fail('decide throws')), /decide throws/);
  assert.equal((await store.subscribers.get('ann@x.com'))?.status, 'active');
  assert.equal((await store.deliveries.tally('p', 0)).queued, 1);
  assert.equal(await store.subscribers.change('ann@x.com', bounce), 'bounced');
  assert.equal((await store.subscribers.get('ann@x.com'))?.status, 'bounced');
  assert.deepEqual((await store.deliveries.list('p', 0, undefined, 10)).map(({ state, attempts, reason }) => ({ state, attempts, reason })), [{ state: 'bounced', attempts: 1, reason: '550' }]);
});

test('several processes changing one list at once lose nothing: racing changes of one address, and a web subscribe during an import', async (t) => {
  const url = await server.createDatabase();
  const [a, b] = [await open(t, url), await open(t, url)];
  // Each adds one to what it reads, and notes who wrote: a lost write shows as a missing one.
  const bump =
    (who: string) =>
    (key: string, current: Subscriber | undefined): Change<string> => ({
      next: { ...(current ?? reader(key)), softBounces: (current?.softBounces ?? 0) + 1, extra: { ...current?.extra, [who]: 'yes' } },
      result: current ? 'bumped' : 'created',
    });
  const racing = Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).subscribers.change('count@x.com', (current) => bump(`w${i}`)('count@x.com', current)));
  const outcomes = await Promise.all(racing);
  assert.equal(outcomes.filter((outcome) => outcome === 'created').length, 1, 'created once');
  const counted = await a.subscribers.get('count@x.com');
  assert.equal(counted?.softBounces, 30);
  assert.equal(Object.keys(counted!.extra).length, 30);

  const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}@x.com`);
  const [imported] = await Promise.all([a.subscribers.changeMany(keys, bump('import')), ...keys.map((key) => b.subscribers.change(key, (current) => bump('web')(key, current)))]);
  assert.equal(imported.length, keys.length);
  const rows = await a.subscribers.list({ after: 'k', limit: 1000 });
  assert.equal(rows.length, keys.length);
  for (const row of rows) assert.deepEqual([row.softBounces, row.extra], [2, { import: 'yes', web: 'yes' }], row.key);
});

test('the baseline is set once, however many processes set it at once', async (t) => {
  const url = await server.createDatabase();
  const stores = [await open(t, url), await open(t, url), await open(t, url)];
  const record = (i: number): PostRecord => ({ key: `post${i}`, entryId: `urn:${i}`, file: `posts/${i}.md`, titleDate: `${i}`, atBaseline: true });
  const results = await Promise.all(Array.from({ length: 9 }, (_, i) => stores[i % 3]!.state.setBaseline(at(i), [record(i)])));
  assert.equal(results.filter(Boolean).length, 1);
  const winner = results.indexOf(true);
  assert.equal(await stores[1]!.state.baseline(), at(winner));
  assert.deepEqual(await stores[2]!.state.posts(), [record(winner)]);
});

test('two senders reading one queue at once never get the same recipient, and between them get everyone, a digest whole', async (t) => {
  const url = await server.createDatabase();
  const [a, b] = [await open(t, url, { owner: 'a' }), await open(t, url, { owner: 'b' })];
  const recipients = Array.from({ length: 240 }, (_, i) => `r${String(i).padStart(3, '0')}@x.com`);
  await a.deliveries.enqueue('p1', 0, recipients, at(0));
  await a.deliveries.enqueue('p2', 0, recipients.filter((_, i) => i % 3 === 0), at(0));
  const drain = async (store: PostgresStore) => {
    const got: { recipient: string; posts: string[] }[] = [];
    for (let after: string | undefined; ; ) {
      const page = await store.deliveries.queued(JOBS, after, 7);
      if (!page.length) return got;
      after = page.at(-1)!.recipient;
      got.push(...page.map((entry) => ({ recipient: entry.recipient, posts: entry.deliveries.map((delivery) => delivery.post) })));
    }
  };
  const [byA, byB] = await Promise.all([drain(a), drain(b)]);
  const names = (list: { recipient: string }[]) => list.map((entry) => entry.recipient);
  assert.deepEqual(names(byA).filter((name) => names(byB).includes(name)), [], 'nobody claimed by both');
  assert.deepEqual([...names(byA), ...names(byB)].sort(), recipients, 'everyone claimed once');
  for (const entry of [...byA, ...byB]) assert.deepEqual(entry.posts, Number(entry.recipient.slice(1, 4)) % 3 === 0 ? ['p1', 'p2'] : ['p1'], entry.recipient);
});

test("a dead sender's claims go to another once their lease ends; an outcome recorded ends a claim", async (t) => {
  const url = await server.createDatabase();
  const [a, b] = [await open(t, url, { owner: 'a', leaseMs: 1000 }), await open(t, url, { owner: 'b', leaseMs: 1000 })];
  const recipients = Array.from({ length: 8 }, (_, i) => `r${i}@x.com`);
  await a.deliveries.enqueue('p', 0, recipients, at(0));
  const job = [{ post: 'p', round: 0 }];
  const names = async (store: PostgresStore) => (await store.deliveries.queued(job, undefined, 100)).map((entry) => entry.recipient);
  assert.deepEqual(((await a.deliveries.queued(job, undefined, 5)).map((entry) => entry.recipient)), recipients.slice(0, 5));
  assert.deepEqual(await names(b), recipients.slice(5), "b gets only what a did not claim");
  // a: one refused for now (queued again, anyone's), one sent (nobody's).
  await a.deliveries.record([
    { post: 'p', round: 0, recipient: 'r0@x.com', state: 'queued', at: at(1), tried: true, reason: '451' },
    { post: 'p', round: 0, recipient: 'r1@x.com', state: 'sent', at: at(1), tried: true },
  ]);
  assert.deepEqual(await names(b), ['r0@x.com', ...recipients.slice(5)], 'b claims its own again, and the one a recorded');
  assert.deepEqual(await names(a), ['r2@x.com', 'r3@x.com', 'r4@x.com'], 'a sees again only what it still holds');
  // a dies: nothing renews its claims.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.deepEqual(await names(b), recipients.filter((name) => name !== 'r1@x.com'), "a's lease ran out: b takes the rest");
});

test('a live sender keeps its claims past the lease, and gives back what it did not send when it is done; a batch call in flight is its own', async (t) => {
  const url = await server.createDatabase();
  const [a, b] = [await open(t, url, { owner: 'a', leaseMs: 600 }), await open(t, url, { owner: 'b', leaseMs: 600 })];
  await a.deliveries.enqueue('p', 0, ['r1@x.com', 'r2@x.com', 'r3@x.com'], at(0));
  const job = [{ post: 'p', round: 0 }];
  const release = await a.lock.acquire();
  await assert.rejects(a.lock.acquire(), (error) => error instanceof HeraldError && error.code === 'E_LOCKED', 'one send at a time in one process');
  const releaseB = await b.lock.acquire();
  assert.equal((await a.deliveries.queued(job, undefined, 10)).length, 3);
  // r1 is handed to a batch API whose answer has not come yet.
  await a.deliveries.record([{ post: 'p', round: 0, recipient: 'r1@x.com', state: 'submitted', at: at(1), providerId: 'm1' }]);
  await new Promise((resolve) => setTimeout(resolve, 1300));
  assert.deepEqual(await b.deliveries.queued(job, undefined, 10), [], "a still sends: its claims stand");
  assert.deepEqual(await b.deliveries.submitted('p', 0), [], 'nor is its batch call asked about behind its back');
  await release();
  assert.deepEqual((await b.deliveries.queued(job, undefined, 10)).map((entry) => entry.recipient), ['r2@x.com', 'r3@x.com']);
  assert.deepEqual((await b.deliveries.submitted('p', 0)).map((delivery) => delivery.recipient), ['r1@x.com'], "a's unanswered call is b's to reconcile now");
  await releaseB();
  const again = await a.lock.acquire();
  await again();
});

// ---- the core, twice, on one database ----

/** A mail server that takes everything, shared by the senders: who got what, from whom. */
function recordingTransport(accepted: { to: string; by: string }[], by: string): MailTransport {
  return {
    description: 'recording://',
    async send(message: OutgoingMessage): Promise<SendResult> {
      // A few milliseconds each, as a server takes: the senders' pages overlap.
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 3));
      accepted.push({ to: message.to.address, by });
      return { ok: true };
    },
    async close() {},
  };
}

test('two herald processes sending one post at once, after a third died holding readers it had claimed: each reader gets it exactly once', async (t) => {
  const site = await makeSite(t, {}, null);
  const url = await server.createDatabase();
  const config = parseConfig({ site: { title: 'News', url: 'https://news.example.com/' }, email: { from: 'News <news@example.com>' } }, undefined, site.dir);
  let now = new Date('2026-03-05T09:00:00Z');
  const accepted: { to: string; by: string }[] = [];
  const newsletter = (store: Store, by: string) => {
    const transport = recordingTransport(accepted, by);
    return new Newsletter({ config, cwd: site.dir, store, clock: { now: () => now }, secret: 'a-test-secret-that-is-long-enough-to-sign-links-0123456789', transport: () => transport, retry: { attempts: 2, backoffMs: 1 } });
  };
  const [a, b] = [newsletter(await open(t, url), 'a'), newsletter(await open(t, url), 'b')];
  const posts = async () => (await loadPosts(config, site.dir, scanPostFiles(config.paths.posts, site.dir), new Map())).posts;

  // More readers than a sender reads in one page (500): each sender has pages of its own.
  const readers = Array.from({ length: 1200 }, (_, i) => `reader${String(i).padStart(4, '0')}@example.com`);
  for (let i = 0; i < readers.length; i += 100) await Promise.all(readers.slice(i, i + 100).map((email) => a.add(parseAddress(email)!, {})));
  assert.ok((await a.runPass(await posts())).baseline, 'the first pass sets the baseline');
  await site.write('posts/news.md', post({ title: 'News', date: '2026-03-05 10:00' }));
  now = new Date('2026-03-05T11:00:00Z');

  // The third claims its first page, sends a few, and dies: it never gives back its claims,
  // and nothing renews them.
  const dying = await openPostgresStore(url, { owner: 'dead', leaseMs: 3000 });
  const dead = newsletter({ subscribers: dying.subscribers, deliveries: dying.deliveries, state: dying.state, description: dying.description, lock: { acquire: async () => async () => {} }, close: () => dying.close() }, 'dead');
  const byDead = await dead.runPass(await posts(), { stopped: () => accepted.length >= 10 });
  await dying.close();
  const diedAt = Date.now();
  assert.ok(byDead.posts[0]!.remaining > 400, `the dead sender left most of its page claimed (${byDead.posts[0]!.remaining})`);

  const sentBy = { a: 0, b: 0 };
  const both = async () => {
    const reports = await Promise.all([a.runPass(await posts()), b.runPass(await posts())]);
    sentBy.a += reports[0].posts[0]!.sent;
    sentBy.b += reports[1].posts[0]!.sent;
    return reports;
  };
  const meanwhile = await both();
  assert.ok(meanwhile.every((report) => report.posts[0]!.remaining > 0 && !report.posts[0]!.finished), "the dead sender's readers wait for its lease");
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, diedAt + 3100 - Date.now())));
  const later = await both();
  assert.ok(later.some((report) => report.posts[0]!.finished), 'then they are sent');
  assert.ok(sentBy.a > 0 && sentBy.b > 0, `both senders sent (${sentBy.a} and ${sentBy.b})`);

  const counts = new Map<string, number>();
  for (const { to } of accepted) counts.set(to, (counts.get(to) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, count]) => count !== 1), [], 'nobody twice');
  assert.equal(counts.size, readers.length, 'everyone once');
  const news = (await a.deps.store.state.posts()).find((record) => record.file === 'posts/news.md');
  assert.deepEqual([news?.sentAt, news?.recipients], ['2026-03-05T11:00:00.000Z', readers.length]);
});

test('two herald run processes on one PostgreSQL database, each killed with SIGKILL at random moments and run again: every reader gets the post, twice only if in flight at a kill', async (t) => {
  const { spawn } = await import('node:child_process');
  const { startSmtpSink } = await import('../smtp.js');
  const { BUILT_CLI } = await import('../helpers.js');
  const sink = await startSmtpSink({ parse: false, delayMs: 4 });
  t.after(() => sink.close());
  const url = await server.createDatabase();
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, 'site:\n  url: https://news.example.com/\nsmtp:\n  maxConnections: 2\n');
  const readers = Array.from({ length: 800 }, (_, i) => `r${String(i).padStart(4, '0')}@example.com`);
  await site.write('subscribers/subscribers.csv', `email,name,status,topics,created_at,updated_at\n${readers.map((email) => `${email},R,active,,,`).join('\n')}\n`);
  const env = { ...process.env, HERALD_SMTP_URL: sink.url, HERALD_DATABASE_URL: url, HERALD_CLAIM_LEASE_MS: '1500', HERALD_SECRET: 'a-test-secret-that-is-long-enough-to-sign-links-0123456789' };
  const run = (killAfterMs?: number) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BUILT_CLI, 'run'], { cwd: site.dir, env, stdio: 'ignore' });
      const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  assert.equal(await run(), 0, 'the first run sets the baseline');
  // Dated after the baseline the first run set, and already published.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await site.write('posts/new.md', post({ title: 'New', date: new Date(Date.now() - 10).toISOString() }));
  let kills = 0;
  // Rounds of two senders at once, each killed at a random moment, until a round runs to the end.
  for (let round = 0; round < 12 && new Set(sink.received.map((message) => message.to[0])).size < readers.length; round++) {
    const killed = round < 4;
    const codes = await Promise.all([run(killed ? 300 + Math.random() * 900 : undefined), run(killed ? 300 + Math.random() * 900 : undefined)]);
    kills += codes.filter((code) => code === null).length;
    if (!killed) await new Promise((resolve) => setTimeout(resolve, 1600)); // the dead senders' leases run out
  }
  const counts = new Map<string, number>();
  for (const message of sink.received) counts.set(message.to[0]!, (counts.get(message.to[0]!) ?? 0) + 1);
  assert.equal(counts.size, readers.length, 'everyone got it');
  const twice = [...counts.values()].filter((count) => count > 1).length;
  // At a kill, at most the messages in flight (4 per connection, 2 connections) were accepted but not recorded.
  assert.ok(twice <= kills * 8, `${twice} readers got it twice over ${kills} kills`);
  assert.ok(kills >= 2, `senders were killed (${kills})`);
});

// ---- errors ----

test('an unreachable server, bad credentials or a missing database is a clear error naming the URL without its password', async (t) => {
  const refused = `postgres://herald:s3cret@127.0.0.1:${await closedPort()}/herald`;
  const fails = async (url: string, message: RegExp, hint: RegExp) => {
    const error = await openPostgresStore(url).then(
      () => assert.fail(`${url} opened`),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof HeraldError, String(error));
    assert.equal(error.code, 'E_STATE');
    assert.equal(error.problem.file, url.replace(/:[^:@/]*@/, '@'));
    assert.match(error.problem.message, message);
    assert.match(error.problem.hint ?? '', hint);
    assert.doesNotMatch(error.message, /s3cret|wrong/);
  };
  await fails(refused, /^cannot use herald's database: .*ECONNREFUSED/, /PostgreSQL is running/);

  const url = await server.createDatabase();
  const name = new URL(url).pathname.slice(1);
  const port = new URL(url).port;
  await superuser(url, async (client) => {
    await client.query(`CREATE ROLE herald LOGIN PASSWORD 'right'`);
    await client.query(`CREATE ROLE visitor LOGIN PASSWORD 'right'`);
    await client.query(`ALTER DATABASE ${name} OWNER TO herald`);
  });
  await fails(`postgres://herald:wrong@127.0.0.1:${port}/${name}`, /password authentication failed/, /user name and password/);
  await fails(`postgres://herald:right@127.0.0.1:${port}/nosuchdb`, /does not exist/, /createdb/);
  await fails(`postgres://visitor:right@127.0.0.1:${port}/${name}`, /permission denied/, /GRANT CREATE/);

  const store = await open(t, `postgres://herald:right@127.0.0.1:${port}/${name}`);
  assert.equal(store.description, `postgres://herald@127.0.0.1:${port}/${name}`);
  await store.verify();
  // Connections the server drops (a restart) are made again; the process goes on.
  const dropAll = (client: pg.Client) => client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'herald'`);
  await superuser(url, dropAll);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await store.subscribers.counts()).active, 0);
  // Once it cannot connect at all, every question is the clear error, not a stack trace.
  await superuser(url, async (client) => {
    await client.query('ALTER ROLE herald NOLOGIN');
    await dropAll(client);
  });
  await assert.rejects(store.subscribers.counts(), (error) => error instanceof HeraldError && error.code === 'E_STATE' && error.problem.file === store.description && /not permitted to log in/.test(error.message));
  await assert.rejects(store.verify(), (error) => error instanceof HeraldError && error.code === 'E_STATE');
  await superuser(url, (client) => client.query('ALTER ROLE herald LOGIN'));
  await store.close();
  // A database a newer herald has written to is left alone.
  await superuser(url, (client) => client.query(`UPDATE meta SET value = '99' WHERE key = 'schema'`));
  await fails(`postgres://herald:right@127.0.0.1:${port}/${name}`, /written by a newer herald \(schema 99; this herald knows 2\)/, /upgrade herald/);
});

test('machines sharing one database share one signing secret: the first brings its own secret file, the others take it from the database', async (t) => {
  const url = await server.createDatabase();
  const { openApp } = await import('../../src/app.js');
  const { writeFile, mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const machine = async (secretFile?: string) => {
    const site = await makeSite(t, {}, null);
    if (secretFile) {
      await mkdir(join(site.dir, '.herald'), { recursive: true });
      await writeFile(join(site.dir, '.herald', 'secret'), secretFile);
    }
    const config = parseConfig({ site: { url: 'https://news.example.com/' }, database: { url } }, undefined, site.dir);
    const app = await openApp(config, { cwd: site.dir, env: {}, clock: { now: () => new Date() } });
    t.after(() => app.close());
    return app;
  };
  const moved = 'the-secret-of-the-machine-that-moved-from-sqlite-0123456789';
  const first = await machine(moved);
  const second = await machine('another-machines-own-secret-file-that-must-not-win-012345');
  const third = await machine();
  assert.equal(first.newsletter.deps.secret, moved, "the first machine's links keep working");
  assert.equal(second.newsletter.deps.secret, moved);
  assert.equal(third.newsletter.deps.secret, moved);
  assert.equal(second.newsletter.webhookKey('bounce'), first.newsletter.webhookKey('bounce'), 'one webhook key behind a load balancer');
});
