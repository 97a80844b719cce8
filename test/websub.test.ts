import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { main } from '../src/cli.js';
import { loadConfig } from '../src/config.js';
import { hubPolicy, notifyHubs, oweNotices } from '../src/websub.js';
import { closedPort, makeSite, post, SITE_CONFIG, type Site } from './helpers.js';

interface HubRequest {
  contentType: string | undefined;
  params: URLSearchParams;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A WebSub hub on loopback: records each publish request and answers as `answer` says (by how often that feed was sent). */
async function startHub(t: TestContext, answer: (feed: string, time: number) => Reply = () => ({ status: 204 })) {
  const requests: HubRequest[] = [];
  const times = new Map<string, number>();
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const params = new URLSearchParams(body);
    requests.push({ contentType: request.headers['content-type'], params });
    const feed = params.get('hub.url') ?? '';
    times.set(feed, (times.get(feed) ?? 0) + 1);
    const reply = answer(feed, times.get(feed)!);
    response.writeHead(reply.status, reply.headers);
    response.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub`,
    requests,
    /** The feeds told of, in order, and forgotten (the next call lists only newer ones). */
    take(): string[] {
      return requests.splice(0).map((request) => request.params.get('hub.url')!);
    },
  };
}

// herald as the CLI runs it, with the retry waits made short.
async function herald(site: Site, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { cwd: site.dir, env: { HERALD_RETRY_BACKOFF_MS: '5' }, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const withHubs = (...hubs: string[]) => `${SITE_CONFIG}feed:\n  hubs: [${hubs.join(', ')}]\n`;
// One post per feed: the site's older post goes to an archive document, which no hub is told of.
const withHubsAndArchives = (...hubs: string[]) => `${withHubs(...hubs)}  limit: 1\n`;
const feedsOf = (dir: string) => ['rss.xml', 'atom.xml', 'feed.json'].map((name) => `https://example.com/${dir}${name}`);
const sorted = (list: string[]) => [...list].sort();

test('WebSub: each changed subscription feed is told to each hub once, as a form post; an unchanged rebuild and check tell nothing', async (t) => {
  const first = await startHub(t);
  const second = await startHub(t);
  const site = await makeSite(
    t,
    { 'a.md': post({ title: 'On alpha', topics: ['Alpha'], date: '2026-01-01' }), 'b.md': post({ title: 'On beta', topics: ['Beta'], date: '2026-01-02' }) },
    withHubsAndArchives(first.url, second.url),
  );
  assert.equal((await herald(site, 'check')).code, 0);
  assert.deepEqual(first.requests, [], 'check writes nothing, so tells nothing');

  const built = await herald(site, 'build', '--now', '2026-02-01');
  assert.equal(built.code, 0, built.err);
  const every = sorted([...feedsOf(''), ...feedsOf('topics/alpha/'), ...feedsOf('topics/beta/')]);
  for (const hub of [first, second]) {
    assert.ok(hub.requests.every((request) => request.contentType === 'application/x-www-form-urlencoded'));
    assert.ok(hub.requests.every((request) => request.params.get('hub.mode') === 'publish' && [...request.params.keys()].length === 2));
    assert.deepEqual(sorted(hub.take()), every);
  }
  assert.match(built.out, new RegExp(`^notified ${first.url}: https://example\\.com/topics/alpha/atom\\.xml changed$`, 'm'));

  assert.equal((await herald(site, 'build', '--now', '2026-02-01')).code, 0);
  assert.deepEqual(first.take(), [], 'nothing changed');

  // Beta's post changes: the site's feeds and beta's, not alpha's.
  await site.write('posts/b.md', post({ title: 'On beta, revised', topics: ['Beta'], date: '2026-01-02' }));
  assert.equal((await herald(site, 'build', '--now', '2026-02-01')).code, 0);
  assert.deepEqual(sorted(first.take()), sorted([...feedsOf(''), ...feedsOf('topics/beta/')]));
  assert.deepEqual(sorted(second.take()), sorted([...feedsOf(''), ...feedsOf('topics/beta/')]));
  assert.ok(!existsSync(join(site.dir, '.herald/websub-pending.json')), 'nothing left owed');
});

test('WebSub: a hub that answers 503 once is tried again and takes the notice; no warning', async (t) => {
  const hub = await startHub(t, (_feed, time) => (time === 1 ? { status: 503 } : { status: 202 }));
  const site = await makeSite(t, { 'a.md': post({ title: 'A post' }) }, withHubs(hub.url));
  const built = await herald(site, 'build', '--now', '2026-02-01');
  assert.equal(built.code, 0);
  assert.doesNotMatch(built.err, /warning/);
  assert.deepEqual(sorted(hub.take()), sorted([...feedsOf(''), ...feedsOf('')]), 'each feed twice: the 503 and the retry');
  assert.equal((await herald(site, 'build', '--now', '2026-02-01')).code, 0);
  assert.deepEqual(hub.take(), [], 'the notices went through: nothing owed');
});

test('WebSub: a hub that keeps failing is a warning, the build exits 0, and the next build tells it once it is back', async (t) => {
  let down = true;
  const hub = await startHub(t, () => (down ? { status: 503, body: 'over capacity\n' } : { status: 204 }));
  const site = await makeSite(t, { 'a.md': post({ title: 'A post' }) }, withHubs(hub.url));
  const built = await herald(site, 'build', '--now', '2026-02-01');
  assert.equal(built.code, 0);
  assert.match(built.err, new RegExp(`^warning: the WebSub hub ${hub.url} was not told that https://example\\.com/rss\\.xml changed: HTTP 503 Service Unavailable: over capacity \\(herald tells it on the next build\\)$`, 'm'));
  assert.match(await site.read('public/rss.xml'), /A post/, 'the feed is published all the same');
  assert.equal(hub.take().length, 9, 'three tries for each of the three feeds');

  // Nothing changed, but the notices are still owed.
  down = false;
  const again = await herald(site, 'build', '--now', '2026-02-01');
  assert.equal(again.code, 0);
  assert.doesNotMatch(again.err, /warning/);
  assert.deepEqual(sorted(hub.take()), feedsOf('').sort());
  assert.equal((await herald(site, 'build', '--now', '2026-02-01')).code, 0);
  assert.deepEqual(hub.take(), []);
});

test('WebSub: a hub that refuses a notice (a 4xx) is not asked again; an unreachable one is', async (t) => {
  const refusing = await startHub(t, () => ({ status: 400, body: 'hub.url is not allowed here' }));
  const unreachable = `http://127.0.0.1:${await closedPort()}/`;
  const site = await makeSite(t, { 'a.md': post({ title: 'A post' }) }, withHubs(refusing.url, unreachable));
  const built = await herald(site, 'build', '--now', '2026-02-01');
  assert.equal(built.code, 0);
  assert.equal(refusing.take().length, 3, 'one try per feed');
  assert.match(built.err, /warning: the WebSub hub http:\/\/127\.0\.0\.1:\d+\/hub refused the notice that https:\/\/example\.com\/feed\.json changed: HTTP 400 Bad Request: hub\.url is not allowed here \(check that feed\.hubs lists/);
  assert.match(built.err, /warning: the WebSub hub http:\/\/127\.0\.0\.1:\d+\/ was not told that https:\/\/example\.com\/feed\.json changed: ECONNREFUSED \(herald tells it on the next build\)/);
  const again = await herald(site, 'build', '--now', '2026-02-01');
  assert.deepEqual(refusing.take(), []);
  assert.equal(again.err.match(/ECONNREFUSED/g)?.length, 3, 'the unreachable hub is still owed each feed');
});

test('WebSub: notices recorded by a build that stopped before sending them go out on the next build, though nothing changed', async (t) => {
  const hub = await startHub(t);
  const site = await makeSite(t, { 'a.md': post({ title: 'A post' }) }, withHubs(hub.url));
  assert.equal((await herald(site, 'build', '--now', '2026-02-01')).code, 0);
  hub.take();
  // A build records what it owes before it writes the feeds; this one "crashed" right after.
  const config = loadConfig(join(site.dir, 'herald.config.yml'), site.dir);
  await oweNotices(config, site.dir, ['https://example.com/atom.xml']);
  assert.deepEqual(hub.take(), []);
  const next = await herald(site, 'build', '--now', '2026-02-01');
  assert.equal(next.code, 0);
  assert.match(next.out, /^notified .*: https:\/\/example\.com\/atom\.xml changed$/m);
  assert.deepEqual(hub.take(), ['https://example.com/atom.xml']);
});

test('WebSub: herald run says how many hubs it told of how many feeds', async (t) => {
  const hub = await startHub(t);
  const site = await makeSite(t, { 'a.md': post({ title: 'A post' }) }, withHubs(hub.url));
  const run = await herald(site, 'run');
  assert.equal(run.code, 0, run.err);
  assert.match(run.out, /^told 1 WebSub hub of 3 changed feeds$/m);
});

test('WebSub: Retry-After is waited for up to a bound; a hub asking for longer is left for the next build', async (t) => {
  const hub = await startHub(t, (feed, time) => (time === 1 ? { status: 429, headers: { 'Retry-After': feed.endsWith('rss.xml') ? '2' : '3600' } } : { status: 204 }));
  const site = await makeSite(t, {}, withHubs(hub.url));
  const config = loadConfig(join(site.dir, 'herald.config.yml'), site.dir);
  await (await oweNotices(config, site.dir, ['https://example.com/rss.xml', 'https://example.com/atom.xml']))(['public/rss.xml', 'public/atom.xml']);
  const waits: number[] = [];
  const policy = { ...hubPolicy(), delaysMs: [10, 40], sleep: async (ms: number) => void waits.push(ms) };
  const notifications = await notifyHubs(config, policy);
  assert.deepEqual(waits, [2000], 'the 2 s asked for, more than the backoff');
  const byFeed = new Map(notifications.map((notification) => [notification.feed, notification]));
  assert.equal(byFeed.get('https://example.com/rss.xml')?.ok, true);
  assert.deepEqual(byFeed.get('https://example.com/atom.xml'), { hub: hub.url, feed: 'https://example.com/atom.xml', ok: false, pending: true, attempts: 1, reason: 'HTTP 429 Too Many Requests, and it asked herald to wait 3600 s' });
  hub.take();
  assert.deepEqual((await notifyHubs(config, policy)).map((notification) => [notification.feed, notification.ok]), [['https://example.com/atom.xml', true]]);
});

test('WebSub: a hub taken out of feed.hubs is told nothing it was still owed', async (t) => {
  const hub = await startHub(t);
  const site = await makeSite(t, {}, withHubs(hub.url));
  const config = loadConfig(join(site.dir, 'herald.config.yml'), site.dir);
  await oweNotices(config, site.dir, ['https://example.com/rss.xml']);
  await site.write('herald.config.yml', withHubs('https://hub.example.com/'));
  const moved = loadConfig(join(site.dir, 'herald.config.yml'), site.dir);
  assert.deepEqual(await notifyHubs(moved), []);
  assert.deepEqual(hub.take(), []);
  assert.ok(!existsSync(join(site.dir, '.herald/websub-pending.json')));
});
