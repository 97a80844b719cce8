import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { archiveCount } from '../../src/feeds/archives.js';
import { makeSite, post, type Site } from '../helpers.js';
import { assertWellFormedXml, readWithPythonFeedparser, type PythonFeed } from './readers.js';

const NOW = '2026-06-01T12:00:00Z';
const SITE = 'https://example.com/';
const config = (limit: number) => `site:\n  title: Archives\n  url: ${SITE}\n  author: { name: Ada }\nfeed:\n  limit: ${limit}\npages: false\n`;

/** Posts 1..count, a day apart in 2025 and 2026; every third is in the topic "third". */
function numbered(count: number, from = 1): Record<string, string> {
  const posts: Record<string, string> = {};
  for (let n = from; n < from + count; n++) {
    const date = new Date(Date.UTC(2025, 0, n, 9)).toISOString().slice(0, 16).replace('T', ' ');
    posts[`p${n}.md`] = post({ title: `Post ${n}`, date, slug: `p${n}`, topics: n % 3 ? 'other' : ['third', 'other'], body: `Body of post ${n}.\n` });
  }
  return posts;
}

const fileOf = (site: Site, url: string) => join(site.dir, 'public', url.slice(SITE.length));
const linkOf = (feed: PythonFeed, rel: string) => feed.links.find((link) => link.rel === rel)?.href;

/**
 * Walks an RSS or Atom feed as an RFC 5005 client does: the subscription document, then
 * prev-archive to the oldest archive, checking each archive's links on the way. Returns each
 * document's entry titles, newest document first.
 */
function walk(site: Site, subscription: string): string[][] {
  const documents: string[][] = [];
  let url: string | undefined = subscription;
  let newer: string | undefined;
  while (url) {
    const path = fileOf(site, url);
    assertWellFormedXml(path);
    const feed = readWithPythonFeedparser(path);
    assert.equal(feed.bozo, false, `${url}: ${feed.bozo_exception}`);
    assert.equal(linkOf(feed, 'self'), url);
    if (newer === undefined) {
      assert.equal(feed.history, linkOf(feed, 'prev-archive') ? '' : 'complete', url);
      assert.equal(linkOf(feed, 'current'), undefined);
      assert.equal(linkOf(feed, 'next-archive'), undefined, 'a subscription document has no next-archive');
    } else {
      assert.equal(feed.history, 'archive', url);
      assert.equal(linkOf(feed, 'current'), subscription, url);
      // The newest archive names no next-archive: the subscription document is not an archive.
      assert.equal(linkOf(feed, 'next-archive'), newer === subscription ? undefined : newer, url);
    }
    documents.push(feed.entries.map((entry) => entry.title));
    newer = url;
    url = linkOf(feed, 'prev-archive');
  }
  return documents;
}

function assertEveryPostOnce(documents: string[][], expected: string[], limit: number): void {
  const [subscription, ...archives] = documents;
  assert.deepEqual(subscription, expected.slice(0, limit), 'the subscription document shows the newest feed.limit posts');
  assert.equal(archives.length, archiveCount(expected.length, limit));
  for (const archive of archives) assert.equal(archive.length, limit, 'only full archive pages exist');
  // Oldest archive first: they hold the oldest posts in order, each once.
  const archived = archives.reverse().flatMap((archive) => [...archive].reverse());
  assert.deepEqual(archived, [...expected].reverse().slice(0, archived.length));
  // The subscription document and the archives together hold every post; the newest archive may
  // repeat some of the subscription document's, which a reader keeps once by id (RFC 5005 4.2).
  const seen = new Set(documents.flat());
  assert.deepEqual([...seen].sort(), [...expected].sort());
  assert.ok(archived.length + subscription!.length - expected.length < limit, 'the overlap is less than a page');
}

const titles = (count: number, step = 1) =>
  Array.from({ length: count }, (_, i) => count - i)
    .filter((n) => n % step === 0)
    .map((n) => `Post ${n}`);

