import assert from 'node:assert/strict';
import { cp, readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli.js';
import { makeSite, post } from '../helpers.js';
import { assertWellFormedXml, readWithFeedParser, readWithPythonFeedparser } from './readers.js';

const NOW = '2026-06-01T12:00:00Z';
const TRICKY = 'Tom & Jerry: "quotes", \'apostrophes\', <tags> & ]]> — 🎉 東京の週末';

test('each format comes back exactly as written from real feed readers', async (t) => {
  const site = await makeSite(t, {
    'tricky.md': post({ title: TRICKY, date: '2026-02-10 14:00', topics: ['R&D', 'café'], summary: `Summary with ${TRICKY}`, body: `Body: ${TRICKY.replace(/</g, '&lt;')}\n` }),
  });
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const name of ['rss.xml', 'atom.xml']) {
    const path = join(site.dir, 'public', name);
    assertWellFormedXml(path);
    const xml = await site.read(`public/${name}`);
    for (const feed of [readWithFeedParser(xml), readWithPythonFeedparser(path)]) {
      const [entry] = feed.entries;
      assert.equal(entry!.title, TRICKY, name);
      assert.deepEqual(entry!.tags, ['R&D', 'café'], name);
      assert.equal(entry!.summary, `Summary with ${TRICKY}`, name);
      assert.match(entry!.content, /<p>Body: Tom &?(amp;)? Jerry/, name);
    }
    const python = readWithPythonFeedparser(path);
    assert.equal(python.bozo, false, name);
    // The HTML content keeps its escaping, so "<tags>" stays text rather than becoming markup.
    assert.match(python.entries[0]!.content, /Body: Tom &amp; Jerry: &quot;quotes&quot;, (&#39;|')apostrophes(&#39;|'), &lt;tags&gt;/, name);
  }
  const json = JSON.parse(await site.read('public/feed.json'));
  assert.equal(json.version, 'https://jsonfeed.org/version/1.1');
  assert.equal(json.items[0].title, TRICKY);
  assert.deepEqual(json.items[0].tags, ['R&D', 'café']);
  assert.equal(json.items[0].summary, `Summary with ${TRICKY}`);
});

test('feeds hold the newest feed.limit published posts, newest first, with everything a reader shows', async (t) => {
  const posts: Record<string, string> = {};
  for (let day = 1; day <= 25; day++) posts[`2026-01-${day}-day-${day}.md`] = post({ title: `Day ${day}`, date: `2026-01-${day} 09:00`, topics: day % 2 ? 'odd' : ['even', 'all'] });
  posts['draft.md'] = post({ title: 'Draft', date: '2026-01-30', draft: true });
  posts['future.md'] = post({ title: 'Future', date: '2026-12-30' });
  const site = await makeSite(t, posts, `site:\n  title: Feeds\n  url: https://example.com/\n  author: { name: Ada, email: ada@example.com }\n  language: en-GB\nfeed:\n  limit: 5\n`);
  const result = await site.run('build', '--now', NOW);
  assert.equal(result.code, 0, result.err);

  const rss = readWithPythonFeedparser(join(site.dir, 'public/rss.xml'));
  assert.deepEqual(rss.entries.map((e) => e.title), ['Day 25', 'Day 24', 'Day 23', 'Day 22', 'Day 21']);
  assert.equal(rss.language, 'en-GB');
  const atom = readWithFeedParser(await site.read('public/atom.xml'));
  assert.equal(atom.self, 'https://example.com/atom.xml');
  const [first] = atom.entries;
  assert.equal(first!.link, 'https://example.com/day-25/');
  assert.equal(first!.published, '2026-01-25T09:00:00.000Z');
  assert.equal(first!.updated, '2026-01-25T09:00:00.000Z');
  assert.equal(first!.author, 'Ada');
  assert.equal(first!.summary, 'A paragraph of the post.');
  assert.match(first!.content, /<p>A paragraph of the post\.<\/p>/);
  assert.deepEqual(first!.tags, ['odd']);

  const json = JSON.parse(await site.read('public/feed.json'));
  assert.equal(json.feed_url, 'https://example.com/feed.json');
  assert.equal(json.home_page_url, 'https://example.com/');
  assert.equal(json.items.length, 5);
  assert.equal(json.items[0].date_published, '2026-01-25T09:00:00.000Z');
  assert.equal(json.items[0].authors[0].name, 'Ada');

  // Topic feeds: the same three files under topics/<topic>/, only that topic's posts.
  const even = readWithPythonFeedparser(join(site.dir, 'public/topics/even/atom.xml'));
  assert.deepEqual(even.entries.map((e) => e.title), ['Day 24', 'Day 22', 'Day 20', 'Day 18', 'Day 16']);
  for (const topic of ['odd', 'even', 'all']) {
    for (const file of ['rss.xml', 'atom.xml', 'feed.json']) await site.read(`public/topics/${topic}/${file}`);
  }
  assert.doesNotMatch(await site.read('public/rss.xml'), /Draft|Future/);
});

test('entry ids are the same across builds, edits and machines', async (t) => {
  const text = post({ title: 'Stable', date: '2026-01-26', body: 'First version.\n' });
  const ids = async (files: Record<string, string>) => {
    const site = await makeSite(t, files);
    await site.run('build', '--now', NOW);
    return JSON.parse(await site.read('public/feed.json')).items.map((item: { id: string }) => item.id);
  };
  const first = await ids({ '2026-01-26-stable.md': text });
  const otherMachine = await ids({ '2026-01-26-stable.md': text });
  const edited = await ids({ '2026-01-26-stable.md': post({ title: 'Stable, retitled', date: '2026-01-27 10:00', body: 'Edited.\n' }) });
  assert.deepEqual(otherMachine, first);
  assert.deepEqual(edited, first);
  const site = await makeSite(t, { 'a.md': text });
  await site.run('build', '--now', NOW);
  const atom = readWithPythonFeedparser(join(site.dir, 'public/atom.xml'));
  const rss = readWithPythonFeedparser(join(site.dir, 'public/rss.xml'));
  assert.equal(atom.entries[0]!.id, rss.entries[0]!.id);
});

test('links and images in every format are absolute against the post URL', async (t) => {
  const site = await makeSite(t, { 'p.md': post({ body: '![a](img/a.png) [b](../other/)\n' }) }, 'site:\n  url: https://example.com/blog\n');
  await site.run('build', '--now', NOW);
  for (const file of ['rss.xml', 'atom.xml', 'feed.json']) {
    const text = await site.read(`public/${file}`);
    assert.match(text, /https:\/\/example\.com\/blog\/p\/img\/a\.png/, file);
    assert.match(text, /https:\/\/example\.com\/blog\/other\//, file);
    assert.doesNotMatch(text, /"img\/a\.png|"\.\.\/other/, file);
  }
});

test('a control character in a post never reaches a feed', async (t) => {
  const site = await makeSite(t, { 'c.md': `---\ntitle: "Ctrl\\u0001 title"\ndate: 2026-01-26\n---\nBody with a \u0008backspace and \u001b escape.\n` });
  assert.equal((await site.run('build', '--now', NOW)).code, 0);
  for (const file of ['rss.xml', 'atom.xml']) {
    assertWellFormedXml(join(site.dir, 'public', file));
    assert.equal(readWithPythonFeedparser(join(site.dir, 'public', file)).entries[0]!.title, 'Ctrl title');
  }
  assert.doesNotMatch(await site.read('public/feed.json'), /\\u000[18]|\\u001b/);
});

test('every feed document is byte for byte what herald wrote before its speed work', async (t) => {
  // expected/ was written by herald at 0f1a5c3 (the same bytes as at d5fbd81, before the first
  // change made for speed): every document in each format, the OPML, and in files.txt the name
  // of every feed file and compressed copy. The site has hubs, archives, topics, an image,
  // several authors, an HTML post, a bundle, and "]]>" and "<item>" inside a post's text.
  const fixture = join(import.meta.dirname, '../fixtures/feeds-golden');
  const site = await makeSite(t, {}, null);
  await cp(fixture, site.dir, { recursive: true });
  const code = await main(['build', '--now', NOW], { cwd: site.dir, env: { HERALD_RETRY_BACKOFF_MS: '1' }, out: () => {}, err: () => {} });
  assert.equal(code, 0);
  const feedFiles = (names: string[]) => names.map((name) => name.split(sep).join('/').normalize('NFC')).filter((name) => /(rss\.xml|atom\.xml|feed\.json|feeds\.opml)(\.gz|\.br)?$/.test(name)).sort();
  const listed = (await readFile(join(fixture, 'expected', 'files.txt'), 'utf8')).trim().split('\n').map((name) => name.normalize('NFC')).sort();
  assert.deepEqual(feedFiles(await readdir(join(site.dir, 'public'), { recursive: true })), listed);
  const compared = feedFiles(await readdir(join(fixture, 'expected'), { recursive: true }));
  assert.equal(compared.length, 16);
  for (const name of compared) assert.equal(await site.read(join('public', name)), await readFile(join(fixture, 'expected', name), 'utf8'), name);
});
