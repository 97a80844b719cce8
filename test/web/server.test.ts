import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { signToken } from '../../src/newsletter/tokens.js';
import { createWebServer } from '../../src/web/server.js';
import { createHmac } from 'node:crypto';
import { readPosts } from '../../src/build.js';
import { makeSite, post, type Site } from '../helpers.js';
import { makeSigner, signSns } from '../sns.js';
import { smtpError, startSmtpSink, type Sink } from '../smtp.js';

const SECRET = 'a-web-test-secret-long-enough-0123456789abcdef';

interface Served {
  base: string;
  site: Site;
  app: App;
  sink: Sink;
  log: string[];
  /** Moves the app's clock. */
  setNow(at: Date): void;
  status(email: string): Promise<string | undefined>;
}

async function serve(t: TestContext, options: { subscribers?: string; postsPerMinute?: number; trustProxy?: string[]; reply?: Parameters<typeof startSmtpSink>[0]; siteUrl?: string; webUrl?: string; sesTopics?: string[]; fetchFromAws?: (url: string) => Promise<string> } = {}): Promise<Served> {
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello' }) });
  await site.write('subscribers/subscribers.csv', options.subscribers ?? 'email,name,status,topics,created_at,updated_at\nann@example.com,Ann,active,,,\n');
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const sink = await startSmtpSink(options.reply);
  const config = parseConfig(
    { site: { title: 'Test site', url: options.siteUrl ?? 'https://example.com/' }, email: { from: 'Test site <news@example.com>', replyTo: 'editor@example.com' }, web: { subscribeLimit: options.postsPerMinute ?? 1000, ...(options.webUrl ? { url: options.webUrl } : {}), ...(options.sesTopics ? { sesTopics: options.sesTopics } : {}), ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}) } },
    join(site.dir, 'herald.config.yml'),
    site.dir,
    { HERALD_SMTP_URL: sink.url },
  );
  let now = new Date('2026-06-01T00:00:00Z');
  const app = await openApp(config, { cwd: site.dir, env: { HERALD_SECRET: SECRET, HERALD_RETRY_BACKOFF_MS: '10' }, clock: { now: () => new Date(now) } });
  // The pool's connection must go before the sink closes, or the sink waits for it.
  t.after(async () => {
    await app.close();
    await sink.close();
  });
  const log: string[] = [];
  const server = createWebServer({ config, cwd: site.dir, newsletter: app.newsletter, log: (line) => log.push(line), fetchFromAws: options.fetchFromAws });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    site,
    app,
    sink,
    log,
    setNow: (at) => (now = at),
    status: async (email) => (await app.newsletter.get(email.toLowerCase()))?.status,
  };
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
});

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const confirmLink = (sink: Sink, index = 0) => /https:\/\/example\.com\/confirm\?token=([\w.%-]+)/.exec(sink.received[index]!.mail.text ?? '')![1]!;

test('feeds are served with their content types, ETag and Last-Modified, and 304 when unchanged', async (t) => {
  const { base } = await serve(t);
  const types = { '/rss.xml': 'application/rss+xml', '/atom.xml': 'application/atom+xml', '/feed.json': 'application/feed+json' };
  for (const [path, type] of Object.entries(types)) {
    const response = await fetch(base + path);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type')!, new RegExp(`^${type.replace('+', '\\+')}`));
    const etag = response.headers.get('etag')!;
    const lastModified = response.headers.get('last-modified')!;
    assert.ok(etag && lastModified);
    assert.match(response.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.equal((await fetch(base + path, { headers: { 'If-None-Match': etag } })).status, 304);
    assert.equal((await fetch(base + path, { headers: { 'If-Modified-Since': lastModified } })).status, 304);
    assert.equal((await fetch(base + path, { headers: { 'If-None-Match': '"other"' } })).status, 200);
  }
  assert.equal((await fetch(`${base}/topics/nope/rss.xml`)).status, 404);
  // A path starting with // is a path, not a host name: the feed, not the front page.
  assert.match((await fetch(`${base}//rss.xml`)).headers.get('content-type')!, /^application\/rss\+xml/);
});

test('a feed rebuilt while herald start serves it is sent fresh at the next request; an address answered from memory still takes only GET and HEAD', async (t) => {
  const { base, site } = await serve(t);
  const br = { 'Accept-Encoding': 'br' };
  const first = await fetch(`${base}/rss.xml`, { headers: br });
  const etag = first.headers.get('etag')!;
  assert.equal((await fetch(`${base}/rss.xml`, { headers: { ...br, 'If-None-Match': etag } })).status, 304);
  await site.write('posts/second.md', post({ title: 'A second post', date: '2026-02-01' }));
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const rebuilt = await fetch(`${base}/rss.xml`, { headers: { ...br, 'If-None-Match': etag } });
  assert.equal(rebuilt.status, 200);
  assert.equal(rebuilt.headers.get('content-encoding'), 'br');
  assert.notEqual(rebuilt.headers.get('etag'), etag);
  assert.match(await rebuilt.text(), /A second post/);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const refused = await fetch(`${base}/rss.xml`, { method });
    assert.deepEqual([refused.status, refused.headers.get('allow')], [405, 'GET, HEAD'], method);
  }
});

