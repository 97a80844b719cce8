import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../src/config.js';
import { makeSite, post, SITE_CONFIG } from './helpers.js';

test('with no config file herald runs on its embedded defaults and says so', async (t) => {
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello' }) }, null);
  const result = await site.run('build', '--now', '2026-06-01');
  assert.equal(result.code, 0, result.err);
  assert.match(result.err, /embedded defaults/);
  assert.match(await site.read('public/rss.xml'), /<link>http:\/\/localhost:8080\/hello\/<\/link>/);
});

test('an unknown key is an error naming the key, the file and the line', async (t) => {
  const site = await makeSite(t, {}, `${SITE_CONFIG}  titel: Oops\n`);
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /herald\.config\.yml:8: unknown key "site\.titel" \(allowed under "site": title, url,/);
});

test('an unknown top-level key is named too', async (t) => {
  const site = await makeSite(t, {}, `${SITE_CONFIG}outptu: dist\n`);
  const result = await site.run('build');
  assert.equal(result.code, 1);
  assert.match(result.err, /herald\.config\.yml:8: unknown key "outptu" \(allowed at the top level: .*output/);
});

test('a wrong type names the key', async (t) => {
  const site = await makeSite(t, {}, `${SITE_CONFIG}feed:\n  limit: ten\n`);
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /herald\.config\.yml:9: "feed\.limit" must be a number/);
});

test('every bad key is reported at once, each with its line', async (t) => {
  const site = await makeSite(t, {}, 'site:\n  title: X\n  url: notaurl\n  colour: red\nfeed:\n  limit: lots\n');
  const result = await site.run('build');
  assert.equal(result.code, 1);
  const lines = result.err.split('\n').filter((line) => line.startsWith('herald: '));
  assert.equal(lines.length, 3, result.err);
  assert.match(lines[0]!, /herald\.config\.yml:3: "site\.url" must be an absolute http\(s\) URL/);
  assert.match(lines[1]!, /herald\.config\.yml:4: unknown key "site\.colour"/);
  assert.match(lines[2]!, /herald\.config\.yml:6: "feed\.limit" must be a number/);
});

test('a relative or malformed site.url is refused', async (t) => {
  for (const url of ['example.com', '/blog/', 'ftp://example.com/', 'https://']) {
    const site = await makeSite(t, {}, `site:\n  url: "${url}"\n`);
    const result = await site.run('check');
    assert.equal(result.code, 1, url);
    assert.match(result.err, /herald\.config\.yml:2: "site\.url" must be an absolute http\(s\) URL/, url);
  }
});

test('an unknown time zone is refused with an example of a real one', async (t) => {
  const site = await makeSite(t, {}, 'site:\n  timezone: Mars/Olympus\n');
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /"site\.timezone" must be an IANA time zone name such as UTC or Europe\/Berlin/);
});

test('a permalink without {slug} or with an unknown token is refused', async (t) => {
  for (const permalink of ['/posts/', '/{slug}/{hour}/']) {
    const site = await makeSite(t, {}, `permalink: ${permalink}\n`);
    const result = await site.run('check');
    assert.equal(result.code, 1);
    assert.match(result.err, /"permalink" (must contain \{slug\}|may only use)/);
  }
});

test('broken YAML in the config is reported with its line', async (t) => {
  const site = await makeSite(t, {}, 'site:\n  title: [unclosed\n');
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /herald\.config\.yml:\d+: not valid YAML/);
});

test('JSON config is accepted, and paths in it are relative to the config file', async (t) => {
  const site = await makeSite(t, {}, null);
  await site.write('conf/site.json', JSON.stringify({ site: { title: 'JSON site', url: 'https://example.org/blog' }, posts: '../writing', output: 'out' }));
  await site.write('writing/a.md', post({ title: 'From JSON' }));
  const result = await site.run('--config', 'conf/site.json', 'build', '--now', '2026-06-01');
  assert.equal(result.code, 0, result.err);
  const rss = await site.read('conf/out/rss.xml');
  assert.match(rss, /JSON site/);
  // site.url without a trailing slash still puts posts below its path.
  assert.match(rss, /<link>https:\/\/example\.org\/blog\/a\/<\/link>/);
});

test('HERALD_CONFIG names the config when --config is absent; a missing file is a clear error', async (t) => {
  const site = await makeSite(t, {}, null);
  const { main } = await import('../src/cli.js');
  const err: string[] = [];
  const code = await main(['check'], { cwd: site.dir, env: { HERALD_CONFIG: join(site.dir, 'nope.yml') }, out: () => {}, err: (line) => err.push(line) });
  assert.equal(code, 1);
  assert.match(err.join('\n'), /nope\.yml: cannot read the config file: ENOENT \(check the path given with --config or HERALD_CONFIG\)/);
});

