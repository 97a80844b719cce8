import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseFeed } from '@rowanmanning/feed-parser';
import { parseOpml } from 'feedsmith';
import { makeSite, post } from '../helpers.js';
import { assertWellFormedXml, readWithPythonFeedparser } from './readers.js';

const NOW = '2026-06-01T12:00:00Z';
const site = (extra = '') => `site:\n  title: Readers & co\n  url: https://example.com/\n  author: { name: Ada }\n${extra}`;
const imagePost = (image: string) => `---\ntitle: With an image\ndate: 2026-01-05\ntopics: [pics]\nimage: ${image}\n---\n\nA post with a picture.\n`;

test('the site icon and logo reach readers in every format', async (t) => {
  const both = await makeSite(t, { 'a.md': post({ topics: ['a'] }) }, site('  icon: /icon.png\n  logo: https://cdn.example.com/logo.png\n'));
  assert.equal((await both.run('build', '--now', NOW)).code, 0);
  const rss = readWithPythonFeedparser(join(both.dir, 'public/rss.xml'));
  assert.equal(rss.image, 'https://cdn.example.com/logo.png', 'RSS has one image: the logo');
  assert.equal(parseFeed(await both.read('public/rss.xml')).image?.url, 'https://cdn.example.com/logo.png');
  const atom = readWithPythonFeedparser(join(both.dir, 'public/atom.xml'));
  assert.equal(atom.icon, 'https://example.com/icon.png');
  assert.equal(atom.logo, 'https://cdn.example.com/logo.png');
  const json = JSON.parse(await both.read('public/feed.json'));
  assert.equal(json.icon, 'https://cdn.example.com/logo.png');
  assert.equal(json.favicon, 'https://example.com/icon.png');
  // Topic feeds carry them too.
  assert.equal(readWithPythonFeedparser(join(both.dir, 'public/topics/a/atom.xml')).icon, 'https://example.com/icon.png');
  assert.equal(JSON.parse(await both.read('public/topics/a/feed.json')).favicon, 'https://example.com/icon.png');

  const iconOnly = await makeSite(t, { 'a.md': post() }, site('  icon: /icon.png\n'));
  assert.equal((await iconOnly.run('build', '--now', NOW)).code, 0);
  assert.equal(readWithPythonFeedparser(join(iconOnly.dir, 'public/rss.xml')).image, 'https://example.com/icon.png', 'without a logo, the icon');
  assert.equal(readWithPythonFeedparser(join(iconOnly.dir, 'public/atom.xml')).logo, '');
  assert.equal(JSON.parse(await iconOnly.read('public/feed.json')).icon, 'https://example.com/icon.png');

  const neither = await makeSite(t, { 'a.md': post() }, site());
  assert.equal((await neither.run('build', '--now', NOW)).code, 0);
  assert.doesNotMatch(await neither.read('public/rss.xml'), /<image>/);
  assert.doesNotMatch(await neither.read('public/atom.xml'), /<icon>|<logo>/);
  const bare = JSON.parse(await neither.read('public/feed.json'));
  assert.equal(bare.icon, undefined);
  assert.equal(bare.favicon, undefined);
});

test("a post's image reaches readers in every format", async (t) => {
  const s = await makeSite(t, { 'pic.md': imagePost('/img/pic.png'), 'plain.md': post({ title: 'Plain', date: '2026-01-04' }) }, site());
  assert.equal((await s.run('build', '--now', NOW)).code, 0);
  const image = 'https://example.com/img/pic.png';
  for (const file of ['rss.xml', 'atom.xml', 'topics/pics/atom.xml']) {
    const python = readWithPythonFeedparser(join(s.dir, 'public', file));
    assert.deepEqual(python.entries.map((entry) => entry.image), file.startsWith('topics') ? [image] : [image, ''], file);
    const js = parseFeed(await s.read(`public/${file}`));
    assert.equal(js.items[0]!.image?.url, image, file);
  }
  const json = JSON.parse(await s.read('public/feed.json'));
  assert.deepEqual(json.items.map((item: { image?: string }) => item.image), [image, undefined]);
});