test('nothing outside the output folder is served; malformed requests get a clear 4xx', async (t) => {
  const { base } = await serve(t);
  for (const path of ['/%2e%2e/herald.config.yml', '/..%2f..%2fetc/passwd', '/%00', '/%E0%A4%A']) {
    const response = await fetch(base + path);
    assert.ok(response.status === 404 || response.status === 400, `${path}: ${response.status}`);
  }
  assert.equal((await fetch(`${base}/rss.xml`, { method: 'DELETE' })).status, 405);
});

test('a request target in absolute form (as sent to a proxy) is served as its path', async (t) => {
  const { base } = await serve(t);
  const { connect } = await import('node:net');
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  t.after(() => socket.destroy());
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  socket.write(`GET http://localhost/rss.xml?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  await new Promise((resolve) => socket.on('close', resolve));
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.match(answer, /<rss/);
});

test('unsubscribe: a page with one button that changes nothing; the one-click POST unsubscribes at once; twice is fine', async (t) => {
  const { base, status } = await serve(t);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const page = await fetch(`${base}/unsubscribe?token=${token}`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post" action="unsubscribe\?token=[^"]+"><button type="submit">Unsubscribe<\/button><\/form>/);
  assert.equal((await fetch(`${base}/unsubscribe?token=${token}`, { method: 'HEAD' })).status, 200);
  assert.equal(await status('ann@example.com'), 'active', 'GET and HEAD change nothing');
  // The RFC 8058 request a mail provider sends.
  const oneClick = await fetch(`${base}/unsubscribe?token=${token}`, form({ 'List-Unsubscribe': 'One-Click' }));
  assert.equal(oneClick.status, 200);
  assert.equal(await status('ann@example.com'), 'unsubscribed');
  assert.equal((await fetch(`${base}/unsubscribe?token=${token}`, { method: 'POST' })).status, 200);
});

test('a site below a path (https://example.com/blog/) is served there: its pages, feeds, forms and the unsubscribe links in its emails', async (t) => {
  const { base, status } = await serve(t, { siteUrl: 'https://example.com/blog/' });
  for (const path of ['/blog/', '/blog', '/blog/rss.xml', '/blog/hello/', '/blog/subscribe', '/rss.xml']) {
    assert.equal((await fetch(`${base}${path}`)).status, 200, path);
  }
  assert.equal((await fetch(`${base}/blog/nothing-here`)).status, 404);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const oneClick = await fetch(`${base}/blog/unsubscribe?token=${token}`, form({ 'List-Unsubscribe': 'One-Click' }));
  assert.equal(oneClick.status, 200);
  assert.equal(await status('ann@example.com'), 'unsubscribed');
});

test('with web.url, herald start answers subscribe, confirm and unsubscribe at its path, and form posts may go there', async (t) => {
  const { base, status } = await serve(t, { webUrl: 'https://news.example.com/herald/' });
  assert.equal((await fetch(`${base}/herald/subscribe`)).status, 200);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const page = await fetch(`${base}/rss.xml`);
  assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self' https:\/\/example\.com https:\/\/news\.example\.com;/);
  assert.equal((await fetch(`${base}/herald/unsubscribe?token=${token}`, form({ 'List-Unsubscribe': 'One-Click' }))).status, 200);
  assert.equal(await status('ann@example.com'), 'unsubscribed');
});

test('a forged, altered or extended token is refused with 400 and changes nothing', async (t) => {
  const { base, status } = await serve(t);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const [payload, mac] = token.split('.') as [string, string];
  const forgeries = [
    signToken('unsubscribe', 'ann@example.com', 'another secret that is long enough 0123456789'),
    `${Buffer.from('ann@example.com').toString('base64url')}.${signToken('unsubscribe', 'bob@example.com', SECRET).split('.')[1]}`,
    `${token}x`,
    `${token}.`,
    `${payload}.${mac.toUpperCase()}`,
    `${Buffer.from('ANN@example.com').toString('base64url')}.${mac}`,
    `${Buffer.from(' ann@example.com').toString('base64url')}.${mac}`,
    token.replace('.', '%2E'),
    `%${token.charCodeAt(0).toString(16)}${token.slice(1)}`,
    'garbage',
    '',
  ];
  for (const forged of forgeries) {
    const response = await fetch(`${base}/unsubscribe?token=${forged.includes('%') ? forged : encodeURIComponent(forged)}`, { method: 'POST' });
    assert.equal(response.status, 400, forged);
    assert.match(await response.text(), /This unsubscribe link is not valid/);
  }
  assert.equal(await status('ann@example.com'), 'active');
});

test('an oversized body gets 413, chunked or not; a client that gives up mid-body is not an error in the log', async (t) => {
  const { base, log } = await serve(t);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const response = await fetch(`${base}/unsubscribe?token=${token}`, { method: 'POST', body: 'x'.repeat(64 * 1024) });
  assert.equal(response.status, 413);
  const { request } = await import('node:http');
  for (const path of ['/subscribe', '/confirm', `/unsubscribe?token=${token}`]) {
    const status = await new Promise<number>((resolve, reject) => {
      const chunked = request(`${base}${path}`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/x-www-form-urlencoded' } }, (answer) => {
        answer.resume();
        resolve(answer.statusCode!);
      });
      chunked.on('error', reject);
      for (let i = 0; i < 64; i++) chunked.write('x'.repeat(32 * 1024));
      chunked.end();
    });
    assert.equal(status, 413, path);
  }
  const { connect } = await import('node:net');
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST /confirm HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=abc');
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(log.filter((line) => /error serving/.test(line)), []);
});

test('one-click unsubscribes are never refused for rate: 100 from one address all answer 200 and take effect', async (t) => {
  const rows = Array.from({ length: 100 }, (_, i) => `r${i}@example.com,R${i},active,,,`);
  const { base, app } = await serve(t, { subscribers: `email,name,status,topics,created_at,updated_at\n${rows.join('\n')}\n`, postsPerMinute: 3 });
  const responses = await Promise.all(rows.map((_, i) => fetch(`${base}/unsubscribe?token=${signToken('unsubscribe', `r${i}@example.com`, SECRET)}`, form({ 'List-Unsubscribe': 'One-Click' }))));
  assert.deepEqual(
    responses.map((response) => response.status),
    Array(100).fill(200),
  );
  assert.equal((await app.newsletter.counts()).unsubscribed, 100);
});

test('subscribe requests from one client are rate limited; the limit does not touch one-click unsubscribes', async (t) => {
  const { base, status } = await serve(t, { postsPerMinute: 3 });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await fetch(`${base}/subscribe`, form({ email: `s${i}@example.com` }))).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const oneClick = await fetch(`${base}/unsubscribe?token=${signToken('unsubscribe', 'ann@example.com', SECRET)}`, form({ 'List-Unsubscribe': 'One-Click' }));
  assert.equal(oneClick.status, 200);
  assert.equal(await status('ann@example.com'), 'unsubscribed');
});

test('double opt-in: a pending subscriber and a confirmation email from the templates; GET and HEAD on the link change nothing, the button confirms', async (t) => {
  const { base, sink, status, app } = await serve(t);
  const formPage = await fetch(`${base}/subscribe`);
  assert.match(await formPage.text(), /<form method="post" action="subscribe">/);
  const response = await fetch(`${base}/subscribe`, form({ email: 'New.Reader@example.com', name: 'New <b>Reader</b>\u0007\u202E', topics: 'work, life' }));
  assert.equal(response.status, 200);
  assert.match(await response.text(), /If <strong>New\.Reader@example\.com<\/strong> can subscribe, a message with a confirmation link is on its way/);
  await until(() => sink.received.length === 1);
  assert.equal(await status('new.reader@example.com'), 'pending');
  assert.equal((await app.newsletter.get('new.reader@example.com'))?.name, 'New <b>Reader</b>', 'control and bidi characters removed');
  await until(() => sink.received.length === 1);

  const { mail, raw } = sink.received[0]!;
  assert.equal(mail.subject, 'Confirm your subscription to Test site');
  assert.match(mail.messageId ?? '', /^<[0-9a-f]{32}@example\.com>$/);
  assert.ok(mail.date instanceof Date);
  assert.equal(mail.replyTo?.text, 'editor@example.com');
  assert.doesNotMatch(String(mail.html), /<style|<link /, 'CSS is inlined; no feed links in an email');
  assert.doesNotMatch(String(mail.html), /href="\//, 'every link is absolute');
  assert.match(String(mail.html), /style="[^"]*background: #0b62d6/);
  assert.doesNotMatch(raw, /^List-Unsubscribe/m);

  const token = confirmLink(sink);
  const page = await fetch(`${base}/confirm?token=${token}`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form method="post" action="confirm"><input type="hidden" name="token" value="[^"]+">/);
  assert.match(html, /<input type="text" name="name" maxlength="200" value="New &lt;b&gt;Reader&lt;\/b&gt;">/);
  assert.match(html, /<input type="text" name="topics" value="work, life">/);
  assert.equal((await fetch(`${base}/confirm?token=${token}`, { method: 'HEAD' })).status, 200);
  assert.equal(await status('new.reader@example.com'), 'pending', 'a link scanner following the link confirms nothing');

  const confirmed = await fetch(`${base}/confirm`, form({ token: decodeURIComponent(token) }));
  assert.equal(confirmed.status, 200);
  assert.match(await confirmed.text(), /You are subscribed/);
  assert.equal(await status('new.reader@example.com'), 'active');
});

test('the answer to a subscribe is the same, in words and in time, for new and known addresses; a slow mail server does not delay it', async (t) => {
  const { base, sink } = await serve(t, { reply: { delayMs: 400 } });
  const timed = async (email: string) => {
    const started = performance.now();
    const text = await (await fetch(`${base}/subscribe`, form({ email }))).text();
    return { text: text.replace(email, 'X'), ms: performance.now() - started };
  };
  const fresh = await timed('zed@example.com');
  const known = await timed('ann@example.com');
  assert.equal(known.text, fresh.text);
  assert.ok(fresh.ms < 200, `the answer came before the mail (${fresh.ms} ms)`);
  assert.ok(Math.abs(fresh.ms - known.ms) < 100, `new ${fresh.ms} ms, known ${known.ms} ms`);
  await until(() => sink.received.length === 1);
  const invalid = await fetch(`${base}/subscribe`, form({ email: '<script>alert(1)</script>' }));
  assert.equal(invalid.status, 400);
  const body = await invalid.text();
  assert.doesNotMatch(body, /<script>alert/);
  assert.match(body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('at most one confirmation email per address per 10 minutes, whoever asks', async (t) => {
  const { base, sink, setNow, log } = await serve(t);
  for (let i = 0; i < 6; i++) assert.equal((await fetch(`${base}/subscribe`, form({ email: 'victim@example.com' }))).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sink.received.length, 1);
  setNow(new Date('2026-06-01T00:09:00Z'));
  await fetch(`${base}/subscribe`, form({ email: 'VICTIM@example.com' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(sink.received.length, 1, 'nine minutes later: still one');
  setNow(new Date('2026-06-01T00:10:01Z'));
  await fetch(`${base}/subscribe`, form({ email: 'victim@example.com' }));
  await until(() => sink.received.length === 2);
  assert.equal(log.filter((line) => line.startsWith('confirmation sent')).length, 2);
});

test('50 sources behind a trusted proxy asking for one victim send it one confirmation', async (t) => {
  const { base, sink } = await serve(t, { trustProxy: ['127.0.0.1'], postsPerMinute: 5 });
  const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${base}/subscribe`, form({ email: 'victim@example.com' }, { 'X-Forwarded-For': `203.0.113.${i + 1}` })).then((response) => response.status)));
  assert.deepEqual(statuses, Array(50).fill(200), 'each source is its own client');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(sink.received.length, 1);
});