test('the RFC 5005 chain from each subscription feed reaches every post exactly once, in RSS and Atom', async (t) => {
  const site = await makeSite(t, numbered(45), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const file of ['rss.xml', 'atom.xml']) {
    assertEveryPostOnce(walk(site, `${SITE}${file}`), titles(45), 10);
    // A topic's feed has archives of its own: 15 posts in "third".
    assertEveryPostOnce(walk(site, `${SITE}topics/third/${file}`), titles(45, 3), 10);
  }
  // The layout: archive/<k>/ below the feed's folder, k = 1 the oldest.
  const oldest = readWithPythonFeedparser(join(site.dir, 'public/archive/1/atom.xml'));
  assert.deepEqual(oldest.entries.map((entry) => entry.title), titles(10));
  assert.ok(existsSync(join(site.dir, 'public/topics/third/archive/1/rss.xml')));
  assert.ok(!existsSync(join(site.dir, 'public/topics/third/archive/2')));
});

test('JSON Feed pages follow next_url from feed.json back to the oldest post', async (t) => {
  const site = await makeSite(t, numbered(45), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const start of [`${SITE}feed.json`, `${SITE}topics/third/feed.json`]) {
    const documents: string[][] = [];
    for (let url: string | undefined = start; url; ) {
      const text = await site.read(`public/${url.slice(SITE.length)}`);
      const feed = JSON.parse(text);
      assert.equal(feed.feed_url, url);
      assert.equal(text, `${JSON.stringify(feed, null, 2)}\n`);
      documents.push(feed.items.map((item: { title: string }) => item.title));
      url = feed.next_url;
    }
    assertEveryPostOnce(documents, start.includes('third') ? titles(45, 3) : titles(45), 10);
  }
});

test('a feed whose posts all fit is fh:complete and has no archives', async (t) => {
  const site = await makeSite(t, numbered(10), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const file of ['rss.xml', 'atom.xml', 'topics/third/rss.xml']) {
    const feed = readWithPythonFeedparser(join(site.dir, 'public', file));
    assert.equal(feed.history, 'complete', file);
    assert.equal(linkOf(feed, 'prev-archive'), undefined, file);
  }
  assert.equal(JSON.parse(await site.read('public/feed.json')).next_url, undefined);
  assert.ok(!existsSync(join(site.dir, 'public/archive')));
});

