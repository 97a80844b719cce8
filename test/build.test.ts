import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILT_CLI, makeSite, post, runBuilt } from './helpers.js';

const FEEDS = ['rss.xml', 'atom.xml', 'feed.json'];

test('a future-dated post is absent until its moment, then appears with no other action', async (t) => {
  const site = await makeSite(t, {
    'now.md': post({ title: 'Already out', date: '2026-03-01' }),
    'later.md': post({ title: 'Coming soon', date: '2026-03-10 09:00' }),
  });
  await site.run('build', '--now', '2026-03-10T08:59:59Z');
  for (const file of FEEDS) assert.doesNotMatch(await site.read(`public/${file}`), /Coming soon/, file);
  const result = await site.run('build', '--now', '2026-03-10T09:00:00Z');
  assert.equal(result.code, 0);
  for (const file of FEEDS) assert.match(await site.read(`public/${file}`), /Coming soon/, file);
});

test('drafts never appear, whatever their date', async (t) => {
  const site = await makeSite(t, { 'd.md': post({ title: 'Secret draft', date: '2020-01-01', draft: true }), 'p.md': post({ title: 'Public' }) });
  await site.run('build', '--now', '2026-06-01');
  for (const file of FEEDS) assert.doesNotMatch(await site.read(`public/${file}`), /Secret draft/);
});

test('bad posts are reported as path:line and left out; the rest are published; exit 1', async (t) => {
  const site = await makeSite(t, {
    'good.md': post({ title: 'Good post' }),
    'no-title.md': '---\ndate: 2026-01-26\n---\nBody\n',
    'bad-yaml.md': '---\ntitle: Broken: yes: really\ndate: 2026-01-26\n---\n',
    'bad-date.md': '---\ntitle: Bad date\ndate: someday\n---\n',
    'a-first.md': post({ title: 'Owns the slug', slug: 'same' }),
    'b-second.md': post({ title: 'Clashes', slug: 'same' }),
  });
  const result = await site.run('build', '--now', '2026-06-01');
  assert.equal(result.code, 1);
  assert.match(result.err, /^posts\/no-title\.md:1: the post has no title \(add a line "title: Your title" to the front matter\)$/m);
  assert.match(result.err, /^posts\/bad-yaml\.md:2: front matter is not valid YAML: .*\(.*quote a value/m);
  assert.match(result.err, /^posts\/bad-date\.md:3: date "someday" is not a date herald can read \(use YYYY-MM-DD/m);
  assert.match(result.err, /^posts\/b-second\.md:4: slug "same" is already used by posts\/a-first\.md \(both would be at [^)]*; give this post its own address/m);
  const rss = await site.read('public/rss.xml');
  assert.match(rss, /Good post/);
  assert.match(rss, /Owns the slug/);
  assert.doesNotMatch(rss, /Clashes|Bad date/);
  assert.match(result.out, /2 published posts .*4 problems/);
});

test('of two posts with one slug, the one dated first keeps it, whatever the file names', async (t) => {
  const site = await makeSite(t, {
    'what-i-learned.md': post({ title: 'The original', date: '2026-01-26' }),
  });
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  await site.write('posts/a-later-post.md', post({ title: 'A newcomer', date: '2026-05-01', slug: 'what-i-learned' }));
  const result = await site.run('build', '--now', '2026-06-01');
  assert.equal(result.code, 1);
  assert.match(result.err, /^posts\/a-later-post\.md:4: slug "what-i-learned" is already used by posts\/what-i-learned\.md/m);
  const rss = await site.read('public/rss.xml');
  assert.match(rss, /The original/);
  assert.doesNotMatch(rss, /A newcomer/);
});

test('a bad post stays reported on the next build, even when served from the cache', async (t) => {
  const site = await makeSite(t, { 'bad.md': '---\ntitle: x\n---\n' });
  assert.equal((await site.run('build')).code, 1);
  const again = await site.run('build');
  assert.equal(again.code, 1);
  assert.match(again.err, /posts\/bad\.md:1: the post has no date/);
});

test('an unchanged feed is not rewritten: same bytes, same mtime', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }), 'b.md': post({ title: 'B', topics: 'x', date: '2026-02-01' }) });
  await site.run('build', '--now', '2026-06-01');
  const paths = ['public/rss.xml', 'public/atom.xml', 'public/feed.json', 'public/topics/x/rss.xml'].map((p) => join(site.dir, p));
  const old = new Date('2026-01-01T00:00:00Z');
  for (const path of paths) await utimes(path, old, old);
  const before = await Promise.all(paths.map((path) => readFile(path)));

  // A second build, a build after the cache is deleted, and a build at a later time all keep them.
  await site.run('build', '--now', '2026-06-02');
  await writeFile(join(site.dir, '.herald/build-cache.json'), 'not json');
  const result = await site.run('build', '--now', '2026-07-01');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /0 files written/);
  for (const [i, path] of paths.entries()) {
    assert.equal((await stat(path)).mtimeMs, old.getTime(), path);
    assert.deepEqual(await readFile(path), before[i]);
  }

  // Changing one post rewrites the feeds it is in, and only those.
  await site.write('posts/a.md', post({ title: 'A, edited' }));
  const edited = await site.run('build', '--now', '2026-07-01');
  assert.match(edited.out, /wrote public\/rss\.xml/);
  assert.doesNotMatch(edited.out, /topics\/x/);
  assert.equal((await stat(join(site.dir, 'public/topics/x/rss.xml'))).mtimeMs, old.getTime());
});