test('the owner of the mailbox corrects, on the confirmation page, the name and topics a stranger typed first', async (t) => {
  const { base, app, sink } = await serve(t);
  await fetch(`${base}/subscribe`, form({ email: 'victim@example.com', name: 'URGENT verify your account at evil.example', topics: 'nonexistent' }));
  await until(() => sink.received.length === 1);
  const token = decodeURIComponent(confirmLink(sink));
  assert.match(await (await fetch(`${base}/confirm?token=${token}`)).text(), /value="URGENT verify your account at evil\.example"/);
  await fetch(`${base}/confirm`, form({ token, name: 'Victor', topics: '' }));
  const victim = await app.newsletter.get('victim@example.com');
  assert.deepEqual({ status: victim?.status, name: victim?.name, topics: victim?.topics }, { status: 'active', name: 'Victor', topics: [] });
});

test('a stranger cannot change a pending subscriber, nor bring back one who unsubscribed without their click', async (t) => {
  const { base, app, sink, setNow, status } = await serve(t, { subscribers: 'email,name,status,topics,created_at,updated_at\nann@example.com,Ann,active,,,\ngone@example.com,Gone,unsubscribed,,,\n' });
  await fetch(`${base}/subscribe`, form({ email: 'pat@example.com', name: 'Pat', topics: 'work' }));
  await until(() => sink.received.length === 1);
  setNow(new Date('2026-06-01T01:00:00Z'));
  await fetch(`${base}/subscribe`, form({ email: 'pat@example.com', name: 'Mallory', topics: 'spam' }));
  await until(() => sink.received.length === 2);
  const pat = await app.newsletter.get('pat@example.com');
  assert.equal(pat?.name, 'Pat');
  assert.deepEqual(pat?.topics, ['work']);

  await fetch(`${base}/subscribe`, form({ email: 'gone@example.com' }));
  await until(() => sink.received.length === 3);
  assert.equal(await status('gone@example.com'), 'unsubscribed', 'the form alone changes nothing');
  const link = confirmLink(sink, sink.received.findIndex((received) => received.to[0] === 'gone@example.com'));
  await fetch(`${base}/confirm`, form({ token: decodeURIComponent(link) }));
  assert.equal(await status('gone@example.com'), 'active', 'their own click brings them back');
});