test('archive pages stay byte-identical as posts arrive; a new page links in once the one before is full', async (t) => {
  const site = await makeSite(t, numbered(25), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  const files = ['rss.xml', 'atom.xml', 'feed.json'].flatMap((file) => [1, 2].map((k) => `public/archive/${k}/${file}`));
  const before = new Map(await Promise.all(files.map(async (file) => [file, { text: await site.read(file), mtime: statSync(join(site.dir, file)).mtimeMs }] as const)));

  // Posts 26 to 30 fill the subscription document's overflow without opening archive 3.
  for (let n = 26; n <= 30; n++) {
    for (const [name, text] of Object.entries(numbered(1, n))) await site.write(`posts/${name}`, text);
    const result = await site.run('build', '--now', NOW);
    assert.equal(result.code, 0);
    assert.doesNotMatch(result.out, /archive\//, `post ${n} rewrote no archive`);
    for (const file of files) {
      assert.equal(await site.read(file), before.get(file)!.text, `${file} after post ${n}`);
      assert.equal(statSync(join(site.dir, file)).mtimeMs, before.get(file)!.mtime, `${file} after post ${n}`);
    }
  }

  // Post 31 sends post 21 out of the subscription document: archive 3 (posts 21-30) opens, and
  // archive 2 gains its next-archive link, its entries as they were.
  for (const [name, text] of Object.entries(numbered(1, 31))) await site.write(`posts/${name}`, text);
  const result = await site.run('build', '--now', NOW);
  assert.match(result.out, /archive\/3\/rss\.xml/);
  for (const file of files.filter((file) => file.includes('/1/'))) assert.equal(await site.read(file), before.get(file)!.text, file);
  const second = readWithPythonFeedparser(join(site.dir, 'public/archive/2/atom.xml'));
  assert.equal(linkOf(second, 'next-archive'), `${SITE}archive/3/atom.xml`);
  const [subscription, ...archives] = walk(site, `${SITE}atom.xml`);
  assert.deepEqual(archives[0], titles(30).slice(0, 10));
  assert.deepEqual(subscription, titles(31).slice(0, 10));
  const oldText = before.get('public/archive/2/atom.xml')!.text;
  const newText = await site.read('public/archive/2/atom.xml');
  assert.equal(newText.slice(newText.indexOf('<entry>')), oldText.slice(oldText.indexOf('<entry>')));
});

test('archives of pages that no longer exist are removed; archives have no compressed copies, subscription feeds do', async (t) => {
  const site = await makeSite(t, numbered(25), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.ok(existsSync(join(site.dir, 'public/rss.xml.gz')) && existsSync(join(site.dir, 'public/rss.xml.br')));
  assert.ok(!existsSync(join(site.dir, 'public/archive/2/rss.xml.gz')) && !existsSync(join(site.dir, 'public/archive/2/rss.xml.br')));
  const { rm } = await import('node:fs/promises');
  for (let n = 11; n <= 25; n++) await rm(join(site.dir, `posts/p${n}.md`));
  await site.write('posts/p11.md', numbered(1, 11)['p11.md']!);
  // 11 posts: archive 1 holds posts 1-10; archive 2 is gone.
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.ok(existsSync(join(site.dir, 'public/archive/1/feed.json')));
  assert.ok(!existsSync(join(site.dir, 'public/archive/2')));
  assertEveryPostOnce(walk(site, `${SITE}rss.xml`), titles(11), 10);
  // 10 posts: the feed is complete; no archive folder is left.
  await rm(join(site.dir, 'posts/p11.md'));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.ok(!existsSync(join(site.dir, 'public/archive')));
  assert.equal(readWithPythonFeedparser(join(site.dir, 'public/rss.xml')).history, 'complete');
});

test('removing old posts renumbers the archives, and the subscription feeds link to the newest that is left', async (t) => {
  const site = await makeSite(t, numbered(45), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  const { rm } = await import('node:fs/promises');
  for (let n = 1; n <= 20; n++) await rm(join(site.dir, `posts/p${n}.md`));
  // The subscription documents show the same newest posts; only their prev-archive moves.
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  const left = Array.from({ length: 25 }, (_, i) => `Post ${45 - i}`);
  for (const file of ['rss.xml', 'atom.xml']) assertEveryPostOnce(walk(site, `${SITE}${file}`), left, 10);
  const json = JSON.parse(await site.read('public/feed.json')) as { next_url?: string };
  assert.ok(existsSync(fileOf(site, json.next_url!)), `feed.json's next_url ${json.next_url} is there`);
});

test('archiveCount: a page opens once one of its posts has left the subscription document', () => {
  assert.deepEqual(
    [0, 1, 10, 11, 19, 20, 21, 45].map((total) => archiveCount(total, 10)),
    [0, 0, 0, 1, 1, 1, 2, 4],
  );
});

test('archives keep the feed file names of feed.paths, folders and all', async (t) => {
  const site = await makeSite(t, numbered(5), config(2).replace('pages:', '  paths: { rss: feeds/main.rss, atom: feeds/main.atom, json: index.json }\npages:'));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  const documents = walk(site, `${SITE}feeds/main.rss`);
  assert.deepEqual(documents.map((titles) => titles.length), [2, 2, 2]);
  assert.ok(existsSync(join(site.dir, 'public/archive/2/feeds/main.atom')));
  assert.equal(JSON.parse(await site.read('public/index.json')).next_url, `${SITE}archive/2/index.json`);
  const { rm } = await import('node:fs/promises');
  for (const n of [3, 4, 5]) await rm(join(site.dir, `posts/p${n}.md`));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.ok(!existsSync(join(site.dir, 'public/archive')), 'the emptied folders go too');
});

test('an archive file deleted or replaced by hand is made again by the next build, with nothing else changed', async (t) => {
  const site = await makeSite(t, numbered(25), config(10));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  const atom = await site.read('public/archive/1/atom.xml');
  const { rm, writeFile } = await import('node:fs/promises');
  await rm(join(site.dir, 'public/archive/1/atom.xml'));
  const result = await site.run('build', '--now', NOW);
  assert.equal(result.code, 0);
  assert.equal(await site.read('public/archive/1/atom.xml'), atom);
  assert.match(result.out, /archive\/1\/atom\.xml/);

  // Replaced the way editors and rsync do (a new file renamed over it).
  await writeFile(join(site.dir, 'public/archive/1/rss.tmp'), 'not a feed');
  const { rename } = await import('node:fs/promises');
  await rename(join(site.dir, 'public/archive/1/rss.tmp'), join(site.dir, 'public/archive/1/rss.xml'));
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  assert.equal(readWithPythonFeedparser(join(site.dir, 'public/archive/1/rss.xml')).entries.length, 10);
});
