// The newsletter core's rules, run fast: the in-memory store (and SQLite where both adapters must
// keep one contract), a scripted transport in place of SMTP, and a clock the test moves.
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'libsql';
import { openSqliteStore, type SqliteStore } from '../../src/adapters/store/sqlite.js';
import { MemoryStore } from '../../src/adapters/store/memory.js';
import { parseConfig, type Config } from '../../src/config.js';
import { HeraldError } from '../../src/errors.js';
import { personalise } from '../../src/newsletter/email/render.js';
import { Newsletter } from '../../src/newsletter/newsletter.js';
import { runPass, sendPost, type NewsletterDeps, type PassReport, type SendOptions } from '../../src/newsletter/pass.js';
import type { Change, DeliveryUpdate, MailTransport, OutgoingMessage, SendResult, Store } from '../../src/newsletter/ports.js';
import type { Status, Subscriber } from '../../src/newsletter/subscriber.js';
import { CONFIRM_INTERVAL_MS, parseAddress, transition, type Outcome, type SubscriptionEvent } from '../../src/newsletter/subscriptions.js';
import { loadPosts } from '../../src/posts/load.js';
import type { PostMeta } from '../../src/posts/parse.js';
import { scanPostFiles } from '../../src/posts/scan.js';
import { makeSite, post, type Site } from '../helpers.js';

// ---- a transport that answers from a script ----

const OK: SendResult = { ok: true };
const TEMPORARY: SendResult = { ok: false, permanent: false, reason: '451 Try again later' };
const PERMANENT: SendResult = { ok: false, permanent: true, reason: '550 No such user' };

/** What the transport does with one try: a result, or an error it throws (nothing can be sent). */
type Answer = SendResult | HeraldError;
/** `attempt` counts this address's tries over the whole test; `call` counts every try. */
type Script = (address: string, attempt: number, call: number) => Answer;

/** Per address, the answers to its 1st, 2nd, ... try; accepted once its list runs out. */
const perAddress =
  (answers: Record<string, Answer[]>): Script =>
  (address, attempt) =>
    answers[address]?.[attempt - 1] ?? OK;

class ScriptedTransport implements MailTransport {
  /** How long the server takes to answer each try. */
  delayMs = 0;
  readonly description = 'scripted://';
  /** Every try, in order, with what it was answered. */
  readonly tries: { message: OutgoingMessage; answer: Answer }[] = [];
  /** How many times the core opened it: a pass with nothing to send opens none. */
  opened = 0;
  private readonly attempts = new Map<string, number>();

  constructor(public script: Script = () => OK) {}

  async send(message: OutgoingMessage): Promise<SendResult> {
    const address = message.to.address;
    const attempt = (this.attempts.get(address) ?? 0) + 1;
    this.attempts.set(address, attempt);
    const answer = this.script(address, attempt, this.tries.length + 1);
    this.tries.push({ message, answer });
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (answer instanceof HeraldError) throw answer;
    return answer;
  }

  /** The messages the server took, each as [address, slugs of the posts in it]. */
  accepted(since = 0): [string, string[]][] {
    return this.tries
      .slice(since)
      .filter(({ answer }) => !(answer instanceof HeraldError) && answer.ok)
      .map(({ message }) => [message.to.address, slugsIn(message)]);
  }

  async close(): Promise<void> {}
}

// The site's own templates (written by `fixture`) list one line per post: which posts a message holds.
const EMAIL_TXT = '{% for post in posts %}post: {{ post.url }}\n{% endfor %}Unsubscribe: {{ unsubscribe_url }}\n';
const EMAIL_HTML = '<html><body>{% for post in posts %}<h1>{{ post.title }}</h1>{{ post.html | raw }}{% endfor %}<a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>';

function slugsIn(message: OutgoingMessage): string[] {
  return [...personalise(message.body.draft, message.body.recipient).text.matchAll(/^post: https:\/\/news\.example\.com\/([^/\s]+)\/$/gm)].map((match) => match[1]!);
}

/** Accepted messages grouped by address, each message as its slugs joined by '+', sorted. */
function byReader(accepted: [string, string[]][]): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [address, slugs] of accepted) (result[address] ??= []).push(slugs.join('+'));
  for (const list of Object.values(result)) list.sort();
  return result;
}

// ---- a newsletter in a temp folder ----

type OpenStore = (t: TestContext) => Promise<Store>;

const memoryStore: OpenStore = async () => new MemoryStore();

const sqliteStore: OpenStore = async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-db-'));
  const store = openSqliteStore(join(dir, 'herald.db'));
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
};

const STORES: [name: string, open: OpenStore][] = [
  ['memory', memoryStore],
  ['SQLite', sqliteStore],
];

function configFor(dir: string, mode: 'each' | 'digest', maxConnections: number): Config {
  return parseConfig(
    { site: { title: 'Test News', url: 'https://news.example.com/' }, email: { from: 'Test News <news@example.com>', mode }, smtp: { maxConnections } },
    undefined,
    dir,
  );
}

interface FixtureOptions {
  /** Post files present from the start, by name under posts/. */
  posts?: Record<string, string>;
  readers?: (string | { email: string; topics: string[] })[];
  mode?: 'each' | 'digest';
  /** smtp.maxConnections: messages in flight are 4 per connection. */
  maxConnections?: number;
  /** When the newsletter starts: the first pass, which sets the baseline, runs then. */
  start?: string;
  open?: OpenStore;
}

interface Fixture {
  site: Site;
  deps: NewsletterDeps;
  store: Store;
  newsletter: Newsletter;
  transport: ScriptedTransport;
  at(iso: string): void;
  setMode(mode: 'each' | 'digest'): void;
  /** Every post in the folder now, as the build reads them. */
  posts(): Promise<PostMeta[]>;
  postNamed(slug: string): Promise<PostMeta>;
  pass(options?: SendOptions): Promise<PassReport>;
  add(email: string, topics?: string[]): Promise<Outcome>;
}

async function fixture(t: TestContext, options: FixtureOptions = {}): Promise<Fixture> {
  const { posts = {}, readers = [], mode = 'each', maxConnections = 5, start = '2026-03-05T09:00:00Z', open = memoryStore } = options;
  const site = await makeSite(t, posts, null);
  await site.write('templates/email.txt', EMAIL_TXT);
  await site.write('templates/email.html', EMAIL_HTML);
  const store = await open(t);
  const transport = new ScriptedTransport();
  let now = new Date(start);
  const deps: NewsletterDeps = {
    config: configFor(site.dir, mode, maxConnections),
    cwd: site.dir,
    store,
    clock: { now: () => now },
    secret: 'a-test-secret-that-is-long-enough-to-sign-links-0123456789',
    transport: () => {
      transport.opened++;
      return transport;
    },
    retry: { attempts: 2, backoffMs: 1 },
  };
  const newsletter = new Newsletter(deps);
  const readPosts = async () => {
    const loaded = await loadPosts(deps.config, site.dir, scanPostFiles(deps.config.paths.posts, site.dir), new Map());
    assert.deepEqual(loaded.problems, []);
    return loaded.posts;
  };
  const self: Fixture = {
    site,
    deps,
    store,
    newsletter,
    transport,
    at: (iso) => void (now = new Date(iso)),
    setMode: (next) => void (deps.config = configFor(site.dir, next, maxConnections)),
    posts: readPosts,
    postNamed: async (slug) => {
      const found = (await readPosts()).find((meta) => meta.slug === slug);
      assert.ok(found, `no post ${slug}`);
      return found;
    },
    pass: async (passOptions) => runPass(deps, await readPosts(), passOptions),
    add: (email, topics) => newsletter.add(parseAddress(email)!, topics ? { topics } : {}),
  };
  for (const reader of readers) {
    const outcome = typeof reader === 'string' ? await self.add(reader) : await self.add(reader.email, reader.topics);
    assert.equal(outcome, 'added');
  }
  const first = await self.pass();
  assert.ok(first.baseline, 'the first pass sets the baseline');
  return self;
}