test('a confirmation link says honestly when its address was removed, or unsubscribed after it was sent; an old link expires', async (t) => {
  const { base, app, sink, setNow, status } = await serve(t);
  await fetch(`${base}/subscribe`, form({ email: 'late@example.com' }));
  await fetch(`${base}/subscribe`, form({ email: 'purged@example.com' }));
  await fetch(`${base}/subscribe`, form({ email: 'left@example.com' }));
  await until(() => sink.received.length === 3);
  const linkOf = (email: string) => decodeURIComponent(confirmLink(sink, sink.received.findIndex((received) => received.to[0] === email)));

  await app.newsletter.remove({ email: 'purged@example.com', key: 'purged@example.com' }, true);
  const purged = await fetch(`${base}/confirm`, form({ token: linkOf('purged@example.com') }));
  assert.match(await purged.text(), /is no longer on the list/);
  assert.equal(await status('purged@example.com'), undefined);

  await app.newsletter.add({ email: 'left@example.com', key: 'left@example.com' }, {});
  setNow(new Date('2026-06-01T00:30:00Z'));
  await app.newsletter.remove({ email: 'left@example.com', key: 'left@example.com' }, false);
  const left = await fetch(`${base}/confirm`, form({ token: linkOf('left@example.com') }));
  assert.match(await left.text(), /unsubscribed after this link was sent/);
  assert.equal(await status('left@example.com'), 'unsubscribed');

  setNow(new Date('2026-06-08T00:00:01Z'));
  const expired = await fetch(`${base}/confirm?token=${linkOf('late@example.com')}`);
  assert.equal(expired.status, 400);
  assert.match(await expired.text(), /has expired/);
  assert.equal(await status('late@example.com'), 'pending');
  const forged = await fetch(`${base}/confirm`, form({ token: signToken('confirm', 'late@example.com\n9999999999999', 'wrong secret, long enough 0123456789abcdef') }));
  assert.equal(forged.status, 400);
  const recased = await fetch(`${base}/confirm`, form({ token: signToken('confirm', 'LATE@example.com\n9999999999999', SECRET) }));
  assert.equal(recased.status, 400, 'the MAC ignores case; the token may not');
  const encoded = await fetch(`${base}/confirm?token=${linkOf('late@example.com').replace('.', '%2E')}`);
  assert.equal(encoded.status, 400, 're-encoded');
});

