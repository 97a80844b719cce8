import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { withDefaultSiteUrl, type CommandContext } from '../src/commands/context.js';
import { siteUrlServedAt } from '../src/commands/start.js';
import { loadConfig } from '../src/config.js';
import { BUILT_CLI, closedPort, makeSite, post } from './helpers.js';

// The built herald start, in its own process (it runs until a signal), stopped when the test ends.
async function start(t: TestContext, cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { PORT: _, ...inherited } = process.env;
  const child = spawn(process.execPath, [BUILT_CLI, 'start', ...args], { cwd, env: { ...inherited, ...env } });
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  child.stderr.on('data', (data) => (output += data));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const deadline = Date.now() + 15_000;
  while (!/next pass at/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`herald start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return output;
}

async function get(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(response.status, 200, path);
  return response.text();
}

// The feeds' self links, an item's link, the archive's autodiscovery links and its subscribe form, all at `base`.
async function assertLinksAt(port: number, base: string): Promise<void> {
  const escaped = base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const rss = await get(port, '/rss.xml');
  assert.match(rss, new RegExp(`<atom:link (?=[^>]*rel="self")[^>]*href="${escaped}rss\\.xml"`));
  assert.match(rss, new RegExp(`<link>${escaped}hello/</link>`));
  const atom = await get(port, '/atom.xml');
  assert.match(atom, new RegExp(`<link (?=[^>]*rel="self")[^>]*href="${escaped}atom\\.xml"`));
  const index = await get(port, '/index.html');
  assert.match(index, new RegExp(`<link rel="alternate" type="application/rss\\+xml" title="[^"]*" href="${escaped}rss\\.xml">`));
  assert.match(index, new RegExp(`href="${escaped}hello/"`));
  assert.match(index, new RegExp(`<form [^>]*action="${escaped}subscribe"`));
  for (const text of [rss, atom, index]) assert.doesNotMatch(text, /localhost:8080/);
}

test('herald start on another port, with the embedded default site.url: feeds and pages link to where it serves', async (t) => {
  const port = await closedPort();
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, null);
  const output = await start(t, site.dir, ['--port', String(port)]);
  assert.match(output, new RegExp(`serving http://127\\.0\\.0\\.1:${port}/ `));
  await assertLinksAt(port, `http://localhost:${port}/`);
});

test('herald start follows PORT, and --port 0 links to the port it was given', async (t) => {
  const port = await closedPort();
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, null);
  await start(t, site.dir, [], { PORT: String(port) });
  await assertLinksAt(port, `http://localhost:${port}/`);

  const other = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, null);
  const output = await start(t, other.dir, ['--port', '0']);
  const given = Number(/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)![1]);
  assert.ok(given > 0);
  await assertLinksAt(given, `http://localhost:${given}/`);
});

test('herald start with site.url set keeps its links, whatever the port', async (t) => {
  const port = await closedPort();
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, 'site:\n  url: https://news.example.com/\n');
  await start(t, site.dir, ['--port', String(port)]);
  await assertLinksAt(port, 'https://news.example.com/');
});

test('the address herald start links to: localhost for loopback and every-interface addresses, else the host as given', () => {
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '0.0.0.0', '::', '::ffff:127.0.0.1']) {
    assert.equal(siteUrlServedAt(host, 9000), 'http://localhost:9000/', host);
  }
  assert.equal(siteUrlServedAt('192.168.1.5', 9000), 'http://192.168.1.5:9000/');
  assert.equal(siteUrlServedAt('2001:db8::1', 9000), 'http://[2001:db8::1]:9000/');
  assert.equal(siteUrlServedAt('news.example.com', 80), 'http://news.example.com:80/');
});

test("what herald start serves with the default site.url follows its address everywhere: web.url, the sender's domain", async (t) => {
  const site = await makeSite(t, {}, null);
  const context = { config: loadConfig(undefined, site.dir), io: { cwd: site.dir, env: {}, out: () => {}, err: () => {} } } as unknown as CommandContext;
  const { config } = withDefaultSiteUrl(context, 'http://192.168.1.5:9000/');
  assert.equal(config.site.url, 'http://192.168.1.5:9000/');
  assert.equal(config.web.url, 'http://192.168.1.5:9000/');
  assert.match(config.email.from, /<newsletter@192\.168\.1\.5>$/);
  assert.equal(config.siteUrlIsDefault, true);

  // A site.url the writer set, or a web.url, is theirs.
  await site.write('herald.config.yml', 'site:\n  url: https://example.com/\n');
  const set = { ...context, config: loadConfig(`${site.dir}/herald.config.yml`, site.dir) } as CommandContext;
  assert.equal(withDefaultSiteUrl(set, 'http://localhost:9000/').config.site.url, 'https://example.com/');
  await site.write('herald.config.yml', 'web:\n  url: https://subscribe.example.com/\n');
  const web = { ...context, config: loadConfig(`${site.dir}/herald.config.yml`, site.dir) } as CommandContext;
  const followed = withDefaultSiteUrl(web, 'http://localhost:9000/').config;
  assert.equal(followed.site.url, 'http://localhost:9000/');
  assert.equal(followed.web.url, 'https://subscribe.example.com/');
});
