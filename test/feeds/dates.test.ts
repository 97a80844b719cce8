import assert from 'node:assert/strict';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { documentUpdated, type FeedRecord } from '../../src/feeds/dates.js';
import { makeSite, post, type Site } from '../helpers.js';
import { readWithPythonFeedparser } from './readers.js';

const CONFIG = 'site:\n  title: Dates\n  url: https://example.com/\n  author: { name: Ada }\npages: false\n';
const FEEDS = ['rss.xml', 'atom.xml'];

/** The feed's own updated time as feedparser reads it, the same in RSS and Atom. */
function updatedOf(site: Site, dir = ''): string {
  const [rss, atom] = FEEDS.map((file) => readWithPythonFeedparser(join(site.dir, 'public', dir, file)));
  assert.equal(rss!.bozo, false);
  assert.equal(atom!.bozo, false);
  assert.equal(rss!.updated, atom!.updated, 'RSS and Atom agree');
  return atom!.updated;
}

async function build(site: Site, now: string): Promise<string> {
  const result = await site.run('build', '--now', now);
  assert.equal(result.code, 0, result.err);
  return result.out;
}

test('removing the newest post moves the feed time on to the build, never back', async (t) => {
  const site = await makeSite(t, {
    'a.md': post({ title: 'A', date: '2026-01-01 09:00' }),
    'b.md': post({ title: 'B', date: '2026-01-02 09:00' }),
    'c.md': post({ title: 'C', date: '2026-01-03 09:00' }),
  }, CONFIG);
  await build(site, '2026-02-01T00:00:00Z');
  assert.equal(updatedOf(site), '2026-01-03T09:00:00.000Z');

  await rm(join(site.dir, 'posts/c.md'));
  await build(site, '2026-03-01T00:00:00Z');
  assert.equal(updatedOf(site), '2026-03-01T00:00:00.000Z', 'the removal happened at this build');
  const rss = await site.read('public/rss.xml');
  assert.match(rss, /<lastBuildDate>Sun, 01 Mar 2026 00:00:00 GMT<\/lastBuildDate>/);
  assert.match(rss, /<pubDate>Sun, 01 Mar 2026 00:00:00 GMT<\/pubDate>\s*<language>/, "the channel's pubDate");

  // A later build that changes nothing the feed shows keeps its time and its bytes.
  const before = await site.read('public/atom.xml');
  await site.write('posts/draft.md', post({ title: 'Draft', date: '2026-03-02', draft: true }));
  await build(site, '2026-04-01T00:00:00Z');
  assert.equal(await site.read('public/atom.xml'), before);
  assert.equal(await site.read('public/rss.xml'), rss);

  // Nor does it go back when the build state is lost (deleting .herald's caches is allowed). The
  // documents are made again then, and RSS keeps its bytes although the rss package stamps
  // lastBuildDate with the clock.
  await rm(join(site.dir, '.herald/build-state.json'));
  await site.write('posts/draft2.md', post({ title: 'Draft 2', date: '2026-03-03', draft: true }));
  await build(site, '2026-04-02T00:00:00Z');
  assert.equal(await site.read('public/atom.xml'), before);
  assert.equal(await site.read('public/rss.xml'), rss, 'made again, to the same bytes');

  // A new post after that is the newest change again.
  await site.write('posts/d.md', post({ title: 'D', date: '2026-04-02 10:00' }));
  await build(site, '2026-04-03T00:00:00Z');
  assert.equal(updatedOf(site), '2026-04-02T10:00:00.000Z');
});