test('a relay that refuses the confirmation is logged, not shown to the visitor as an error', async (t) => {
  const { base, log } = await serve(t, { reply: { reply: (to) => (to === 'refused@example.com' ? smtpError(550, 'No such user') : undefined) } });
  const response = await fetch(`${base}/subscribe`, form({ email: 'refused@example.com' }));
  assert.equal(response.status, 200);
  await until(() => log.some((line) => line.includes('refused@example.com')));
  assert.match(log.find((line) => line.includes('refused@example.com'))!, /confirmation to refused@example\.com not sent: 550 No such user/);
});

test('100 concurrent subscribes are all kept', async (t) => {
  const { base, app, sink } = await serve(t);
  const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${base}/subscribe`, form({ email: `c${i}@example.com` }))));
  assert.ok(responses.every((response) => response.status === 200));
  await until(() => sink.received.length === 100);
  assert.equal((await app.newsletter.counts()).pending, 100);
});

test("herald's own pages carry the feed links the archive pages include, the writer's partial first", async (t) => {
  const { base, app } = await serve(t);
  const subscribePage = await (await fetch(`${base}/subscribe`)).text();
  assert.match(subscribePage, /<link rel="alternate" type="application\/rss\+xml" title="[^"]*" href="https:\/\/example\.com\/rss\.xml">/);

  const site = await makeSite(t);
  const config = parseConfig({ site: { url: 'https://example.com/' } }, join(site.dir, 'herald.config.yml'), site.dir, {});
  await site.write('templates/_feed-links.html', '<link rel="alternate" type="application/rss+xml" href="{{ site.url }}topics/work/rss.xml">\n');
  const own = createWebServer({ config, cwd: site.dir, newsletter: app.newsletter });
  await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => own.close(() => resolve())));
  const ownPage = await (await fetch(`http://127.0.0.1:${(own.address() as AddressInfo).port}/subscribe`, { headers: { connection: 'close' } })).text();
  assert.match(ownPage, /href="https:\/\/example\.com\/topics\/work\/rss\.xml"/);

  await site.write('templates/_feed-links.html', '{% if site.title %}\n<link>\n');
  assert.throws(() => createWebServer({ config, cwd: site.dir, newsletter: app.newsletter }), /templates\/_feed-links\.html/);
});