test('the cache notices an edit with the same size, a new file, a deleted file and a deleted feed', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'AAAA' }) });
  await site.run('build', '--now', '2026-06-01');
  await site.write('posts/a.md', post({ title: 'BBBB' }));
  await utimes(join(site.dir, 'posts/a.md'), new Date(), new Date(Date.now() + 5000));
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/rss.xml'), /BBBB/);

  await site.write('posts/new.md', post({ title: 'Newcomer' }));
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/atom.xml'), /Newcomer/);

  const { rm } = await import('node:fs/promises');
  await rm(join(site.dir, 'posts/new.md'));
  await site.run('build', '--now', '2026-06-01');
  assert.doesNotMatch(await site.read('public/atom.xml'), /Newcomer/);

  await rm(join(site.dir, 'public/feed.json'));
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/feed.json'), /BBBB/);
});

test('a topic whose posts are all gone keeps an empty feed, so readers see them go', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'Tagged', topics: 'gone' }), 'b.md': post({ title: 'Other' }) });
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/topics/gone/rss.xml'), /Tagged/);
  await site.write('posts/a.md', post({ title: 'Tagged', topics: 'gone', draft: true }));
  await site.run('build', '--now', '2026-06-01');
  assert.doesNotMatch(await site.read('public/topics/gone/rss.xml'), /Tagged/);
  assert.equal(JSON.parse(await site.read('public/topics/gone/feed.json')).items.length, 0);
});

test('feeds are replaced atomically: a reader polling during rebuilds never sees half a file', async (t) => {
  const big = 'Lorem ipsum dolor sit amet. '.repeat(4000);
  const site = await makeSite(t, { 'a.md': post({ title: 'Big', body: big }) });
  await site.run('build', '--now', '2026-06-01');
  const feed = join(site.dir, 'public/feed.json');
  let reading = true;
  let reads = 0;
  const reader = (async () => {
    while (reading) {
      JSON.parse(await readFile(feed, 'utf8'));
      reads++;
    }
  })();
  // Builds in child processes, some killed part-way, each changing the post.
  for (let i = 0; i < 6; i++) {
    await site.write('posts/a.md', post({ title: `Big ${i}`, body: big.repeat(1 + (i % 3)) }));
    const child = spawn(process.execPath, [BUILT_CLI, 'build', '--now', '2026-06-01'], { cwd: site.dir, stdio: 'ignore' });
    const killed = i % 2 === 1;
    if (killed) setTimeout(() => child.kill('SIGKILL'), 60 + i * 10);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.ok(code === 0 || (killed && signal === 'SIGKILL'), `build ${i} ended with ${code ?? signal}`);
  }
  reading = false;
  await reader;
  assert.ok(reads > 10, `the reader read ${reads} times`);
  const leftovers = (await readdir(join(site.dir, 'public'))).filter((name) => name.endsWith('.tmp'));
  assert.ok(leftovers.length <= 3, `temp files of killed builds only: ${leftovers.join(', ')}`);
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  JSON.parse(await readFile(feed, 'utf8'));
});

test('a large site built by the built herald builds like a small one', async (t) => {
  const posts: Record<string, string> = {};
  for (let i = 0; i < 1500; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    posts[`p${String(i).padStart(4, '0')}.md`] = post({ title: `Post ${i}`, date: `2025-${String(1 + (i % 12)).padStart(2, '0')}-${day} ${String(i % 24).padStart(2, '0')}:00`, topics: i % 3 ? 'a' : 'b' });
  }
  posts['p0777.md'] = '---\ntitle: broken\n---\n';
  const site = await makeSite(t, posts);
  const result = await runBuilt(site.dir, 'build', '--now', '2026-01-01');
  assert.equal(result.code, 1);
  assert.match(result.err, /^posts\/p0777\.md:1: the post has no date/m);
  assert.match(result.out, /built 1499 published posts/);
  const json = JSON.parse(await site.read('public/feed.json'));
  assert.equal(json.items.length, 20);
  assert.equal(json.items[0].title, 'Post 167');
});

test('the stylesheet or a feed deleted by hand is made again by the next build, though no post changed', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }) });
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const stylesheet = await site.read('public/feed.xsl');
  for (const file of ['public/feed.xsl', 'public/atom.xml']) {
    await rm(join(site.dir, file));
    const again = await site.run('build', '--now', '2026-06-01');
    assert.equal(again.code, 0, again.err);
    assert.ok(existsSync(join(site.dir, file)), `${file} is back`);
  }
  assert.equal(await site.read('public/feed.xsl'), stylesheet);
});