test('an emptied topic feed says when it was emptied, not 1970, and keeps that time', async (t) => {
  const site = await makeSite(t, {
    'a.md': post({ title: 'A', date: '2026-01-01 09:00', topics: ['gone'] }),
    'b.md': post({ title: 'B', date: '2026-01-02 09:00', topics: ['kept'] }),
  }, CONFIG);
  await build(site, '2026-02-01T00:00:00Z');
  assert.equal(updatedOf(site, 'topics/gone'), '2026-01-01T09:00:00.000Z');

  await site.write('posts/a.md', post({ title: 'A', date: '2026-01-01 09:00', topics: ['kept'] }));
  await build(site, '2026-02-10T08:00:00Z');
  const emptied = readWithPythonFeedparser(join(site.dir, 'public/topics/gone/atom.xml'));
  assert.equal(emptied.entries.length, 0);
  assert.equal(updatedOf(site, 'topics/gone'), '2026-02-10T08:00:00.000Z');
  assert.equal(JSON.parse(await site.read('public/topics/gone/feed.json')).items.length, 0);

  // The next build (another post arrives) leaves the empty feed exactly as it was.
  const before = await Promise.all(FEEDS.map((file) => site.read(`public/topics/gone/${file}`)));
  await site.write('posts/c.md', post({ title: 'C', date: '2026-02-20 09:00', topics: ['kept'] }));
  const out = await build(site, '2026-03-01T00:00:00Z');
  assert.doesNotMatch(out, /topics\/gone/);
  assert.deepEqual(await Promise.all(FEEDS.map((file) => site.read(`public/topics/gone/${file}`))), before);
});

test('a backdated post and an edit without a new updated time move the feed time to the build', async (t) => {
  const site = await makeSite(t, {
    'a.md': post({ title: 'A', date: '2026-01-01 09:00' }),
    'c.md': post({ title: 'C', date: '2026-01-03 09:00' }),
  }, CONFIG);
  await build(site, '2026-02-01T00:00:00Z');
  await site.write('posts/b.md', post({ title: 'B', date: '2026-01-02 09:00' }));
  await build(site, '2026-02-05T00:00:00Z');
  assert.equal(updatedOf(site), '2026-02-05T00:00:00.000Z');

  await site.write('posts/a.md', post({ title: 'A', date: '2026-01-01 09:00', body: 'Corrected.\n' }));
  await build(site, '2026-02-07T00:00:00Z');
  assert.equal(updatedOf(site), '2026-02-07T00:00:00.000Z');
});

test('a post file touched but not changed leaves every feed as it was', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', date: '2026-01-01 09:00', topics: ['x'] }) }, CONFIG);
  await build(site, '2026-02-01T00:00:00Z');
  const before = await site.read('public/atom.xml');
  await utimes(join(site.dir, 'posts/a.md'), new Date(), new Date('2026-02-02'));
  const out = await build(site, '2026-02-03T00:00:00Z');
  assert.doesNotMatch(out, /wrote public\/(topics\/x\/)?(rss|atom)/);
  assert.equal(await site.read('public/atom.xml'), before);
});

test('a site with no posts yet has a feed dated when it was first built', async (t) => {
  const site = await makeSite(t, {}, CONFIG);
  await build(site, '2026-02-01T00:00:00Z');
  assert.equal(updatedOf(site), '2026-02-01T00:00:00.000Z');
  await build(site, '2026-02-02T00:00:00Z');
  assert.equal(updatedOf(site), '2026-02-01T00:00:00.000Z');
});

test('documentUpdated: the rule on its own', () => {
  const record: FeedRecord = { made: 'm', shows: 's', updated: 1_000 };
  assert.equal(documentUpdated(undefined, 's', 500, 9_000), 500, 'first seen: its newest entry');
  assert.equal(documentUpdated(undefined, 's', undefined, 9_000), 9_000, 'first seen empty: now');
  assert.equal(documentUpdated(undefined, 's', 500, 9_000, 700), 700, 'no record, but published later: never back');
  assert.equal(documentUpdated(undefined, 's', 800, 9_000, 700), 800, 'no record, a newer entry than published');
  assert.equal(documentUpdated(undefined, 's', undefined, 9_000, 700), 700, 'no record, empty: as published');
  assert.equal(documentUpdated(record, 's', 500, 9_000), 1_000, 'unchanged: as recorded');
  assert.equal(documentUpdated(record, 't', 2_000, 9_000), 2_000, 'a newer entry');
  assert.equal(documentUpdated(record, 't', 800, 9_000), 9_000, 'a removal: now');
  assert.equal(documentUpdated(record, 't', undefined, 9_000), 9_000, 'emptied: now');
  assert.equal(documentUpdated(record, 't', 800, 200), 1_000, 'a clock behind the record does not take the time back');
});