// ---- webhooks: what comes back from providers ----

/** Sends the site's post to its list through the served app; the Message-ID of the message to `email`. */
async function sendHello(served: Served, email = 'ann@example.com'): Promise<string> {
  const { posts } = await readPosts(served.app.config, join(served.app.config.paths.posts, '..'));
  const report = await served.app.newsletter.sendPost(posts.find((meta) => meta.slug === 'hello')!);
  assert.ok(report.posts[0]!.sent + report.posts[0]!.alreadySent >= 1, JSON.stringify(report));
  const message = served.sink.received.find((received) => received.to.includes(email))!;
  return message.mail.messageId!.replace(/^<|>$/g, '');
}

const postJson = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'text/plain; charset=UTF-8', ...headers } });

test('SES through SNS: a signed subscription confirmation is confirmed, a signed bounce bounces the reader; forged, unsigned or foreign-certificate calls are 400 and change nothing', async (t) => {
  const aws = await makeSigner();
  const fetched: string[] = [];
  const served = await serve(t, {
    subscribers: 'email,name,status,topics,created_at,updated_at\nann@example.com,Ann,active,,,\nbob@example.com,Bob,active,,,\n',
    fetchFromAws: async (url) => (fetched.push(url), url.endsWith('.pem') ? aws.certificate : '<ConfirmSubscriptionResponse/>'),
  });
  const { base, status } = served;
  const cert = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem';
  const envelope = (fields: Record<string, string>) => ({ MessageId: 'm-1', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ses-events', Timestamp: new Date().toISOString(), SigningCertURL: cert, ...fields });
  const subscribeUrl = 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:123456789012:ses-events&Token=abc';
  const confirmation = signSns(envelope({ Type: 'SubscriptionConfirmation', Token: 'abc', Message: 'confirm', SubscribeURL: subscribeUrl }), aws);
  assert.equal((await fetch(`${base}/webhooks/ses`, postJson(confirmation))).status, 200);
  assert.ok(fetched.includes(subscribeUrl), 'the subscription was confirmed');

  const messageId = await sendHello(served);
  const bounce = { notificationType: 'Bounce', bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'ann@example.com', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }], timestamp: new Date().toISOString() }, mail: { messageId, destination: ['ann@example.com'] } };
  const signed = signSns(envelope({ Type: 'Notification', Message: JSON.stringify(bounce) }), aws, '2');
  // Forged: the message changed after signing; unsigned; a certificate URL off AWS's hosts.
  const bobId = await sendHello(served, 'bob@example.com');
  const forged = { ...signed, Message: JSON.stringify({ ...bounce, mail: { messageId: bobId } }) };
  const { Signature: _dropped, ...unsigned } = signed;
  const foreign = signSns(envelope({ Type: 'Notification', Message: JSON.stringify(bounce), SigningCertURL: 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem' }), aws);
  for (const bad of [forged, unsigned, foreign, 'not json']) {
    assert.equal((await fetch(`${base}/webhooks/ses`, postJson(bad))).status, 400);
  }
  assert.ok(!fetched.some((url) => url.includes('evil')), 'a certificate is never fetched from a host of the caller\'s choosing');
  assert.equal(await status('bob@example.com'), 'active');
  assert.equal(await status('ann@example.com'), 'active');

  // A signed event of another AWS account's topic, when web.sesTopics names ours: refused.
  const strict = await serve(t, { sesTopics: ['arn:aws:sns:eu-west-1:123456789012:other-topic'], fetchFromAws: async () => aws.certificate });
  assert.equal((await fetch(`${strict.base}/webhooks/ses`, postJson(signed))).status, 400);

  const answer = await fetch(`${base}/webhooks/ses`, postJson(signed));
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { applied: 1, repeated: 0, unmatched: 0 });
  assert.equal(await status('ann@example.com'), 'bounced');
  // SNS delivers at least once: the same notification again changes nothing more.
  assert.deepEqual(await (await fetch(`${base}/webhooks/ses`, postJson(signed))).json(), { applied: 0, repeated: 1, unmatched: 0 });
  assert.match(served.log.join('\n'), /webhook ses: ann@example\.com bounced \(smtp; 550 5\.1\.1 user unknown\)/);
});

test('Postmark: its key in the URL\'s credentials; the generic webhook: an HMAC of the body; either without them is 400 and changes nothing', async (t) => {
  const served = await serve(t, { subscribers: 'email,name,status,topics,created_at,updated_at\nann@example.com,Ann,active,,,\nbob@example.com,Bob,active,,,\n' });
  const { base, status, app } = served;
  const annId = await sendHello(served);
  const bobId = await sendHello(served, 'bob@example.com');
  const complaint = { RecordType: 'SpamComplaint', MessageID: annId, Email: 'ann@example.com', BouncedAt: new Date().toISOString(), Type: 'SpamComplaint', Description: 'The subscriber explicitly marked this message as spam.' };
  const key = app.newsletter.webhookKey('postmark');
  const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'Content-Type': 'application/json' });
  assert.equal((await fetch(`${base}/webhooks/postmark`, postJson(complaint, { 'Content-Type': 'application/json' }))).status, 400);
  assert.equal((await fetch(`${base}/webhooks/postmark`, postJson(complaint, basic('postmark', `${key}x`)))).status, 400);
  assert.equal(await status('ann@example.com'), 'active');
  assert.equal((await fetch(`${base}/webhooks/postmark`, postJson(complaint, basic('postmark', key)))).status, 200);
  assert.equal(await status('ann@example.com'), 'complained');

  const body = JSON.stringify({ events: [{ type: 'bounce', permanent: true, recipient: 'bob@example.com', messageId: `<${bobId}>`, reason: '550 gone' }] });
  const signature = `sha256=${createHmac('sha256', app.newsletter.webhookKey('bounce')).update(body).digest('hex')}`;
  assert.equal((await fetch(`${base}/webhooks/bounce`, postJson(body))).status, 400);
  assert.equal((await fetch(`${base}/webhooks/bounce`, postJson(body, { 'X-Herald-Signature': signature.replace(/.$/, '0') }))).status, 400);
  assert.equal(await status('bob@example.com'), 'active');
  assert.equal((await fetch(`${base}/webhooks/bounce`, postJson(body, { 'X-Herald-Signature': signature }))).status, 200);
  assert.equal(await status('bob@example.com'), 'bounced');
  const missing = await fetch(`${base}/webhooks/nothing`, postJson(body));
  assert.deepEqual([missing.status, await missing.json()], [404, { error: 'There is no such webhook.' }]);
  const get = await fetch(`${base}/webhooks/bounce`);
  assert.deepEqual([get.status, get.headers.get('allow'), get.headers.get('content-type')], [405, 'POST', 'application/json']);
  const huge = await fetch(`${base}/webhooks/bounce`, postJson('x'.repeat(300 * 1024), { 'X-Herald-Signature': signature }));
  assert.equal(huge.status, 413);
  // A key in a query string would be kept in every proxy's log: only the URL's credentials count.
  assert.equal((await fetch(`${base}/webhooks/postmark?key=${key}`, postJson(complaint, { 'Content-Type': 'application/json' }))).status, 400);
});

