// A build after a change makes what a fresh build of the same files makes: what each document's and
// page's fingerprint must cover for that (found by a differential test of herald start against
// fresh builds).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeSite, post, SITE_CONFIG } from './helpers.js';

const NOW = '2026-06-01T00:00:00Z';
const plain = (title: string) => `---\ntitle: "${title}"\n---\n\nBody of ${title}.\n`;

test('a post renamed to another date (same bytes, same mtime) shows its new date in the feeds and pages', async (t) => {
  const site = await makeSite(t, { '2019-01-01-older.md': plain('Older'), '2020-01-01-hello.md': plain('Hello'), '2023-01-01-newer.md': plain('Newer') });
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.match(await site.read('public/hello/index.html'), /January 1, 2020/);
  // rename() keeps the file's size and mtime: only its name says the date changed.
  await rename(join(site.dir, 'posts/2020-01-01-hello.md'), join(site.dir, 'posts/2020-06-15-hello.md'));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.match(await site.read('public/hello/index.html'), /June 15, 2020/);
  assert.match(await site.read('public/index.html'), /June 15, 2020/);
  assert.match(await site.read('public/atom.xml'), /<published>2020-06-15/);
  assert.match(await site.read('public/feed.json'), /"date_published": "2020-06-15/);
});

test('a post with its own id renamed to another address links to its new address from the feeds', async (t) => {
  const site = await makeSite(t, { 'first-name.md': '---\ntitle: Named\ndate: 2020-01-01\nid: "urn:example:named"\n---\n\nNamed.\n', 'other.md': post({ title: 'Other', date: '2020-02-01' }) });
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  await rename(join(site.dir, 'posts/first-name.md'), join(site.dir, 'posts/second-name.md'));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  const rss = await site.read('public/rss.xml');
  assert.match(rss, /<link>https:\/\/example\.com\/second-name\/<\/link>/);
  assert.doesNotMatch(rss, /first-name/);
  assert.match(await site.read('public/atom.xml'), /<id>urn:example:named<\/id>/, 'the id stays');
});

test("a topic's archives are named as its newest post spells it, as its subscription feed is", async (t) => {
  const posts = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i + 1}.md`, post({ title: `P${i + 1}`, date: `2020-01-0${i + 1}`, topics: i === 8 ? 'Web Dev' : 'web-dev' })]));
  const site = await makeSite(t, posts, `${SITE_CONFIG}feed:\n  limit: 4\n`);
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.match(await site.read('public/topics/web-dev/archive/1/rss.xml'), /<title><!\[CDATA\[Test site: Web Dev\]\]><\/title>|<title>Test site: Web Dev<\/title>/);
  await site.write('posts/p10.md', post({ title: 'P10', date: '2020-01-10', topics: 'WEB-DEV' }));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const doc of ['rss.xml', 'archive/1/rss.xml', 'archive/1/atom.xml', 'archive/2/feed.json']) assert.match(await site.read(`public/topics/web-dev/${doc}`), /Test site: WEB-DEV/, doc);
});

test('a partial in a sub-folder of templates, and an include of posts that run Liquid, are seen when edited', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01', body: 'Before {% include note.html %} after.\n' }) }, `${SITE_CONFIG}posts:\n  folder: posts\n  liquid: true\n`);
  await site.write('templates/index.html', "<p>{% include 'parts/banner.html' %}</p>{% for post in posts %}{{ post.title }}{% endfor %}");
  await site.write('templates/parts/banner.html', 'banner one');
  await site.write('_includes/note.html', 'note one');
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.match(await site.read('public/index.html'), /banner one/);
  assert.match(await site.read('public/a/index.html'), /note one/);
  await site.write('templates/parts/banner.html', 'banner two');
  await site.write('_includes/note.html', 'note two');
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.match(await site.read('public/index.html'), /banner two/);
  assert.match(await site.read('public/a/index.html'), /note two/);
  assert.match(await site.read('public/rss.xml'), /note two/);
});

test('a post unpublished leaves no empty folder at its old address, nor does a static file removed', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01' }), 'gone.md': '---\ntitle: Gone\ndate: 2026-01-02\naliases: [/old/gone/]\n---\n\nGone.\n' }, `${SITE_CONFIG}static:\n  - folder: static\n    path: /\n`);
  await site.write('static/files/deep/x.txt', 'x');
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.ok(existsSync(join(site.dir, 'public/gone/index.html')));
  assert.ok(existsSync(join(site.dir, 'public/old/gone/index.html')));
  await rm(join(site.dir, 'posts/gone.md'));
  await rm(join(site.dir, 'static/files'), { recursive: true });
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const folder of ['gone', 'old', 'files']) assert.equal(existsSync(join(site.dir, 'public', folder)), false, folder);
  assert.ok(existsSync(join(site.dir, 'public/a/index.html')));
});

test('a post that is a symbolic link to a file elsewhere: herald start sees its target edited at the next pass', async (t) => {
  const { build, buildInputs } = await import('../src/build.js');
  const { loadConfig } = await import('../src/config.js');
  const { FolderWatch } = await import('../src/watch.js');
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01' }) });
  await site.write('shared/linked.md', post({ title: 'Linked one', date: '2026-01-02' }));
  await symlink(join(site.dir, 'shared/linked.md'), join(site.dir, 'posts/linked.md'));
  const config = loadConfig(undefined, site.dir);
  const memory = { watch: new FolderWatch(buildInputs(config), 60_000) };
  t.after(() => memory.watch.close());
  const pass = () => build(config, { now: new Date(NOW), cwd: site.dir, write: true, memory });
  await pass();
  await pass();
  await site.write('shared/linked.md', post({ title: 'Linked two', date: '2026-01-02' }));
  await pass();
  assert.match(await site.read('public/rss.xml'), /Linked two/);
});

test("a change to how posts are read (posts.topics) is seen by the next build: each post is read again", async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01', topics: 'x' }), 'b.md': '---\ntitle: B\ndate: 2026-01-02\ntags: [y]\n---\n\nB.\n' });
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.match(await site.read('public/feed.json'), /"tags": \[\s*"y"\s*\]/);
  await site.write('herald.config.yml', `${SITE_CONFIG}posts:\n  folder: posts\n  topics: [topics]\n`);
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.doesNotMatch(await site.read('public/feed.json'), /"y"/);
  assert.match(await site.read('public/feed.json'), /"tags": \[\s*"x"\s*\]/);
});

test('a static folder publishes its .well-known (security.txt, ACME challenges) and no other dot file; a post dated by an impossible file name says so', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01' }) }, `${SITE_CONFIG}static:\n  - folder: static\n    path: /\n`);
  await site.write('static/.well-known/security.txt', 'Contact: mailto:security@example.com\n');
  await site.write('static/.env', 'SECRET=1');
  await site.write('static/files/.hidden', 'no');
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.equal(await site.read('public/.well-known/security.txt'), 'Contact: mailto:security@example.com\n');
  for (const path of ['public/.env', 'public/files/.hidden']) assert.equal(existsSync(join(site.dir, path)), false, path);

  await site.write('posts/2024-02-30-feb30.md', '---\ntitle: Feb 30\n---\n\nNo such day.\n');
  const result = await site.run('build', '--now', NOW);
  assert.equal(result.code, 1);
  assert.match(result.err, /posts\/2024-02-30-feb30\.md:1: the date its file name starts with, 2024-02-30, is not a real date/);
});

test('no title or category makes an address outside the site: such a post is refused, and nothing is written outside output', async (t) => {
  const site = await makeSite(t, {
    'a.md': post({ title: 'A', date: '2026-01-01' }),
    'up.md': post({ title: '../../../pwned', date: '2026-01-02' }),
    'mid.md': post({ title: 'a/../../evil', date: '2026-01-03' }),
    'dot.md': post({ title: '.', date: '2026-01-04' }),
    'cat.md': '---\ntitle: Cat\ndate: 2026-01-05\ncategories: [".."]\n---\n\nc\n',
  }, `${SITE_CONFIG}permalink: /{categories}/{hugo:title}/\n`);
  const result = await site.run('build', '--now', NOW);
  assert.equal(existsSync(join(site.dir, '../pwned')), false);
  assert.equal(existsSync(join(site.dir, 'evil')), false);
  assert.equal(existsSync(join(site.dir, '../../pwned')), false);
  assert.ok(existsSync(join(site.dir, 'public/a/index.html')));
  // The dot segments are dropped from a title ("a/../../evil" is a/evil); a category ".." is refused as a topic.
  assert.ok(existsSync(join(site.dir, 'public/a/evil/index.html')));
  assert.ok(existsSync(join(site.dir, 'public/pwned/index.html')));
  assert.match(await site.read('public/index.html'), /<html/, 'the home page is herald\'s own');
  assert.equal(result.code, 1, 'a post refused');
  assert.match(result.err, /posts\/cat\.md:\d+: topic "\.\." has no letters or digits/);
});