test('an output folder that is, holds or sits in a private folder is refused, naming which', async (t) => {
  const cases: [string, RegExp][] = [
    ['output: .\n', /"output" "\." contains the posts folder \(posts\), the subscribers folder \(subscribers\), the templates folder \(templates\), the state folder \(\.herald\), the outbox folder \(outbox\) and the config file \(herald\.config\.yml\)/],
    ['output: .herald\n', /"output" "\.herald" is the state folder \(\.herald\)/],
    ['output: posts/site\n', /"output" "posts\/site" is inside the posts folder \(posts\)/],
    ['output: site\nsubscribers: site/private\n', /"output" "site" contains the subscribers folder \(site\/private\)/],
    ['output: outbox\n', /"output" "outbox" is the outbox folder/],
    ['output: templates/public\n', /"output" "templates\/public" is inside the templates folder \(templates\)/],
  ];
  for (const [yaml, expected] of cases) {
    const site = await makeSite(t, { 'a.md': post() }, `${SITE_CONFIG}${yaml}`);
    const result = await site.run('build');
    assert.equal(result.code, 1, yaml);
    assert.match(result.err, new RegExp(`herald\\.config\\.yml:8: ${expected.source}`), yaml);
    assert.match(result.err, /\(write the site to its own folder, such as output: public\)$/m, yaml);
    assert.equal(existsSync(join(site.dir, 'outbox/rss.xml')), false, 'nothing was written');
  }
});

test('output may not hold the database, nor reach a private folder through a symlink', async (t) => {
  const site = await makeSite(t, { 'a.md': post() }, `${SITE_CONFIG}database:\n  file: public/herald.db\n`);
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /herald\.config\.yml:8: "output" "public" contains the database \(public\/herald\.db\)/);
  assert.equal(existsSync(join(site.dir, 'public')), false, 'nothing was made');

  const linked = await makeSite(t, { 'a.md': post() }, `${SITE_CONFIG}output: linkout\n`);
  const { mkdir, symlink } = await import('node:fs/promises');
  await mkdir(join(linked.dir, '.herald'));
  await symlink(join(linked.dir, '.herald'), join(linked.dir, 'linkout'));
  const viaLink = await linked.run('check');
  assert.equal(viaLink.code, 1);
  assert.match(viaLink.err, /"output" "linkout" is the state folder \(\.herald\)/);
});

test('output left at its default is checked too, pointing at the key it collides with', async (t) => {
  const site = await makeSite(t, {}, `${SITE_CONFIG}state: public/.herald\n`);
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /herald\.config\.yml:8: "output" "public" contains the state folder \(public\/\.herald\)/);
});

test('a config in the output folder is refused; sibling folders and a name sharing a prefix are fine', async (t) => {
  const site = await makeSite(t, {}, null);
  await site.write('site/herald.config.yml', 'output: .\nposts: ../posts\nsubscribers: ../subscribers\ntemplates: ../templates\nstate: ../.herald\noutbox: ../outbox\n');
  const inside = await site.run('--config', 'site/herald.config.yml', 'check');
  assert.equal(inside.code, 1);
  assert.match(inside.err, /site\/herald\.config\.yml:1: "output" "\." contains the config file \(site\/herald\.config\.yml\)/);
  const fine = await makeSite(t, { 'a.md': post() }, `${SITE_CONFIG}output: posts-site\nstate: private/.herald\n`);
  const result = await fine.run('build', '--now', '2026-06-01');
  assert.equal(result.code, 0, result.err);
  assert.ok(existsSync(join(fine.dir, 'posts-site/rss.xml')));
});

