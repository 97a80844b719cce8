// herald start keeps its last build in memory (BuildMemory): what it takes on trust between passes,
// and when it looks again.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { build, buildInputs, type BuildMemory } from '../src/build.js';
import { readPostCache } from '../src/cache.js';
import { loadConfig } from '../src/config.js';
import { FolderWatch } from '../src/watch.js';
import { makeSite, post } from './helpers.js';

const NOW = new Date('2026-06-01T00:00:00Z');

async function worker(t: import('node:test').TestContext, fullLookEveryMs: number, files: Record<string, string> = {}) {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01' }), 'b.md': post({ title: 'B', date: '2026-01-02' }) });
  for (const [path, text] of Object.entries(files)) await site.write(path, text);
  const config = loadConfig(undefined, site.dir);
  const memory: BuildMemory = { watch: new FolderWatch(buildInputs(config), fullLookEveryMs) };
  t.after(() => memory.watch.close());
  const pass = () => build(config, { now: NOW, cwd: site.dir, write: true, memory });
  await pass();
  await pass();
  // A new post, seen by the watch (inotify's events arrive on the event loop).
  let added = 0;
  const addPost = async () => {
    await site.write(`posts/new-${++added}.md`, post({ title: `New ${added}`, date: '2026-02-01' }));
    await sleep(200);
    return pass();
  };
  return { site, config, pass, addPost, page: (slug: string) => join(site.dir, 'public', slug, 'index.html') };
}

test('herald start takes the pages it made to be on disk: one new post looks at no other page file', async (t) => {
  const { site, config, addPost, page } = await worker(t, 60_000);
  // The first pass with work after the watch's first look (a full one) looks at every page; then not.
  await addPost();
  await rm(page('a'));
  const report = await addPost();
  assert.ok(existsSync(page('new-2')), 'the new post has its page');
  // Its entry id is recorded, though the ids are kept in memory between passes, and is its id in the feeds.
  const recorded = (await site.read('.herald/entry-ids.jsonl')).trim().split('\n').map((line) => JSON.parse(line) as [string, string]);
  const id = recorded.find(([file]) => file === join('posts', 'new-2.md'))?.[1];
  assert.ok(id, 'recorded');
  assert.ok((await site.read('public/atom.xml')).includes(`<id>${id}</id>`));
  assert.equal(existsSync(page('a')), false, 'a page deleted by hand is not looked for on this pass');
  assert.ok(!report.written.includes(join('public', 'a', 'index.html')));
  // The post cache on disk spares reading posts again: a restart reads this one again.
  assert.equal(readPostCache(config, site.dir).has(join(site.dir, 'posts/new-2.md')), false, 'one new post does not rewrite the post cache');
  // A build that does not remember, with a post to publish, finds what the cache lacks by each file's stamp.
  await site.write('posts/c.md', post({ title: 'C', date: '2026-03-01' }));
  const result = await site.run('build', '--now', NOW.toISOString());
  assert.equal(result.code, 0, result.err);
  assert.match(await site.read('public/rss.xml'), /\[C\][\s\S]*New 1[\s\S]*\[A\]/);
  assert.match(await site.read('public/rss.xml'), /New 2/);
});

test('herald start looks at every page again at its full look, and when its feeds are gone too', async (t) => {
  const { addPost, page, pass, site } = await worker(t, 400);
  await rm(page('a'));
  await sleep(450);
  await addPost();
  assert.ok(existsSync(page('a')), 'made again at the full look');
  // A full look with nothing to do: the next pass with work looks at every page.
  await rm(page('b'));
  await sleep(450);
  await pass();
  await addPost();
  assert.ok(existsSync(page('b')), 'made again by the first pass with work after the full look');

  const emptied = await worker(t, 60_000);
  await rm(join(emptied.site.dir, 'public'), { recursive: true });
  await emptied.addPost();
  for (const slug of ['a', 'b', 'new-1']) assert.ok(existsSync(emptied.page(slug)), `${slug}: made again with the emptied output folder`);
  assert.ok(existsSync(join(site.dir, 'public/rss.xml')));
});

test('herald start writes the post cache once 100 posts changed since it last did', async (t) => {
  const { site, config, pass } = await worker(t, 60_000);
  for (let i = 0; i < 100; i++) await site.write(`posts/many-${i}.md`, post({ title: `Many ${i}`, date: '2026-03-01' }));
  await sleep(200);
  await pass();
  const cache = readPostCache(config, site.dir);
  assert.ok(cache.has(join(site.dir, 'posts/many-99.md')), 'written once 100 posts are unsaved');
});

test('a pass that fails does not lose what the watch saw change: the next pass publishes it', async (t) => {
  const { site, pass, addPost, page } = await worker(t, 60_000);
  // A file where the new post's page folder must go: its page cannot be written.
  await site.write('public/new-1', 'in the way');
  await assert.rejects(addPost(), /cannot write/);
  await rm(join(site.dir, 'public/new-1'));
  await pass();
  assert.ok(existsSync(page('new-1')));
  assert.match(await site.read('public/rss.xml'), /New 1/);
});

test('the posts folder removed while herald start runs fails the pass and keeps the site; put back, it is published again', async (t) => {
  const { site, pass, page } = await worker(t, 60_000);
  await rename(join(site.dir, 'posts'), join(site.dir, 'posts-aside'));
  await sleep(200);
  await assert.rejects(pass(), /cannot read the posts folder/);
  assert.match(await site.read('public/rss.xml'), /\[A\]/, 'the feeds as they were');
  assert.ok(existsSync(page('a')));
  await rename(join(site.dir, 'posts-aside'), join(site.dir, 'posts'));
  await site.write('posts/c.md', post({ title: 'C', date: '2026-01-03' }));
  await sleep(200);
  await pass();
  assert.match(await site.read('public/rss.xml'), /\[C\][\s\S]*\[B\][\s\S]*\[A\]/);
});

test('a static file removed from where a page now is: herald start makes the page again', async (t) => {
  const { site, pass } = await worker(t, 60_000, { 'static/about.html': '<p>about</p>', 'static/index.html': '<p>the writer’s own</p>' });
  await rm(join(site.dir, 'static/index.html'));
  await sleep(200);
  await pass();
  assert.match(await site.read('public/index.html'), /<html/, "herald's index, made again where the writer's was");
  assert.equal(await site.read('public/about.html'), '<p>about</p>');
});

test("a static file put where a feed is, or removed from there: herald start's next pass leaves the feed a fresh build makes", async (t) => {
  const { site, pass } = await worker(t, 60_000, { 'static/keep.txt': 'keep' });
  const feed = await site.read('public/rss.xml');
  await site.write('static/rss.xml', '<rss>mine</rss>');
  await sleep(200);
  await pass();
  assert.equal(await site.read('public/rss.xml'), feed);
  const { gunzipSync } = await import('node:zlib');
  const { readFile } = await import('node:fs/promises');
  assert.equal(gunzipSync(await readFile(join(site.dir, 'public/rss.xml.gz'))).toString(), feed, 'the copies are of the same bytes');
  await rm(join(site.dir, 'static/rss.xml'));
  await sleep(200);
  await pass();
  assert.equal(await site.read('public/rss.xml'), feed);
});