test('every 405 names in Allow the methods its address takes', async (t) => {
  const { base } = await serve(t);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const cases: [string, string, string][] = [
    ['DELETE', '/rss.xml', 'GET, HEAD'],
    ['POST', '/', 'GET, HEAD'],
    ['OPTIONS', '/missing.html', 'GET, HEAD'],
    ['PUT', '/subscribe', 'GET, HEAD, POST'],
    ['PATCH', '/confirm', 'GET, HEAD, POST'],
    ['DELETE', `/unsubscribe?token=${token}`, 'GET, HEAD, POST'],
    ['GET', '/webhooks/bounce', 'POST'],
    ['PUT', '/webhooks/ses', 'POST'],
  ];
  for (const [method, path, allow] of cases) {
    const response = await fetch(base + path, { method });
    assert.deepEqual([response.status, response.headers.get('allow')], [405, allow], `${method} ${path}`);
  }
});

/**
 * Sends a body too large, slowly, reading nothing until it has sent it all, as a client busy
 * uploading does; returns what it then reads, and the error its writes met, if any.
 */
async function uploadTooMuch(base: string, path: string, framing: 'chunked' | 'length'): Promise<{ answer: string; writeError?: string }> {
  const { connect } = await import('node:net');
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  let writeError: string | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => (writeError = error.code));
  const chunk = 'x'.repeat(32 * 1024);
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n${framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${20 * chunk.length}`}\r\n\r\n`);
  for (let i = 0; i < 20 && !writeError; i++) {
    socket.write(framing === 'chunked' ? `${chunk.length.toString(16)}\r\n${chunk}\r\n` : chunk);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => (answer += data));
  socket.resume();
  await new Promise((resolve) => {
    socket.once('close', resolve);
    setTimeout(resolve, 3000);
  });
  socket.destroy();
  return { answer, writeError };
}