test('a bad HERALD_SMTP_URL is a config error naming the variable, without echoing it', async (t) => {
  const site = await makeSite(t, { 'a.md': post() });
  const { main } = await import('../src/cli.js');
  for (const url of ['smtp://[bad', 'http://mail.example.com', 'user:secretpass@mail']) {
    const err: string[] = [];
    const code = await main(['run'], { cwd: site.dir, env: { HERALD_SMTP_URL: url }, out: () => {}, err: (line) => err.push(line) });
    assert.equal(code, 1, url);
    assert.match(err.join('\n'), /^herald: the environment variable HERALD_SMTP_URL is not an SMTP URL \(set it to an SMTP URL such as smtps:\/\//, url);
    assert.doesNotMatch(err.join('\n'), /secretpass|unexpected|at /, url);
  }
});

test('web: trusted proxies as a list or one entry, a connection cap, and defaults that trust nobody', async (t) => {
  const site = await makeSite(t, {}, null);
  const file = join(site.dir, 'herald.config.yml');
  assert.deepEqual(parseConfig({}, file, site.dir).web, { url: 'http://localhost:8080/', trustProxy: [], maxConnections: 1000, subscribeLimit: 20, sesTopics: [] });
  assert.equal(parseConfig({ site: { url: 'https://example.com/blog' }, web: { url: 'https://news.example.com/herald' } }, file, site.dir).web.url, 'https://news.example.com/herald/', 'web.url ends in / as site.url does');
  assert.deepEqual(parseConfig({ web: { trustProxy: '10.0.0.1' } }, file, site.dir).web.trustProxy, ['10.0.0.1']);
  const config = parseConfig({ web: { trustProxy: ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '::ffff:192.168.0.1'], maxConnections: 50 } }, file, site.dir);
  assert.deepEqual(config.web, { url: 'http://localhost:8080/', trustProxy: ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '::ffff:192.168.0.1'], maxConnections: 50, subscribeLimit: 20, sesTopics: [] });
  assert.ok(Object.isFrozen(config.web.trustProxy));
});

test('a trusted proxy that is not an address or range, or a bad web key, is an error naming it', async (t) => {
  const cases: [string, RegExp][] = [
    ['web:\n  trustProxy: [10.0.0.1, localhost]\n', /herald\.config\.yml:9: "web\.trustProxy" must list IP addresses or CIDR ranges such as 10\.0\.0\.1 or 10\.0\.0\.0\/8; "localhost" is neither/],
    ['web:\n  trustProxy: 10.0.0.300\n', /:9: "web\.trustProxy" .*"10\.0\.0\.300" is neither/],
    ['web:\n  trustProxy:\n    - 10.0.0.0/33\n', /:9: "web\.trustProxy" .*"10\.0\.0\.0\/33" is neither/],
    ['web:\n  trustProxy: ["fe80::/129"]\n', /"fe80::\/129" is neither/],
    ['web:\n  trustProxy: [5]\n', /"web\.trustProxy" .*; 5 is neither/],
    ['web:\n  trustProxy: 5\n', /"web\.trustProxy" must be an IP address, a CIDR range, or a list of them/],
    ['web:\n  maxConnections: 0\n', /:9: "web\.maxConnections" must be at least 1/],
    ['web:\n  trustproxy: 10.0.0.1\n', /:9: unknown key "web\.trustproxy" \(allowed under "web": url, trustProxy, maxConnections, sesTopics, subscribeLimit\)/],
    ['web:\n  sesTopics: ses-events\n', /:9: "web\.sesTopics" must list SNS topic ARNs such as arn:aws:sns:eu-west-1:123456789012:ses-events/],
    ['web:\n  url: news.example.com\n', /:9: "web\.url" must be an absolute http\(s\) URL where herald start answers/],
  ];
  for (const [yaml, expected] of cases) {
    const site = await makeSite(t, {}, `${SITE_CONFIG}${yaml}`);
    const result = await site.run('check');
    assert.equal(result.code, 1, yaml);
    assert.match(result.err, expected, yaml);
  }
});

test('a key left empty, its lines below commented out, counts as not set', () => {
  const config = parseConfig({ site: { url: 'https://example.com/', description: null }, smtp: null, web: null }, undefined, '/tmp');
  assert.equal(config.site.url, 'https://example.com/');
  assert.equal(config.smtp.url, undefined);
});

test('check makes the transport smtp.url names: a postmark:// URL without its token or stream, an ses:// one with half its credentials or no region, is a problem naming smtp.url', async (t) => {
  const cases: [string, RegExp][] = [
    ['postmark://api.postmarkapp.com', /smtp\.url.*a postmark:\/\/ URL needs the server token/],
    ['postmark://token@api.postmarkapp.com?stream=', /smtp\.url.*stream "" is not a message stream's ID/],
    ['ses://AKIAEXAMPLE@eu-west-1', /smtp\.url.*half its credentials/],
    ['ses://nowhere', /"nowhere" in the ses:\/\/ URL is not an AWS region/],
  ];
  for (const [url, expected] of cases) {
    const site = await makeSite(t, {}, `${SITE_CONFIG}smtp:\n  url: "${url}"\n`);
    const result = await site.run('check');
    assert.equal(result.code, 1, url);
    assert.match(result.err, expected, url);
  }
  const good = await makeSite(t, {}, `${SITE_CONFIG}email:\n  address: PO Box 1\nsmtp:\n  url: "postmark://token@api.postmarkapp.com?stream=broadcast"\n`);
  assert.equal((await good.run('check')).code, 0);
});
