import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { signToken } from '../../src/email/unsubscribe.js';
import { createTransport } from '../../src/deliver/transport.js';
import { createWebServer } from '../../src/web/server.js';
import { startSmtpSink } from '../smtp.js';
import { makeSite, post } from '../helpers.js';

const SECRET = 'test-secret';

async function serve(t: TestContext, subscribers = 'email,name,status,topics,created_at,updated_at\nann@example.com,Ann,active,,,\n', now?: () => Date) {
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello' }) });
  await site.write('subscribers/subscribers.csv', subscribers);
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const sink = await startSmtpSink();
  const config = parseConfig({ site: { url: 'https://example.com/' } }, join(site.dir, 'herald.config.yml'), site.dir, { HERALD_SMTP_URL: sink.url });
  const transport = createTransport(config);
  // The pool's connection must go before the sink closes, or the sink waits for it.
  t.after(async () => {
    transport.close();
    await sink.close();
  });
  const server = createWebServer({ config, cwd: site.dir, secret: SECRET, postsPerMinute: 1000, transport, now });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { site, base, server, sink };
}

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
});

test('nothing outside the output folder is served; malformed requests get a clear 4xx', async (t) => {
  const { base } = await serve(t);
  for (const path of ['/%2e%2e/herald.config.yml', '/..%2f..%2fetc/passwd', '/%00', '/%E0%A4%A']) {
    const response = await fetch(base + path);
    assert.ok(response.status === 404 || response.status === 400, `${path}: ${response.status}`);
  }
  assert.equal((await fetch(`${base}/rss.xml`, { method: 'DELETE' })).status, 405);
});

test('unsubscribe: a page with one button; the one-click POST unsubscribes at once; twice is fine', async (t) => {
  const { base, site } = await serve(t);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const page = await fetch(`${base}/unsubscribe?token=${token}`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form method="post" action="\/unsubscribe\?token=[^"]+"><button type="submit">Unsubscribe<\/button><\/form>/);
  assert.match(await site.read('subscribers/subscribers.csv'), /ann@example\.com,Ann,active/, 'a GET changes nothing');
  // The RFC 8058 request a mail provider sends.
  const oneClick = await fetch(`${base}/unsubscribe?token=${token}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(oneClick.status, 200);
  assert.match(await site.read('subscribers/subscribers.csv'), /ann@example\.com,Ann,unsubscribed/);
  assert.equal((await fetch(`${base}/unsubscribe?token=${token}`, { method: 'POST' })).status, 200);
});

test('a forged or altered token is refused with 400 and changes nothing', async (t) => {
  const { base, site } = await serve(t);
  const before = await site.read('subscribers/subscribers.csv');
  const other = signToken('unsubscribe', 'ann@example.com', 'another secret');
  const [, mac] = signToken('unsubscribe', 'bob@example.com', SECRET).split('.');
  for (const token of [other, `${Buffer.from('ann@example.com').toString('base64url')}.${mac}`, 'garbage', '']) {
    const response = await fetch(`${base}/unsubscribe?token=${encodeURIComponent(token)}`, { method: 'POST' });
    assert.equal(response.status, 400, token);
    assert.match(await response.text(), /This unsubscribe link is not valid/);
  }
  assert.equal(await site.read('subscribers/subscribers.csv'), before);
});

test('an oversized body gets 413', async (t) => {
  const { base } = await serve(t);
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  const response = await fetch(`${base}/unsubscribe?token=${token}`, { method: 'POST', body: 'x'.repeat(64 * 1024) });
  assert.equal(response.status, 413);
});

test('100 concurrent unsubscribes lose no row of subscribers.csv', async (t) => {
  const rows = Array.from({ length: 100 }, (_, i) => `r${i}@example.com,R${i},active,,,`);
  const { base, site } = await serve(t, `email,name,status,topics,created_at,updated_at\n${rows.join('\n')}\n`);
  const responses = await Promise.all(rows.map((_, i) => fetch(`${base}/unsubscribe?token=${signToken('unsubscribe', `r${i}@example.com`, SECRET)}`, { method: 'POST' })));
  assert.ok(responses.every((response) => response.status === 200));
  const csv = await site.read('subscribers/subscribers.csv');
  assert.equal(csv.trim().split('\n').length, 101);
  assert.equal((csv.match(/,unsubscribed,/g) ?? []).length, 100);
});

test('POSTs from one address are rate limited', async (t) => {
  const site = await makeSite(t, { 'hello.md': post() });
  await site.run('build');
  const config = parseConfig({}, join(site.dir, 'herald.config.yml'), site.dir);
  const server = createWebServer({ config, cwd: site.dir, secret: SECRET, postsPerMinute: 3, transport: createTransport(config) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/unsubscribe?token=${signToken('unsubscribe', 'x@example.com', SECRET)}`;
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await fetch(url, { method: 'POST' })).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
});