test('a 413 reaches a client still sending its body, chunked or not, and then the connection closes', async (t) => {
  const { base, log } = await serve(t);
  for (const path of ['/subscribe', '/webhooks/bounce']) {
    for (const framing of ['chunked', 'length'] as const) {
      const { answer, writeError } = await uploadTooMuch(base, path, framing);
      assert.match(answer, /^HTTP\/1\.1 413 /, `${path} ${framing}: ${writeError}`);
      assert.match(answer, /\r\nConnection: close\r\n/i, `${path} ${framing}`);
      assert.equal(writeError, undefined, `${path} ${framing}`);
    }
  }
  assert.deepEqual(log.filter((line) => /error serving/.test(line)), []);
});

test('a client that waits for 100 Continue is told to go on only with a body within the limit', async (t) => {
  const { base } = await serve(t);
  const { connect } = await import('node:net');
  const first = async (path: string, length: number) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    socket.setEncoding('utf8');
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`);
    const line = await new Promise<string>((resolve) => socket.once('data', (data: string) => resolve(data.split('\r\n')[0]!)));
    socket.destroy();
    return line;
  };
  assert.equal(await first('/subscribe', 1024 * 1024), 'HTTP/1.1 413 Payload Too Large');
  assert.equal(await first('/webhooks/bounce', 1024 * 1024), 'HTTP/1.1 413 Payload Too Large');
  assert.equal(await first('/subscribe', 100), 'HTTP/1.1 100 Continue');
  assert.equal(await first('/rss.xml', 100), 'HTTP/1.1 405 Method Not Allowed');
});

test('the build writes the feed stylesheet with its compressed copies; herald start sends RSS and Atom to a browser as XML that may load it', async (t) => {
  const { base } = await serve(t);
  const { readFile } = await import('node:fs/promises');
  const { brotliDecompressSync } = await import('node:zlib');
  const stylesheet = await fetch(`${base}/feed.xsl`, { headers: { 'Accept-Encoding': 'br' } });
  assert.equal(stylesheet.status, 200);
  assert.equal(stylesheet.headers.get('content-type'), 'application/xml; charset=utf-8');
  const { request } = await import('node:http');
  const compressed = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
    request(`${base}/feed.xsl`, { headers: { 'Accept-Encoding': 'br' } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => resolve({ encoding: answer.headers['content-encoding'], body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
  assert.equal(compressed.encoding, 'br');
  assert.equal(brotliDecompressSync(compressed.body).toString(), await readFile(join(import.meta.dirname, '../../templates/feed.xsl'), 'utf8'));
  const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  for (const [path, type] of [['/rss.xml', 'application/rss+xml'], ['/atom.xml', 'application/atom+xml']]) {
    const page = await fetch(base + path, { headers: { Accept: browser } });
    assert.equal(page.headers.get('content-type'), 'application/xml; charset=utf-8', path);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'.*; script-src-elem 'self'; script-src-attr 'unsafe-hashes' 'sha256-[\w+/=]+', script-src-elem \*:\*\/feed\.xsl$/, path);
    const reader = await fetch(base + path, { headers: { Accept: `${type}, */*;q=0.5` } });
    assert.equal(reader.headers.get('content-type'), `${type}; charset=utf-8`, path);
  }
  const own = await fetch(`${base}/subscribe`, { headers: { Accept: browser } });
  assert.doesNotMatch(own.headers.get('content-security-policy')!, /script-src/);
});