const postAt = (title: string, date: string, fields: Parameters<typeof post>[0] = {}) => post({ title, date, ...fields });

// ---- 1 and 2, against every store ----

async function digestAfterPartialFailure(t: TestContext, open: OpenStore): Promise<void> {
  const readers = ['r1@example.com', 'r2@example.com', 'r3@example.com'];
  const f = await fixture(t, { readers, mode: 'digest', open });
  f.transport.script = perAddress({ 'r3@example.com': [TEMPORARY, TEMPORARY] });

  await f.site.write('posts/alpha.md', postAt('Alpha', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  const first = await f.pass();
  assert.deepEqual(byReader(f.transport.accepted()), { 'r1@example.com': ['alpha'], 'r2@example.com': ['alpha'] });
  assert.equal(f.transport.tries.filter((item) => item.message.to.address === 'r3@example.com').length, 2, 'r3 is tried as often as the retry policy says');
  assert.deepEqual(
    first.posts.map(({ slug, sent, failed, remaining, finished }) => ({ slug, sent, failed, remaining, finished })),
    [{ slug: 'alpha', sent: 2, failed: 1, remaining: 1, finished: false }],
  );

  const alpha = await f.postNamed('alpha');
  const { returns, ...sending } = (await f.newsletter.mailStatus(await f.posts())).posts.get(alpha.file) as { returns: unknown };
  assert.deepEqual(sending, { state: 'sending', delivered: 2, recipients: 3 });
  assert.deepEqual(returns, { accepted: 2, delivered: 0, bounced: 0, softBounced: 0, complained: 0, bounceRate: 0, complaintRate: 0 });

  await f.site.write('posts/beta.md', postAt('Beta', '2026-03-05 12:00'));
  f.at('2026-03-05T13:00:00Z');
  const triesBefore = f.transport.tries.length;
  const second = await f.pass();
  assert.deepEqual(byReader(f.transport.accepted(triesBefore)), {
    'r1@example.com': ['beta'],
    'r2@example.com': ['beta'],
    'r3@example.com': ['alpha+beta'],
  });
  assert.deepEqual(
    second.posts.map(({ slug, sent, alreadySent, finished }) => ({ slug, sent, alreadySent, finished })),
    [
      { slug: 'alpha', sent: 1, alreadySent: 2, finished: true },
      { slug: 'beta', sent: 3, alreadySent: 0, finished: true },
    ],
  );
  const alphaCount = f.transport.accepted().filter(([, slugs]) => slugs.includes('alpha')).map(([address]) => address);
  assert.deepEqual(alphaCount.sort(), readers, 'everyone got Alpha exactly once');
  const status = (await f.newsletter.mailStatus(await f.posts())).posts.get(alpha.file);
  assert.equal(status?.state === 'sent' && status.recipients, 3, 'Alpha is sent, to 3');
}

async function resendIsARound(t: TestContext, open: OpenStore): Promise<void> {
  const readers = ['r1@example.com', 'r2@example.com', 'r3@example.com', 'r4@example.com', 'r5@example.com', 'r6@example.com'];
  // One connection: at most 4 messages in flight, so a stop lands midway through 7 readers.
  const f = await fixture(t, { readers, maxConnections: 1, open });
  await f.site.write('posts/news.md', postAt('News', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  assert.equal(f.transport.accepted().length, 6);

  assert.equal(await f.add('late@example.com'), 'added');
  const everyone = [...readers, 'late@example.com'].sort();
  const news = await f.postNamed('news');

  // Stopped once the transport has seen two messages: those in flight finish, the rest stay queued.
  f.at('2026-03-05T12:00:00Z');
  let mark = f.transport.tries.length;
  const killed = await sendPost(f.deps, news, { resend: true, stopped: () => f.transport.tries.length - mark >= 2 });
  const firstPart = f.transport.accepted(mark).map(([address]) => address);
  assert.equal(killed.posts[0]!.round, 1);
  assert.ok(killed.halted, 'the report says the send stopped early');
  assert.ok(firstPart.length > 0 && firstPart.length < 7, `stopped midway (${firstPart.length} of 7 sent)`);
  assert.equal(killed.posts[0]!.remaining, 7 - firstPart.length);

  mark = f.transport.tries.length;
  const continued = await sendPost(f.deps, news, { resend: true });
  const secondPart = f.transport.accepted(mark).map(([address]) => address);
  assert.equal(continued.posts[0]!.round, 1, 'the unfinished round is continued, not a new one opened');
  assert.equal(continued.posts[0]!.alreadySent, firstPart.length);
  assert.deepEqual([...firstPart, ...secondPart].sort(), everyone, 'round 1 reaches everyone once, the reader who joined late too');
  assert.deepEqual(await f.store.deliveries.tally(continued.posts[0]!.key, 1), { queued: 0, submitted: 0, sent: 7, bounced: 0, skipped: 0, failed: 0 });

  mark = f.transport.tries.length;
  f.at('2026-03-05T13:00:00Z');
  const later = await f.pass();
  assert.deepEqual(later.posts, [], 'a sent post is not due again');
  const byHand = await sendPost(f.deps, news);
  assert.equal(byHand.posts[0]!.sent, 0, 'round 0 by hand: everyone had it in some round');
  assert.equal(f.transport.tries.length, mark);

  const again = await sendPost(f.deps, news, { resend: true });
  assert.equal(again.posts[0]!.round, 2, 'a finished round is not continued: another resend opens round 2');
  assert.deepEqual(f.transport.accepted(mark).map(([address]) => address).sort(), everyone);
}

for (const [name, open] of STORES) {
  test(`digest after a partial failure: each reader gets each post once, the one who missed it in a digest with the new one (${name} store)`, (t) =>
    digestAfterPartialFailure(t, open));

  test(`a resend sends everyone again in a round of its own, a stopped resend continues that round, and no pass sends the post again (${name} store)`, (t) =>
    resendIsARound(t, open));
}

test('a reader still queued in round 0 who is sent the post by a resend meanwhile does not get it again when round 0 is retried', async (t) => {
  const f = await fixture(t, { readers: ['r1@example.com', 'r2@example.com'] });
  f.transport.script = perAddress({ 'r2@example.com': [TEMPORARY, TEMPORARY] });
  await f.site.write('posts/news.md', postAt('News', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  assert.deepEqual(byReader(f.transport.accepted()), { 'r1@example.com': ['news'] });
  const news = await f.postNamed('news');
  await sendPost(f.deps, news, { resend: true });
  assert.deepEqual(byReader(f.transport.accepted()), { 'r1@example.com': ['news', 'news'], 'r2@example.com': ['news'] });
  f.at('2026-03-05T12:00:00Z');
  const retry = await f.pass();
  assert.deepEqual(byReader(f.transport.accepted()), { 'r1@example.com': ['news', 'news'], 'r2@example.com': ['news'] }, 'r2 had it by the resend');
  assert.deepEqual(
    retry.posts.map(({ sent, skipped, finished }) => ({ sent, skipped, finished })),
    [{ sent: 0, skipped: 1, finished: true }],
  );
});

test('a reader who unsubscribes while a slow send is running is not mailed at their turn', async (t) => {
  const readers = Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(2, '0')}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 1 });
  await f.site.write('posts/news.md', postAt('News', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  // Four messages in flight, half a second each: the last readers' turn comes after their page
  // was read a second ago, so they are read again first.
  f.transport.delayMs = 500;
  f.transport.script = (_address, _attempt, call) => {
    if (call === 1) void f.newsletter.remove(parseAddress('r11@example.com')!, false);
    return OK;
  };
  const report = await f.pass();
  assert.ok(!f.transport.accepted().some(([address]) => address === 'r11@example.com'), 'the last reader had unsubscribed by their turn');
  assert.deepEqual(
    report.posts.map(({ sent, skipped, finished }) => ({ sent, skipped, finished })),
    [{ sent: 11, skipped: 1, finished: true }],
  );
});

test('a dry run of a resend lists who a resend would reach: everyone for a new round, only the rest for an unfinished one', async (t) => {
  const readers = Array.from({ length: 8 }, (_, i) => `r${i}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 1 });
  await f.site.write('posts/news.md', postAt('News', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  const news = await f.postNamed('news');
  assert.deepEqual((await f.newsletter.plannedRecipients(news, { resend: true })).recipients.sort(), readers);
  assert.deepEqual(await f.newsletter.plannedRecipients(news), { recipients: [], alreadySent: 8 });
  const mark = f.transport.tries.length;
  // One connection: 4 messages in flight, so a stop after the first leaves the rest queued.
  await sendPost(f.deps, news, { resend: true, stopped: () => f.transport.tries.length - mark >= 1 });
  const reached = f.transport.accepted(mark).map(([address]) => address);
  assert.ok(reached.length < 8, `stopped midway (${reached.length})`);
  const planned = await f.newsletter.plannedRecipients(news, { resend: true });
  assert.deepEqual(planned.recipients.sort(), readers.filter((address) => !reached.includes(address)));
  assert.equal(planned.alreadySent, reached.length);
});

// ---- 3 to 8, against the memory store ----

test('after a switch from each to digest, a reader a failure left behind gets the missing posts in one digest with the new one', async (t) => {
  const f = await fixture(t, { readers: ['r1@example.com', 'r2@example.com', 'r3@example.com'], mode: 'each' });
  // Two posts, each tried twice: four refusals in the each-mode pass.
  f.transport.script = perAddress({ 'r3@example.com': [TEMPORARY, TEMPORARY, TEMPORARY, TEMPORARY] });
  await f.site.write('posts/one.md', postAt('One', '2026-03-05 10:00'));
  await f.site.write('posts/two.md', postAt('Two', '2026-03-05 10:30'));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  assert.deepEqual(byReader(f.transport.accepted()), { 'r1@example.com': ['one', 'two'], 'r2@example.com': ['one', 'two'] });

  f.setMode('digest');
  await f.site.write('posts/three.md', postAt('Three', '2026-03-05 12:00'));
  f.at('2026-03-05T13:00:00Z');
  const mark = f.transport.tries.length;
  const report = await f.pass();
  assert.deepEqual(byReader(f.transport.accepted(mark)), {
    'r1@example.com': ['three'],
    'r2@example.com': ['three'],
    'r3@example.com': ['one+two+three'],
  });
  assert.ok(report.posts.every((item) => item.finished));
});

test('readers with topics get only posts that share one, matched by slug; no topics means every post; a reader whose topics changed after being queued is skipped', async (t) => {
  const f = await fixture(t, {
    readers: [
      { email: 'work@example.com', topics: ['work'] },
      { email: 'life@example.com', topics: ['Life'] },
      'all@example.com',
      { email: 'switch@example.com', topics: ['WORK'] },
    ],
  });
  f.transport.script = perAddress({ 'switch@example.com': [TEMPORARY, TEMPORARY] });
  await f.site.write('posts/office.md', postAt('Office', '2026-03-05 10:00', { topics: ['Work'] }));
  await f.site.write('posts/garden.md', postAt('Garden', '2026-03-05 10:30', { topics: ['Life', 'Home'] }));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  assert.deepEqual(byReader(f.transport.accepted()), {
    'work@example.com': ['office'],
    'life@example.com': ['garden'],
    'all@example.com': ['garden', 'office'],
  });

  // Queued for Office (refused for now), then follows Life only: Office is not theirs any more.
  assert.equal(await f.add('switch@example.com', ['life']), 'updated');
  f.at('2026-03-05T12:00:00Z');
  const mark = f.transport.tries.length;
  const report = await f.pass();
  assert.equal(f.transport.tries.length, mark, 'nobody is mailed');
  const office = report.posts.find((item) => item.slug === 'office')!;
  assert.deepEqual({ skipped: office.skipped, sent: office.sent, finished: office.finished }, { skipped: 1, sent: 0, finished: true });
  const row = (f.store as MemoryStore).log.get(`${office.key}\0switch@example.com\x000`);
  assert.deepEqual({ state: row?.state, reason: row?.reason }, { state: 'skipped', reason: 'no longer follows its topics' });
});

test('the first pass sets the baseline and mails nothing; posts published by then are never mailed; a same-day post without a time added later is due, one with an earlier time is not', async (t) => {
  const posts = { 'old.md': postAt('Old', '2026-03-01'), 'morning.md': postAt('Morning', '2026-03-05') };
  const f = await fixture(t, { posts, readers: ['r1@example.com'], start: '2026-03-05T09:00:00Z' });
  assert.equal(await f.store.state.baseline(), '2026-03-05T09:00:00.000Z');
  assert.equal(f.transport.opened, 0, 'the baseline pass opens no connection');

  await f.site.write('posts/today.md', postAt('Today', '2026-03-05'));
  await f.site.write('posts/early.md', postAt('Early', '2026-03-05 08:00'));
  f.at('2026-03-05T15:00:00Z');
  await f.pass();
  f.at('2026-03-06T15:00:00Z');
  await f.pass();
  assert.deepEqual(byReader(f.transport.accepted()), { 'r1@example.com': ['today'] });

  const status = (await f.newsletter.mailStatus(await f.posts())).posts;
  const state = async (slug: string) => status.get((await f.postNamed(slug)).file)?.state;
  assert.equal(await state('old'), 'before-baseline');
  assert.equal(await state('morning'), 'before-baseline', 'a day-only post that was there at the baseline is never mailed');
  assert.equal(await state('today'), 'sent');
  assert.equal(await state('early'), 'not-mailed');
});

test('a post renamed (file and slug) or edited after it was sent is not sent again', async (t) => {
  const f = await fixture(t, { readers: ['r1@example.com', 'r2@example.com'] });
  await f.site.write('posts/first.md', postAt('First', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  assert.equal(f.transport.accepted().length, 2);

  // Renamed: a new file, slug and entry id; title and date are what is left to know it by.
  await rename(join(f.site.dir, 'posts/first.md'), join(f.site.dir, 'posts/renamed.md'));
  f.at('2026-03-05T12:00:00Z');
  assert.deepEqual((await f.pass()).posts, []);
  const renamed = await f.postNamed('renamed');
  assert.equal((await f.newsletter.mailStatus(await f.posts())).posts.get(renamed.file)?.state, 'sent');

  // Then edited in place: the same file, a new body.
  await f.site.write('posts/renamed.md', postAt('First', '2026-03-05 10:00', { body: 'A rewritten paragraph.\n' }));
  f.at('2026-03-05T13:00:00Z');
  assert.deepEqual((await f.pass()).posts, []);
  assert.equal((await sendPost(f.deps, await f.postNamed('renamed'))).posts[0]!.alreadySent, 2, 'sent by hand, it finds everyone had it');
  assert.equal(f.transport.accepted().length, 2, 'nobody got it twice');
});

test('a post renamed then retitled, or retitled then renamed, is still known: each pass keeps its record under its current names', async (t) => {
  const f = await fixture(t, { readers: ['r1@example.com'] });
  await f.site.write('posts/x.md', postAt('X', '2026-03-05 10:00'));
  await f.site.write('posts/y.md', postAt('Y', '2026-03-05 10:30'));
  f.at('2026-03-05T11:00:00Z');
  await f.pass();
  assert.equal(f.transport.accepted().length, 2);

  // One change each: X is found by its title and date, Y by its file and slug.
  await rename(join(f.site.dir, 'posts/x.md'), join(f.site.dir, 'posts/x-renamed.md'));
  await f.site.write('posts/y.md', postAt('Y, corrected', '2026-03-05 10:30'));
  f.at('2026-03-05T12:00:00Z');
  assert.deepEqual((await f.pass()).posts, []);

  // Then the other change: none of the names the post was sent under is left.
  await f.site.write('posts/x-renamed.md', postAt('X, corrected', '2026-03-05 10:00'));
  await rename(join(f.site.dir, 'posts/y.md'), join(f.site.dir, 'posts/y-renamed.md'));
  f.at('2026-03-05T13:00:00Z');
  assert.deepEqual((await f.pass()).posts, []);
  const status = (await f.newsletter.mailStatus(await f.posts())).posts;
  assert.deepEqual([...status.values()].map((item) => item.state), ['sent', 'sent']);
  assert.equal(f.transport.accepted().length, 2, 'nobody got either post twice');
});

test('a reader who unsubscribes after being queued is skipped; a permanent failure bounces the reader and records the delivery in the same store change', async (t) => {
  const f = await fixture(t, { readers: ['gone@example.com', 'left@example.com', 'ok@example.com'] });
  const store = f.store as MemoryStore;
  // Spies: every subscriber change the core decides, and every delivery written outside one.
  const changes: Change<unknown>[] = [];
  const recordedApart: DeliveryUpdate[] = [];
  let inChange = false;
  const { change } = store.subscribers;
  store.subscribers.change = (key, decide) => {
    inChange = true;
    try {
      // The memory store applies a change synchronously within this call.
      return change(key, (current) => {
        const decided = decide(current);
        changes.push(decided);
        return decided;
      });
    } finally {
      inChange = false;
    }
  };
  const record = store.deliveries.record;
  store.deliveries.record = (updates) => {
    if (!inChange) recordedApart.push(...updates);
    return record(updates);
  };

  f.transport.script = perAddress({ 'gone@example.com': [PERMANENT], 'left@example.com': [TEMPORARY, TEMPORARY] });
  await f.site.write('posts/p.md', postAt('P', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  const first = await f.pass();
  const key = first.posts[0]!.key;
  assert.deepEqual(first.bounces, [{ email: 'gone@example.com', reason: '550 No such user' }]);
  assert.equal(f.transport.tries.filter((item) => item.message.to.address === 'gone@example.com').length, 1, 'a permanent refusal is not retried');

  assert.equal(store.rows.get('gone@example.com')?.status, 'bounced');
  const bounced = store.log.get(`${key}\0gone@example.com\x000`);
  assert.deepEqual({ state: bounced?.state, reason: bounced?.reason, attempts: bounced?.attempts }, { state: 'bounced', reason: '550 No such user', attempts: 1 });
  const bounceChange = changes.find((item) => item.next?.key === 'gone@example.com');
  assert.equal(bounceChange?.next?.status, 'bounced');
  assert.deepEqual(
    bounceChange?.deliveries?.map(({ post, recipient, round, state }) => ({ post, recipient, round, state })),
    [{ post: key, recipient: 'gone@example.com', round: 0, state: 'bounced' }],
    'the status and the delivery are one change',
  );
  assert.ok(!recordedApart.some((update) => update.recipient === 'gone@example.com'), 'the bounce is not written apart from the status');

  // Queued (refused for now), then unsubscribed before the next pass.
  assert.equal(store.log.get(`${key}\0left@example.com\x000`)?.state, 'queued');
  store.subscribers.change = change;
  await f.newsletter.remove(parseAddress('left@example.com')!, false);
  f.at('2026-03-05T12:00:00Z');
  const mark = f.transport.tries.length;
  const second = await f.pass();
  assert.equal(f.transport.tries.length, mark, 'nobody is mailed');
  assert.deepEqual({ skipped: second.posts[0]!.skipped, finished: second.posts[0]!.finished }, { skipped: 1, finished: true });
  const left = store.log.get(`${key}\0left@example.com\x000`);
  assert.deepEqual({ state: left?.state, reason: left?.reason }, { state: 'skipped', reason: 'unsubscribed' });
  assert.equal((await f.newsletter.mailStatus(await f.posts())).posts.get((await f.postNamed('p')).file)?.state, 'sent');
});

test('a transport that throws mid-send stops the send, keeps what was accepted, and the next pass sends only the rest', async (t) => {
  const readers = Array.from({ length: 8 }, (_, i) => `r${i + 1}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 1 });
  const broken = new HeraldError({ code: 'E_DKIM', message: 'cannot sign the message: the DKIM key is not a private key', hint: 'check smtp.dkim.privateKey' });
  f.transport.script = (_address, _attempt, call) => (call === 2 ? broken : OK);
  await f.site.write('posts/p.md', postAt('P', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  await assert.rejects(f.pass(), (error) => error instanceof HeraldError && error.code === 'E_DKIM');

  const first = f.transport.accepted().map(([address]) => address);
  const thrownAt = f.transport.tries[1]!.message.to.address;
  assert.ok(first.length > 0, 'messages in flight finish');
  assert.ok(f.transport.tries.length < readers.length, `no new message is taken after the error (${f.transport.tries.length} tried)`);
  const store = f.store as MemoryStore;
  const stateOf = (address: string) => [...store.log.values()].find((row) => row.recipient === address)?.state;
  for (const address of first) assert.equal(stateOf(address), 'sent', `${address} is recorded as sent`);
  assert.equal(stateOf(thrownAt), 'queued');

  f.transport.script = () => OK;
  f.at('2026-03-05T12:00:00Z');
  const mark = f.transport.tries.length;
  const second = await f.pass();
  const rest = f.transport.accepted(mark).map(([address]) => address);
  assert.deepEqual(rest.sort(), readers.filter((address) => !first.includes(address)));
  assert.deepEqual({ sent: second.posts[0]!.sent, alreadySent: second.posts[0]!.alreadySent, finished: second.posts[0]!.finished }, { sent: rest.length, alreadySent: first.length, finished: true });
});

test('the next message goes out while the last one is recorded, and is counted sent only once recorded; a log that cannot record stops the send with its error', async (t) => {
  const readers = Array.from({ length: 30 }, (_, i) => `r${String(i + 1).padStart(2, '0')}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 1, open: sqliteStore });
  await f.site.write('posts/p.md', postAt('P', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  // Counted as the progress says: each count follows its own record into the log.
  const counted: number[] = [];
  const seen = f.store.deliveries;
  const report = await f.pass({
    onProgress: (done) => {
      counted.push(done);
    },
  });
  assert.equal(report.posts[0]!.sent, readers.length);
  assert.deepEqual(counted, readers.map((_, i) => i + 1));
  assert.equal((await seen.tally(report.posts[0]!.key, 0)).sent, readers.length);

  // The database refuses every delivery update from the third message on (a trigger another
  // connection adds): nothing more goes out once that is known, and the error is the send's.
  await f.site.write('posts/q.md', postAt('Q', '2026-03-05 12:00'));
  f.at('2026-03-05T13:00:00Z');
  const mark = f.transport.tries.length;
  const other = new Database((f.store as SqliteStore).file);
  t.after(() => other.close());
  f.transport.delayMs = 5;
  f.transport.script = (_address, _attempt, call) => {
    if (call === mark + 3) other.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON deliveries BEGIN SELECT RAISE(ABORT, 'the log refuses'); END`);
    return OK;
  };
  await assert.rejects(f.pass(), /the log refuses/);
  assert.ok(f.transport.tries.length - mark < readers.length, `the send stopped (${f.transport.tries.length - mark} tried)`);
  other.exec('DROP TRIGGER refuse');
});

test('at most 32 messages are out of the delivery log at once (being sent, or their outcome waiting), however slow it is: a crash sends again only those', async (t) => {
  const readers = Array.from({ length: 200 }, (_, i) => `r${String(i + 1).padStart(3, '0')}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 5 });
  await f.site.write('posts/p.md', postAt('P', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  // A log that takes 5 ms a record, one at a time: outcomes pile up if nothing bounds them.
  const deliveries = f.store.deliveries;
  const record = deliveries.record.bind(deliveries);
  let waiting = 0;
  let most = 0;
  let queue = Promise.resolve();
  deliveries.record = (updates) => {
    waiting++;
    most = Math.max(most, waiting);
    const done = queue.then(() => new Promise<void>((resolve) => setTimeout(resolve, 5))).then(() => record(updates));
    queue = done.catch(() => {});
    return done.finally(() => waiting--);
  };
  const report = await f.pass();
  assert.equal(report.posts[0]!.sent, readers.length);
  assert.ok(most <= 32, `${most} records waited at once`);
  assert.ok(most > 5, `${most}: sending went on while outcomes were recorded`);
});

// ---- 9: the lifecycle, pure ----

const T0 = new Date('2026-03-05T12:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const ADDRESS = parseAddress('Ann@Example.com')!;

/** A subscriber whose status changed an hour before T0, and who was last sent a confirmation then. */
function subscriber(status: Status, fields: Partial<Subscriber> = {}): Subscriber {
  const hourAgo = minutes(-60).toISOString();
  return { key: ADDRESS.key, email: ADDRESS.email, name: 'Ann', status, topics: ['work'], extra: {}, createdAt: hourAgo, updatedAt: hourAgo, statusAt: hourAgo, confirmSentAt: hourAgo, ...fields };
}

const EVENTS = {
  subscribe: { type: 'subscribe', name: 'Stranger', topics: ['other'] },
  'confirm (link made before the last status change)': { type: 'confirm', issuedAt: minutes(-90) },
  'confirm (link made after it)': { type: 'confirm', issuedAt: minutes(-30) },
  unsubscribe: { type: 'unsubscribe' },
  add: { type: 'add', topics: ['life'] },
  remove: { type: 'remove', purge: false },
  purge: { type: 'remove', purge: true },
  'import as active': { type: 'import', name: 'Imported', status: 'active', topics: [], extra: {} },
  bounce: { type: 'bounce', reason: '550 No such user' },
  complain: { type: 'complain', reason: 'abuse report' },
} satisfies Record<string, SubscriptionEvent>;

type EventName = keyof typeof EVENTS;
/** The outcome, and the status after it: undefined when nothing is written, null when the row is deleted. */
type Expected = [Outcome, Status | null | undefined];
type Current = Status | 'none';

const TABLE: Record<Current, Record<EventName, Expected>> = {
  none: {
    subscribe: ['created', 'pending'],
    'confirm (link made before the last status change)': ['gone', undefined],
    'confirm (link made after it)': ['gone', undefined],
    unsubscribe: ['gone', undefined],
    add: ['added', 'active'],
    remove: ['gone', undefined],
    purge: ['gone', undefined],
    'import as active': ['added', 'active'],
    bounce: ['unchanged', undefined],
    complain: ['unchanged', undefined],
  },
  pending: {
    subscribe: ['confirm-again', 'pending'],
    'confirm (link made before the last status change)': ['confirmed', 'active'],
    'confirm (link made after it)': ['confirmed', 'active'],
    unsubscribe: ['unsubscribed', 'unsubscribed'],
    add: ['updated', 'active'],
    remove: ['removed', 'unsubscribed'],
    purge: ['purged', null],
    'import as active': ['unchanged', undefined],
    bounce: ['bounced', 'bounced'],
    complain: ['complained', 'complained'],
  },
  active: {
    subscribe: ['quiet', undefined],
    'confirm (link made before the last status change)': ['already', undefined],
    'confirm (link made after it)': ['already', undefined],
    unsubscribe: ['unsubscribed', 'unsubscribed'],
    add: ['updated', 'active'],
    remove: ['removed', 'unsubscribed'],
    purge: ['purged', null],
    'import as active': ['unchanged', undefined],
    bounce: ['bounced', 'bounced'],
    complain: ['complained', 'complained'],
  },
  unsubscribed: {
    subscribe: ['confirm-again', 'unsubscribed'],
    'confirm (link made before the last status change)': ['left', undefined],
    'confirm (link made after it)': ['confirmed', 'active'],
    unsubscribe: ['already', undefined],
    add: ['refused', undefined],
    remove: ['unchanged', undefined],
    purge: ['purged', null],
    'import as active': ['unchanged', undefined],
    bounce: ['unchanged', undefined],
    complain: ['complained', 'complained'],
  },
  bounced: {
    subscribe: ['confirm-again', 'bounced'],
    'confirm (link made before the last status change)': ['blocked', undefined],
    'confirm (link made after it)': ['confirmed', 'active'],
    unsubscribe: ['already', undefined],
    add: ['updated', 'active'],
    remove: ['unchanged', undefined],
    purge: ['purged', null],
    'import as active': ['unchanged', undefined],
    bounce: ['unchanged', undefined],
    complain: ['complained', 'complained'],
  },
  complained: {
    subscribe: ['quiet', undefined],
    'confirm (link made before the last status change)': ['blocked', undefined],
    'confirm (link made after it)': ['blocked', undefined],
    unsubscribe: ['already', undefined],
    add: ['refused', undefined],
    remove: ['unchanged', undefined],
    purge: ['purged', null],
    'import as active': ['unchanged', undefined],
    bounce: ['unchanged', undefined],
    complain: ['unchanged', undefined],
  },
};

test('the lifecycle: every status meets every event with the outcome and next status the rules give', () => {
  for (const [current, row] of Object.entries(TABLE) as [Current, Record<EventName, Expected>][]) {
    for (const [name, [outcome, status]] of Object.entries(row) as [EventName, Expected][]) {
      const before = current === 'none' ? undefined : subscriber(current);
      const change = transition(ADDRESS, before, EVENTS[name], T0);
      const where = `${current} + ${name}`;
      assert.equal(change.result, outcome, where);
      assert.equal(change.next === undefined ? undefined : change.next === null ? null : change.next.status, status, where);
      if (change.next) {
        assert.equal(change.next.key, ADDRESS.key, where);
        assert.equal(change.next.statusAt, change.next.status === before?.status ? before.statusAt : T0.toISOString(), `${where}: statusAt moves only with the status`);
      }
    }
  }

  // Complained is final: nothing brings the address back onto the list (a purge forgets it).
  for (const [name, event] of Object.entries(EVENTS)) {
    const next = transition(ADDRESS, subscriber('complained'), event, T0).next;
    assert.ok(next === undefined || next === null || next.status === 'complained', `complained + ${name}`);
  }
  // An import never reactivates anyone, whatever status the file claims.
  for (const current of ['unsubscribed', 'bounced', 'complained', 'pending'] as const) {
    assert.equal(transition(ADDRESS, subscriber(current), EVENTS['import as active'], T0).next, undefined, `import over ${current}`);
  }
  // An import brings its own status, name and topics for a new address.
  const imported = transition(ADDRESS, undefined, { type: 'import', name: 'Bo', status: 'unsubscribed', topics: ['x'], createdAt: '2020-01-01T00:00:00.000Z', extra: { plan: 'pro' } }, T0).next;
  assert.deepEqual({ status: imported?.status, name: imported?.name, topics: imported?.topics, createdAt: imported?.createdAt, extra: imported?.extra }, { status: 'unsubscribed', name: 'Bo', topics: ['x'], createdAt: '2020-01-01T00:00:00.000Z', extra: { plan: 'pro' } });
  // A stranger's subscribe does not rewrite a known address's name or topics.
  const again = transition(ADDRESS, subscriber('pending'), EVENTS.subscribe, T0).next;
  assert.deepEqual({ name: again?.name, topics: again?.topics, confirmSentAt: again?.confirmSentAt }, { name: 'Ann', topics: ['work'], confirmSentAt: T0.toISOString() });
  // Bounces and complaints carry their delivery records whether or not the status changes.
  const deliveries: DeliveryUpdate[] = [{ post: 'p', round: 0, recipient: ADDRESS.key, state: 'bounced', at: T0.toISOString() }];
  for (const current of [undefined, subscriber('active'), subscriber('unsubscribed'), subscriber('complained')]) {
    assert.deepEqual(transition(ADDRESS, current, { type: 'bounce', reason: 'x', deliveries }, T0).deliveries, deliveries);
  }
});

test('the lifecycle: at most one confirmation email per address in ten minutes, however many subscribes', () => {
  const sentAt = (ago: number) => subscriber('pending', { confirmSentAt: minutes(-ago).toISOString() });
  assert.equal(CONFIRM_INTERVAL_MS, 10 * 60_000);
  assert.equal(transition(ADDRESS, sentAt(0), EVENTS.subscribe, T0).result, 'throttled');
  assert.equal(transition(ADDRESS, sentAt(9.99), EVENTS.subscribe, T0).result, 'throttled');
  assert.equal(transition(ADDRESS, sentAt(9.99), EVENTS.subscribe, T0).next, undefined, 'a throttled subscribe writes nothing');
  assert.equal(transition(ADDRESS, sentAt(10), EVENTS.subscribe, T0).result, 'confirm-again');
  assert.equal(transition(ADDRESS, subscriber('unsubscribed', { confirmSentAt: minutes(-5).toISOString() }), EVENTS.subscribe, T0).result, 'throttled');
  // The first subscribe of an address starts the clock.
  const created = transition(ADDRESS, undefined, EVENTS.subscribe, T0).next!;
  assert.equal(transition(ADDRESS, created, EVENTS.subscribe, minutes(1)).result, 'throttled');
  assert.equal(transition(ADDRESS, created, EVENTS.subscribe, minutes(10)).result, 'confirm-again');
});

// ---- what comes back after sending: bounces, complaints, caps ----

/** The fixture's config with more settings (bounces, smtp caps) merged in. */
function reconfigure(f: Fixture, extra: { bounces?: object; smtp?: object; email?: object }): void {
  f.deps.config = parseConfig(
    {
      site: { title: 'Test News', url: 'https://news.example.com/' },
      email: { from: 'Test News <news@example.com>', ...extra.email },
      smtp: { maxConnections: 5, ...extra.smtp },
      ...(extra.bounces ? { bounces: extra.bounces } : {}),
    },
    undefined,
    f.site.dir,
  );
}

/** The Message-ID of the accepted message to `address` of `slug`, as a bounce would quote it. */
function messageIdTo(f: Fixture, address: string, slug: string): string {
  const found = f.transport.tries.find(({ message, answer }) => message.to.address === address && slugsIn(message).includes(slug) && !(answer instanceof HeraldError) && answer.ok);
  assert.ok(found, `no message of ${slug} to ${address}`);
  return found.message.messageId;
}

for (const [name, open] of STORES) {
  test(`a bounce or complaint that comes back is matched by the Message-ID it quotes, recorded once, and changes the reader; one that names no message of ours changes nothing (${name} store)`, async (t) => {
    const f = await fixture(t, { open, readers: ['ann@example.com', 'bob@example.com', 'cy@example.com'] });
    await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
    f.at('2026-03-06T12:00:00Z');
    await f.pass();
    const bounce = { kind: 'bounce', permanent: true, messageId: messageIdTo(f, 'ann@example.com', 'one'), reason: '550 5.1.1 user unknown', source: 'dsn' } as const;
    const complaint = { kind: 'complaint', permanent: false, messageId: messageIdTo(f, 'bob@example.com', 'one'), reason: 'abuse', source: 'arf' } as const;
    const results = await f.newsletter.feedback([bounce, complaint, bounce]);
    assert.deepEqual(
      results.map((result) => [result.result, result.email, result.outcome]),
      [
        ['applied', 'ann@example.com', 'bounced'],
        ['applied', 'bob@example.com', 'complained'],
        ['repeated', 'ann@example.com', undefined],
      ],
    );
    assert.equal((await f.store.subscribers.get('ann@example.com'))?.status, 'bounced');
    assert.equal((await f.store.subscribers.get('bob@example.com'))?.status, 'complained');
    const record = await f.store.state.posts();
    const key = record.find((r) => r.file === 'posts/one.md')!.key;
    assert.deepEqual(await f.store.deliveries.returnedTally(key, 0), { delivered: 0, 'soft-bounced': 0, bounced: 1, complained: 1 });
    // A complaint stays a complaint: a delivery notice after it does not weaken it.
    assert.equal((await f.newsletter.feedback([{ ...complaint, kind: 'delivery' }]))[0]!.result, 'repeated');

    // Anyone can write a bounce: one that names a message herald did not send, or only an address,
    // or a made-up VERP token, changes nothing.
    const forged = await f.newsletter.feedback([
      { kind: 'bounce', permanent: true, messageId: '<0123456789abcdef0123456789abcdef@news.example.com>', reason: 'x', source: 'dsn' },
      { kind: 'complaint', permanent: false, recipient: 'cy@example.com', reason: 'abuse', source: 'arf' },
      { kind: 'bounce', permanent: true, returnPathToken: 'not-a-token', reason: 'x', source: 'dsn' },
    ]);
    assert.deepEqual(forged.map((result) => result.result), ['unmatched', 'unmatched', 'unmatched']);
    assert.equal((await f.store.subscribers.get('cy@example.com'))?.status, 'active');

    // Bounced and complained readers are never mailed again.
    await f.site.write('posts/two.md', postAt('Two', '2026-03-07'));
    f.at('2026-03-07T12:00:00Z');
    const since = f.transport.tries.length;
    await f.pass();
    assert.deepEqual(byReader(f.transport.accepted(since)), { 'cy@example.com': ['two'] });
  });

  test(`soft bounces count once per message and make a reader bounced at bounces.softLimit in a row; a delivery between them starts the count again (${name} store)`, async (t) => {
    const f = await fixture(t, { open, readers: ['ann@example.com'] });
    reconfigure(f, { bounces: { softLimit: 2 } });
    const soft = (slug: string) => ({ kind: 'bounce', permanent: false, messageId: messageIdTo(f, 'ann@example.com', slug), reason: '452 4.2.2 mailbox full', source: 'dsn' }) as const;
    for (const [slug, day] of [['one', '06'], ['two', '07'], ['three', '08']] as const) {
      await f.site.write(`posts/${slug}.md`, postAt(slug, `2026-03-${day}`));
      f.at(`2026-03-${day}T12:00:00Z`);
      await f.pass();
    }
    assert.deepEqual((await f.newsletter.feedback([soft('one'), soft('one')])).map((r) => [r.result, r.outcome]), [['applied', 'soft-bounced'], ['repeated', undefined]]);
    assert.equal((await f.store.subscribers.get('ann@example.com'))?.softBounces, 1);
    await f.newsletter.feedback([{ kind: 'delivery', permanent: false, messageId: messageIdTo(f, 'ann@example.com', 'two'), reason: 'delivered', source: 'ses' }]);
    assert.equal((await f.store.subscribers.get('ann@example.com'))?.softBounces, undefined, 'a delivery starts the count again');
    assert.equal((await f.newsletter.feedback([soft('three')]))[0]!.outcome, 'soft-bounced');
    assert.equal((await f.store.subscribers.get('ann@example.com'))?.status, 'active');
    // The second in a row (the delivered message's own later bounce counts: it is newer news).
    assert.equal((await f.newsletter.feedback([soft('two')]))[0]!.outcome, 'bounced');
    assert.equal((await f.store.subscribers.get('ann@example.com'))?.status, 'bounced');
  });

  test(`with email.bounces, each message's envelope sender carries its token, and a bounce sent back to it is matched (${name} store)`, async (t) => {
    const f = await fixture(t, { open, readers: ['ann@example.com'] });
    reconfigure(f, { email: { bounces: 'bounces@news.example.com' } });
    await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
    f.at('2026-03-06T12:00:00Z');
    await f.pass();
    const message = f.transport.tries.at(-1)!.message;
    const match = /^bounces\+([0-9a-f]{32})@news\.example\.com$/.exec(message.returnPath ?? '');
    assert.ok(match, message.returnPath);
    assert.equal(message.messageId, `<${match[1]}@news.example.com>`);
    const [result] = await f.newsletter.feedback([{ kind: 'bounce', permanent: true, returnPathToken: match[1], reason: '550 gone', source: 'dsn' }]);
    assert.equal(result!.outcome, 'bounced');
  });
}

test('a send stops itself once more than bounces.stopPercent of its first 100+ messages bounced; the rest stays queued', async (t) => {
  const readers = Array.from({ length: 300 }, (_, i) => `r${String(i).padStart(3, '0')}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 1 });
  reconfigure(f, { smtp: { maxConnections: 1 }, bounces: { stopPercent: 10 } });
  // One in five addresses is gone.
  f.transport.script = (address) => (Number(address.slice(1, 4)) % 5 === 0 ? PERMANENT : OK);
  await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
  f.at('2026-03-06T12:00:00Z');
  const report = await f.pass();
  assert.match(report.halted ?? '', /messages bounced \(\d+\.\d%, over bounces\.stopPercent: 10%\)/);
  const stat = report.posts[0]!;
  assert.ok(stat.sent + stat.bounced >= 100 && stat.sent + stat.bounced < 120, `stopped soon after 100 answers (${stat.sent + stat.bounced})`);
  assert.ok(stat.remaining > 150, 'the rest stays queued');
});

test('bounces that come back while a send runs (webhooks, herald inbound) stop it too, counted from the delivery log every 500 messages', async (t) => {
  const readers = Array.from({ length: 800 }, (_, i) => `r${String(i).padStart(3, '0')}@example.com`);
  const f = await fixture(t, { readers, maxConnections: 1 });
  reconfigure(f, { smtp: { maxConnections: 1 }, bounces: { stopPercent: 10 } });
  const reads: number[] = [];
  const tally = f.store.deliveries.returnedTally.bind(f.store.deliveries);
  f.store.deliveries.returnedTally = (post, round) => {
    reads.push(f.transport.tries.length);
    return tally(post, round);
  };
  // The server takes every message; then the first 100 come back as bounces.
  f.transport.script = (_address, _attempt, count) => {
    if (count === 101) void bounceBack(f, readers.slice(0, 100));
    return OK;
  };
  await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
  f.at('2026-03-06T12:00:00Z');
  const report = await f.pass();
  assert.match(report.halted ?? '', /^100 of 500 messages bounced \(20\.0%, over bounces\.stopPercent: 10%\)/);
  assert.deepEqual(reads, [500], 'read once, at the 500th message; the send stopped there');
  const { sent } = report.posts[0]!;
  assert.ok(sent >= 500 && sent < 505, `stopped at the 500th, but for the messages in flight (${sent})`);
});

/** Marks the deliveries of these readers' accepted messages as bounced later, as a bounce webhook does. */
async function bounceBack(f: Fixture, emails: string[]): Promise<void> {
  const [record] = await f.store.state.posts();
  for (const email of emails) {
    const key = parseAddress(email)!.key;
    await f.store.subscribers.change(key, (current) => ({ next: current, result: undefined, returned: [{ post: record!.key, round: 0, recipient: key, state: 'bounced', at: '2026-03-06T12:00:01Z' }] }));
  }
}

test('sending caps: a daily cap pauses the pass until a place frees, the next pass goes on without a burst; a warm-up sets the first days', async (t) => {
  const readers = Array.from({ length: 12 }, (_, i) => `r${String(i).padStart(2, '0')}@example.com`);
  const f = await fixture(t, { readers });
  reconfigure(f, { smtp: { limits: { perDay: 5 } } });
  await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
  f.at('2026-03-06T12:00:00Z');
  const first = await f.pass();
  assert.equal(first.posts[0]!.sent, 5);
  assert.deepEqual(first.paused, { until: '2026-03-07T12:00:00.000Z', cap: 'the daily cap (smtp.limits.perDay: 5)' });
  assert.equal(first.halted, undefined, 'a pause is not a failure');
  const status = (await f.newsletter.mailStatus(await f.posts())).posts.get('posts/one.md');
  assert.deepEqual(status && 'paused' in status ? status.paused : undefined, first.paused);
  f.at('2026-03-07T11:59:00Z');
  assert.equal((await f.pass()).posts[0]!.sent, 0, 'still within the day');
  f.at('2026-03-07T12:00:01Z');
  assert.equal((await f.pass()).posts[0]!.sent, 5);
  f.at('2026-03-08T12:00:02Z');
  const last = await f.pass();
  assert.equal(last.posts[0]!.sent, 2);
  assert.equal(last.paused, undefined);

  // A warm-up: day 1 of sending at most 2, day 2 at most 3, then the daily cap alone.
  const warm = await fixture(t, { readers });
  reconfigure(warm, { smtp: { warmup: [2, 3] } });
  await warm.site.write('posts/one.md', postAt('One', '2026-03-06'));
  const sentOn = async (at: string) => {
    warm.at(at);
    return (await warm.pass()).posts[0]?.sent;
  };
  assert.equal(await sentOn('2026-03-06T12:00:00Z'), 2);
  assert.equal(await sentOn('2026-03-07T12:00:01Z'), 3);
  assert.equal(await sentOn('2026-03-08T12:00:02Z'), 7);
});

// ---- a batch API (Postmark's): a call without an answer is reconciled before anything is sent again ----

/** A stand-in for Postmark's API on loopback: /email/batch and the outbound message search. */
async function postmarkStandIn(t: TestContext) {
  const taken: { to: string; metadata: string; id: string }[] = [];
  let calls = 0;
  /** What the nth batch call (1-based) does: answer, take the messages and never answer, or drop them unanswered. */
  const state = { hangOn: 0, hangMode: 'taken' as 'taken' | 'lost' };
  const { createServer } = await import('node:http');
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://x');
    if (request.headers['x-postmark-server-token'] !== 'test-token') {
      response.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ErrorCode: 10, Message: 'Bad or missing Server API token.' }));
      return;
    }
    if (request.method === 'POST' && url.pathname === '/email/batch') {
      const call = ++calls;
      const messages = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { To: string; Metadata: { herald: string } }[];
      if (call === state.hangOn && state.hangMode === 'lost') return; // never answered, never taken
      const answer = messages.map((message) => {
        if (message.To.startsWith('inactive')) return { ErrorCode: 406, Message: 'You tried to send to recipient(s) that have been marked as inactive.', To: message.To };
        const id = `pm-${taken.length + 1}`;
        taken.push({ to: message.To, metadata: message.Metadata.herald, id });
        return { ErrorCode: 0, Message: 'OK', MessageID: id, To: message.To, SubmittedAt: new Date().toISOString() };
      });
      if (call === state.hangOn) return; // taken, but the answer never comes
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/messages/outbound') {
      const found = taken.filter((message) => message.metadata === url.searchParams.get('metadata_herald'));
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ TotalCount: found.length, Messages: found.map((message) => ({ MessageID: message.id, To: [{ Email: message.to }] })) }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as import('node:net').AddressInfo;
  return { taken, state, calls: () => calls, url: `http://127.0.0.1:${port}` };
}

for (const hangMode of ['taken', 'lost'] as const) {
  test(`Postmark's batch API: a call whose answer never comes (the provider ${hangMode === 'taken' ? 'took' : 'never got'} the messages) is reconciled before any retry; everyone gets the post exactly once`, async (t) => {
    const readers = Array.from({ length: 1150 }, (_, i) => `r${String(i).padStart(4, '0')}@example.com`).concat('inactive@example.com');
    const f = await fixture(t, { readers, maxConnections: 1 });
    const postmark = await postmarkStandIn(t);
    const { postmarkTransport } = await import('../../src/adapters/mail/postmark.js');
    const transport = postmarkTransport({ token: 'test-token', endpoint: postmark.url, stream: 'broadcast', timeoutMs: 1000 });
    f.deps.transport = () => transport;
    postmark.state.hangOn = 2;
    postmark.state.hangMode = hangMode;
    await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
    f.at('2026-03-06T12:00:00Z');
    const first = await f.pass();
    assert.match(first.halted ?? '', /did not answer a batch of 500 messages .* recorded as submitted/);
    assert.deepEqual([first.posts[0]!.sent, first.posts[0]!.bounced], [499, 1], 'the first call: inactive@ sorts first');
    const key = (await f.store.state.posts()).find((record) => record.file === 'posts/one.md')!.key;
    assert.equal((await f.store.deliveries.tally(key, 0)).submitted, 500);

    f.at('2026-03-06T12:10:00Z');
    const second = await f.pass();
    assert.deepEqual(second.warnings, []);
    assert.equal(second.posts[0]!.finished, true);
    const counts = new Map<string, number>();
    for (const { to } of postmark.taken) counts.set(to, (counts.get(to) ?? 0) + 1);
    assert.equal(counts.size, 1150, 'everyone active got it');
    assert.ok([...counts.values()].every((n) => n === 1), 'nobody twice');
    assert.equal((await f.store.subscribers.get('inactive@example.com'))?.status, 'bounced', "Postmark's 406 (inactive recipient) is a bounce");
    // Each accepted message is known by Postmark's own id: its webhooks name that.
    const [delivery] = await f.store.deliveries.byProviderId(postmark.taken[0]!.id);
    assert.equal(delivery?.state, 'sent');
  });
}

test("a provider whose quota is used up (pausedUntil) pauses the pass like a cap: the rest stays queued, nobody is counted as failed", async (t) => {
  const f = await fixture(t, { readers: ['a@example.com', 'b@example.com', 'c@example.com'], maxConnections: 1 });
  const until = '2026-03-06T13:00:00.000Z';
  f.transport.script = (_address, _attempt, call) => (call <= 1 ? OK : { ok: false, permanent: false, reason: 'SES daily quota reached', pausedUntil: until });
  await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
  f.at('2026-03-06T12:00:00Z');
  const report = await f.pass();
  assert.deepEqual(report.paused, { until, cap: "the provider's quota (SES daily quota reached)" });
  assert.deepEqual([report.posts[0]!.sent, report.posts[0]!.failed, report.posts[0]!.remaining], [1, 0, 2]);
  assert.equal(report.halted, undefined);
  f.transport.script = () => OK;
  f.at('2026-03-06T13:00:01Z');
  assert.equal((await f.pass()).posts[0]!.sent, 2);
});

test("reports are matched by the message's own token whatever the provider's id, and after site.url changes; the message, not the address a report names, says who the reader is", async (t) => {
  const f = await fixture(t, { readers: ['ann@example.com', 'bob@example.com', 'cy@example.com'] });
  reconfigure(f, { email: { bounces: 'bounces@news.example.com' } });
  // A provider with ids of its own (Postmark, SES): the token still names the message.
  f.transport.script = (address) => ({ ok: true, providerId: `pm-${address}` });
  await f.site.write('posts/one.md', postAt('One', '2026-03-06'));
  f.at('2026-03-06T12:00:00Z');
  await f.pass();
  const token = (address: string) => /^bounces\+([0-9a-f]{32})@/.exec(f.transport.tries.find(({ message }) => message.to.address === address)!.message.returnPath!)![1]!;
  const annToken = token('ann@example.com');
  // The site moves to its real address: messages sent before still match.
  f.deps.config = parseConfig({ site: { title: 'Test News', url: 'https://newsletter.example.org/' }, email: { from: 'Test News <news@example.com>', bounces: 'bounces@newsletter.example.org' } }, undefined, f.site.dir);
  const results = await f.newsletter.feedback([
    { kind: 'unsubscribe', permanent: false, returnPathToken: annToken, reason: 'mailto', source: 'mailto' },
    { kind: 'complaint', permanent: false, messageId: `<${token('bob@example.com')}@news.example.com>`, reason: 'abuse', source: 'arf' },
    // The message names its reader, whatever address the report names (a forwarded copy's).
    { kind: 'bounce', permanent: true, returnPathToken: token('cy@example.com'), recipient: 'cy@forwarded.example', reason: '550', source: 'dsn' },
  ]);
  assert.deepEqual(results.map((result) => [result.result, result.email, result.outcome]), [['applied', 'ann@example.com', 'unsubscribed'], ['applied', 'bob@example.com', 'complained'], ['applied', 'cy@example.com', 'bounced']]);
});

test("a pass handed the same posts as the last one, which found none due, does not read the store; new posts, or a post still due, are looked at again", async (t) => {
  const f = await fixture(t, { readers: ['r1@example.com'] });
  // How often the store's post records are read: the work a pass with nothing to do should skip.
  let reads = 0;
  const records = f.store.state.posts.bind(f.store.state);
  f.store.state.posts = () => (reads++, records());
  const unchanged = await f.posts();
  assert.deepEqual((await f.newsletter.runPass(unchanged)).posts, []);
  assert.equal(reads, 1);
  assert.deepEqual((await f.newsletter.runPass(unchanged)).posts, []);
  assert.equal(reads, 1, 'the same posts, none due last time: nothing read');

  // herald start hands over new posts when one was added: looked at, and sent.
  await f.site.write('posts/alpha.md', postAt('Alpha', '2026-03-05 10:00'));
  f.at('2026-03-05T11:00:00Z');
  f.transport.script = () => TEMPORARY;
  const withAlpha = await f.posts();
  assert.equal((await f.newsletter.runPass(withAlpha)).posts[0]?.finished, false);
  // Still due (refused for a passing reason): the same posts are looked at again, and it goes out.
  f.transport.script = () => OK;
  const retried = await f.newsletter.runPass(withAlpha);
  assert.deepEqual(retried.posts.map(({ slug, sent, finished }) => ({ slug, sent, finished })), [{ slug: 'alpha', sent: 1, finished: true }]);
  const before = reads;
  assert.deepEqual((await f.newsletter.runPass(withAlpha)).posts, [], 'sent: nothing due');
  assert.deepEqual((await f.newsletter.runPass(withAlpha)).posts, []);
  assert.equal(reads, before + 1);
  assert.deepEqual(f.transport.accepted().map(([address]) => address), ['r1@example.com'], 'sent once');
});