const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });

test('double opt-in: subscribe makes a pending subscriber and mails a link; the link makes them active', async (t) => {
  const { base, site, sink } = await serve(t);
  const formPage = await fetch(`${base}/subscribe`);
  assert.match(await formPage.text(), /<form method="post" action="\/subscribe">/);
  const response = await fetch(`${base}/subscribe`, form({ email: 'New.Reader@example.com', name: 'New <b>Reader</b>', topics: 'work, life' }));
  assert.equal(response.status, 200);
  const answer = await response.text();
  assert.match(answer, /If <strong>New\.Reader@example\.com<\/strong> can subscribe, a message with a confirmation link is on its way/);
  assert.match(await site.read('subscribers/subscribers.csv'), /New\.Reader@example\.com,New <b>Reader<\/b>,pending,"work,life"/);
  assert.equal(sink.received.length, 1);
  const link = /https:\/\/example\.com(\/confirm\?token=[\w.%-]+)/.exec(sink.received[0]!.mail.text ?? '')![1]!;
  const confirmed = await fetch(base + link);
  assert.equal(confirmed.status, 200);
  assert.match(await confirmed.text(), /You are subscribed/);
  assert.match(await site.read('subscribers/subscribers.csv'), /New\.Reader@example\.com,New <b>Reader<\/b>,active/);
});

test('subscribing a known address gives the very same answer and reveals nothing', async (t) => {
  const { base } = await serve(t);
  const known = await (await fetch(`${base}/subscribe`, form({ email: 'ann@example.com' }))).text();
  const fresh = await (await fetch(`${base}/subscribe`, form({ email: 'zed@example.com' }))).text();
  assert.equal(known.replace('ann@example.com', 'X'), fresh.replace('zed@example.com', 'X'));
  const invalid = await fetch(`${base}/subscribe`, form({ email: '<script>alert(1)</script>' }));
  assert.equal(invalid.status, 400);
  const body = await invalid.text();
  assert.doesNotMatch(body, /<script>alert/);
  assert.match(body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('a confirmation link expires after seven days, and a forged one is refused', async (t) => {
  let now = new Date('2026-06-01T00:00:00Z');
  const { base, site, sink } = await serve(t, undefined, () => now);
  await fetch(`${base}/subscribe`, form({ email: 'late@example.com' }));
  const link = /https:\/\/example\.com(\/confirm\?token=[\w.%-]+)/.exec(sink.received[0]!.mail.text ?? '')![1]!;
  now = new Date('2026-06-08T00:00:01Z');
  const expired = await fetch(base + link);
  assert.equal(expired.status, 400);
  assert.match(await expired.text(), /has expired/);
  assert.match(await site.read('subscribers/subscribers.csv'), /late@example\.com,,pending/);
  const forged = await fetch(`${base}/confirm?token=${signToken('confirm', 'late@example.com\n9999999999999', 'wrong secret')}`);
  assert.equal(forged.status, 400);
});

test('100 concurrent subscribes are all kept', async (t) => {
  const { base, site } = await serve(t);
  const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => fetch(`${base}/subscribe`, form({ email: `c${i}@example.com` }))));
  assert.ok(responses.every((response) => response.status === 200));
  const csv = await site.read('subscribers/subscribers.csv');
  assert.equal((csv.match(/^c\d+@example\.com,,pending/gm) ?? []).length, 100);
});

test("herald's own pages carry the feed links the archive pages include, the writer's partial first", async (t) => {
  const { base } = await serve(t);
  const subscribePage = await (await fetch(`${base}/subscribe`)).text();
  assert.match(subscribePage, /<link rel="alternate" type="application\/rss\+xml" title="[^"]*" href="https:\/\/example\.com\/rss\.xml">/);

  const site = await makeSite(t);
  const config = parseConfig({ site: { url: 'https://example.com/' } }, join(site.dir, 'herald.config.yml'), site.dir, {});
  const transport = createTransport(config);
  t.after(() => transport.close());
  await site.write('templates/_feed-links.html', '<link rel="alternate" type="application/rss+xml" href="{{ site.url }}topics/work/rss.xml">\n');
  const own = createWebServer({ config, cwd: site.dir, secret: SECRET, transport });
  await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => own.close(() => resolve())));
  const ownPage = await (await fetch(`http://127.0.0.1:${(own.address() as AddressInfo).port}/subscribe`, { headers: { connection: 'close' } })).text();
  assert.match(ownPage, /href="https:\/\/example\.com\/topics\/work\/rss\.xml"/);

  await site.write('templates/_feed-links.html', '{% if site.title %}\n<link>\n');
  assert.throws(() => createWebServer({ config, cwd: site.dir, secret: SECRET, transport }), /templates\/_feed-links\.html/);
});