test('WebSub hubs are named in every subscription feed, and in no archive', async (t) => {
  const posts: Record<string, string> = {};
  for (let day = 1; day <= 3; day++) posts[`d${day}.md`] = post({ title: `Day ${day}`, date: `2026-01-0${day}`, topics: ['t'] });
  const hubs = ['https://hub.example.com/', 'https://other-hub.example.net/publish'];
  const s = await makeSite(t, posts, `${site()}feed:\n  limit: 2\n  hubs: [${hubs.join(', ')}]\n`);
  // No hub listens on these names: the build warns and carries on.
  assert.equal((await s.run('build', '--now', NOW)).code, 0);
  for (const dir of ['', 'topics/t/']) {
    for (const file of ['rss.xml', 'atom.xml']) {
      const feed = readWithPythonFeedparser(join(s.dir, 'public', dir, file));
      assert.deepEqual(feed.links.filter((link) => link.rel === 'hub').map((link) => link.href), hubs, dir + file);
    }
    assert.deepEqual(JSON.parse(await s.read(`public/${dir}feed.json`)).hubs, hubs.map((url) => ({ type: 'WebSub', url })));
  }
  assert.doesNotMatch(await s.read('public/archive/1/atom.xml'), /rel="hub"/);
  assert.equal(JSON.parse(await s.read('public/archive/1/feed.json')).hubs, undefined);
});

test('RSS and Atom name the stylesheet right after the XML declaration, root-relative, archives and topics too', async (t) => {
  const posts: Record<string, string> = {};
  for (let day = 1; day <= 3; day++) posts[`d${day}.md`] = post({ title: `Day ${day}`, date: `2026-01-0${day}`, topics: ['t'] });
  const s = await makeSite(t, posts, `site:\n  title: S\n  url: https://example.com/blog/\nfeed:\n  limit: 2\n`);
  assert.equal((await s.run('build', '--now', NOW)).code, 0);
  // Root-relative: a browser refuses a stylesheet from another origin, and the feed may be opened
  // under another name than site.url's (127.0.0.1, http, www).
  for (const file of ['rss.xml', 'atom.xml', 'archive/1/rss.xml', 'archive/1/atom.xml', 'topics/t/rss.xml', 'topics/t/archive/1/atom.xml']) {
    const text = await s.read(`public/${file}`);
    assert.ok(text.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<?xml-stylesheet type="text/xsl" href="/blog/feed.xsl"?>\n<'), file);
    assertWellFormedXml(join(s.dir, 'public', file));
    assert.equal(readWithPythonFeedparser(join(s.dir, 'public', file)).bozo, false, file);
  }
});

test('Atom content carries xml:base, so what a post leaves relative resolves against the post', async (t) => {
  const s = await makeSite(t, { 'deep.md': post({ title: 'Deep', slug: 'deep', body: 'Text.\n' }) }, site());
  assert.equal((await s.run('build', '--now', NOW)).code, 0);
  const atom = readWithPythonFeedparser(join(s.dir, 'public/atom.xml'));
  assert.equal(atom.entries[0]!.contentBase, 'https://example.com/deep/');
  assert.match(await s.read('public/atom.xml'), /<content type="html" xml:base="https:\/\/example\.com\/deep\/">/);
});

test('feeds.opml lists the site feed and each topic feed with its page', async (t) => {
  const s = await makeSite(t, {
    'a.md': post({ title: 'A', date: '2026-01-01', topics: ['Rust', 'Go'] }),
    'b.md': post({ title: 'B', date: '2026-01-02', topics: ['Rust'] }),
  }, site());
  assert.equal((await s.run('build', '--now', NOW)).code, 0);
  assertWellFormedXml(join(s.dir, 'public/feeds.opml'));
  const opml = parseOpml(await s.read('public/feeds.opml'));
  assert.equal(opml.head?.title, 'Readers & co: feeds');
  const outlines = opml.body?.outlines ?? [];
  // The site's feed first, then the topics' by slug.
  assert.deepEqual(
    outlines.map(({ type, text, xmlUrl }) => ({ type, text, xmlUrl })),
    [
      { type: 'rss', text: 'Readers & co', xmlUrl: 'https://example.com/rss.xml' },
      { type: 'rss', text: 'Readers & co: Go', xmlUrl: 'https://example.com/topics/go/rss.xml' },
      { type: 'rss', text: 'Readers & co: Rust', xmlUrl: 'https://example.com/topics/rust/rss.xml' },
    ],
  );
  const rust = outlines[2];
  assert.equal(outlines[0]!.htmlUrl, 'https://example.com/');
  assert.equal(rust?.htmlUrl, 'https://example.com/topics/rust/', "a topic's page, where pages are made");
  // Each listed feed is there to fetch.
  for (const { xmlUrl } of outlines) assert.equal(readWithPythonFeedparser(join(s.dir, 'public', xmlUrl!.slice('https://example.com/'.length))).bozo, false);
});
