import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DomUtils, parseDocument } from 'htmlparser2';
import type { Element } from 'domhandler';
import { makeSite, post, SITE_CONFIG, type Site } from './helpers.js';

const SITE = 'https://example.com/';

/** `count` posts a day apart from 2026-01-01, p1 the oldest; `topicsOf` gives each its topics. */
function posts(count: number, topicsOf: (n: number) => string[] = () => []): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => {
      const n = i + 1;
      const date = new Date(Date.UTC(2026, 0, n)).toISOString().slice(0, 10);
      return [`p${n}.md`, post({ title: `Post ${n}`, date, topics: topicsOf(n) })];
    }),
  );
}

function elements(html: string, test: (element: Element) => boolean): Element[] {
  return DomUtils.findAll(test, parseDocument(html).children);
}

/** The href of each element matching, in document order. */
function hrefs(html: string, test: (element: Element) => boolean): string[] {
  return elements(html, test).map((element) => element.attribs.href!);
}

const headLink = (rel: string) => (element: Element) => element.name === 'link' && element.attribs.rel === rel;
const alternates = (html: string) => hrefs(html, headLink('alternate'));
/** The posts a listing page shows: the first link of each item. */
const listed = (html: string) => elements(html, (element) => element.name === 'li').map((item) => DomUtils.findOne((element) => element.name === 'a', item.children)!.attribs.href!);

/** The file herald wrote for a page URL of the site. */
function fileOf(url: string): string {
  assert.ok(url.startsWith(SITE), `${url} is a page of the site`);
  return join('public', url.slice(SITE.length), 'index.html');
}

/**
 * Walks a listing from its first page by the <link rel="next"> in each head, checking that the
 * visible "older" link agrees and each page links back with rel="prev". Returns every post URL
 * shown, in order, and the pages walked.
 */
async function walk(site: Site, first: string): Promise<{ posts: string[]; pages: string[] }> {
  const shown: string[] = [];
  const pages: string[] = [];
  let url: string | undefined = first;
  let previous: string | undefined;
  while (url) {
    const html = await site.read(fileOf(url));
    pages.push(url);
    shown.push(...listed(html));
    assert.deepEqual(hrefs(html, headLink('prev')), previous ? [previous] : [], `rel=prev of ${url}`);
    const next = hrefs(html, headLink('next'));
    assert.ok(next.length <= 1);
    assert.deepEqual(hrefs(html, (element) => element.name === 'a' && element.attribs.rel === 'next'), next, `the visible older-posts link of ${url}`);
    previous = url;
    url = next[0];
  }
  return { posts: shown, pages };
}

test('the index is paginated: walking rel=next from index.html shows every post once, newest first', async (t) => {
  const site = await makeSite(t, posts(45), `${SITE_CONFIG}  perPage: 10\n`);
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const { posts: shown, pages } = await walk(site, SITE);
  // The first page takes the 5 posts that do not fill a page of their own.
  assert.deepEqual(pages, [SITE, `${SITE}page/2/`, `${SITE}page/3/`, `${SITE}page/4/`]);
  assert.deepEqual(shown, Array.from({ length: 45 }, (_, i) => `${SITE}p${45 - i}/`));
  assert.equal(listed(await site.read('public/index.html')).length, 15);
  const last = await site.read('public/page/4/index.html');
  assert.match(last, /<title>Test site · Page 4<\/title>/);
  assert.match(last, /Page 4 of 4/);
  assert.deepEqual(hrefs(last, headLink('canonical')), [`${SITE}page/4/`]);
  assert.equal(existsSync(join(site.dir, 'public/page/1')), false, 'page 1 is index.html');
});

test('a new post changes the first page of its listings only, until the first page has a whole page to give up', async (t) => {
  const site = await makeSite(t, posts(25, () => ['Work']), `${SITE_CONFIG}  perPage: 10\n`);
  await site.run('build', '--now', '2026-06-01');
  const files = ['index.html', 'page/2/index.html', 'topics/work/index.html', 'topics/work/page/2/index.html'];
  const read = () => Promise.all(files.map((file) => site.read(`public/${file}`)));
  const before = await read();
  for (let n = 26; n <= 29; n++) {
    await site.write(`posts/p${n}.md`, post({ title: `Post ${n}`, date: new Date(Date.UTC(2026, 0, n)).toISOString().slice(0, 10), topics: ['Work'] }));
    await site.run('build', '--now', '2026-06-01');
    const now = await read();
    assert.notEqual(now[0], before[0]);
    assert.equal(now[1], before[1], `page 2 as it was with ${n} posts`);
    assert.notEqual(now[2], before[2]);
    assert.equal(now[3], before[3], `the topic's page 2 as it was with ${n} posts`);
    assert.equal(listed(now[0]!).length, n - 10);
  }
  // The 30th: the first page gives up a page, and every page moves on.
  await site.write('posts/p30.md', post({ title: 'Post 30', date: '2026-01-30', topics: ['Work'] }));
  await site.run('build', '--now', '2026-06-01');
  const { posts: shown, pages } = await walk(site, SITE);
  assert.deepEqual(pages, [SITE, `${SITE}page/2/`, `${SITE}page/3/`]);
  assert.deepEqual(shown, Array.from({ length: 30 }, (_, i) => `${SITE}p${30 - i}/`));
  assert.equal(listed(await site.read('public/index.html')).length, 10);
});

test('a listing that shrinks loses its last pages, and their compressed copies', async (t) => {
  const site = await makeSite(t, posts(35), `${SITE_CONFIG}  perPage: 10\n`);
  await site.run('build', '--now', '2026-06-01');
  assert.ok(existsSync(join(site.dir, 'public/page/3/index.html.gz')));
  for (const n of [31, 32, 33, 34, 35, 30]) await site.write(`posts/p${n}.md`, post({ title: `Post ${n}`, draft: true }));
  await site.run('build', '--now', '2026-06-01');
  assert.deepEqual((await walk(site, SITE)).pages, [SITE, `${SITE}page/2/`]);
  for (const file of ['index.html', 'index.html.gz', 'index.html.br']) assert.equal(existsSync(join(site.dir, 'public/page/3', file)), false, file);
});

test('with one page, the index has no rel=prev or rel=next and no page links', async (t) => {
  const site = await makeSite(t, posts(3));
  await site.run('build', '--now', '2026-06-01');
  const index = await site.read('public/index.html');
  assert.deepEqual([...hrefs(index, headLink('prev')), ...hrefs(index, headLink('next'))], []);
  assert.doesNotMatch(index, /Page 1 of/);
  assert.equal(existsSync(join(site.dir, 'public/page')), false);
});

test('topic pages: paginated, with the topic feeds for autodiscovery, visible feed links and a way back', async (t) => {
  // Every post is about Work; every third one also about C++.
  const site = await makeSite(t, posts(25, (n) => (n % 3 === 0 ? ['Work', 'C++'] : ['Work'])), `${SITE_CONFIG}  perPage: 10\n`);
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const work = await walk(site, `${SITE}topics/work/`);
  assert.equal(work.pages.length, 2);
  assert.deepEqual(work.posts, Array.from({ length: 25 }, (_, i) => `${SITE}p${25 - i}/`));
  const cpp = await walk(site, `${SITE}topics/c-plus-plus/`);
  assert.deepEqual(cpp.posts, [24, 21, 18, 15, 12, 9, 6, 3].map((n) => `${SITE}p${n}/`));

  const page = await site.read('public/topics/c-plus-plus/index.html');
  const topicFeeds = ['rss.xml', 'atom.xml', 'feed.json'].map((name) => `${SITE}topics/c-plus-plus/${name}`);
  // The topic's own feeds come first: a reader app offered the page subscribes to the topic.
  assert.deepEqual(alternates(page), [...topicFeeds, `${SITE}rss.xml`, `${SITE}atom.xml`, `${SITE}feed.json`]);
  for (const url of topicFeeds) assert.ok(existsSync(join(site.dir, 'public', url.slice(SITE.length))), `${url} exists`);
  const visible = hrefs(page, (element) => element.name === 'a');
  for (const url of [...topicFeeds, SITE, `${SITE}topics/`]) assert.ok(visible.includes(url), `the page links ${url}`);
  assert.match(page, /<h1>C\+\+<\/h1>/);
  assert.match(page, /8 posts/);
  assert.deepEqual(elements(page, (element) => element.name === 'link' && element.attribs.rel === 'alternate' && element.attribs.href === topicFeeds[0]).map((element) => element.attribs.title), ['Test site: C++']);
});

test('the topics index lists every topic with its post count, page and feeds', async (t) => {
  const site = await makeSite(t, posts(4, (n) => (n === 4 ? ['Work', 'C#'] : ['Work'])));
  await site.run('build', '--now', '2026-06-01');
  const html = await site.read('public/topics/index.html');
  const items = elements(html, (element) => element.name === 'li');
  assert.deepEqual(
    items.map((item) => DomUtils.textContent(item).replace(/\s+/g, ' ').trim()),
    ['C# 1 postFeeds: RSS, Atom, JSON', 'Work 4 postsFeeds: RSS, Atom, JSON'],
  );
  assert.deepEqual(hrefs(html, (element) => element.name === 'a').slice(1, 5), [`${SITE}topics/c-sharp/`, `${SITE}topics/c-sharp/rss.xml`, `${SITE}topics/c-sharp/atom.xml`, `${SITE}topics/c-sharp/feed.json`]);
  // The index links it.
  assert.ok(hrefs(await site.read('public/index.html'), (element) => element.name === 'a').includes(`${SITE}topics/`));
});

test('a topic whose posts were all unpublished loses its pages; a site without topics has no topics index', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', topics: 'books' }), 'b.md': post({ title: 'B' }) });
  await site.run('build', '--now', '2026-06-01');
  assert.ok(existsSync(join(site.dir, 'public/topics/books/index.html')));
  await site.write('posts/a.md', post({ title: 'A', topics: 'books', draft: true }));
  await site.run('build', '--now', '2026-06-01');
  for (const file of ['books/index.html', 'books/index.html.gz', 'index.html']) assert.equal(existsSync(join(site.dir, 'public/topics', file)), false, file);
  assert.ok(existsSync(join(site.dir, 'public/topics/books/rss.xml')), 'its feed stays, empty');
  assert.doesNotMatch(await site.read('public/index.html'), /topics\//);
});

test('a post page links its topics and offers their feeds besides the site feed', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', topics: ['Work', 'C++'] }) });
  await site.run('build', '--now', '2026-06-01');
  const page = await site.read('public/a/index.html');
  assert.deepEqual(alternates(page), [
    `${SITE}rss.xml`,
    `${SITE}atom.xml`,
    `${SITE}feed.json`,
    ...['work', 'c-plus-plus'].flatMap((slug) => ['rss.xml', 'atom.xml', 'feed.json'].map((name) => `${SITE}topics/${slug}/${name}`)),
  ]);
  const topicLinks = elements(page, (element) => element.name === 'a' && element.attribs.href!.startsWith(`${SITE}topics/`));
  assert.deepEqual(
    topicLinks.map((element) => [DomUtils.textContent(element), element.attribs.href]),
    [
      ['Work', `${SITE}topics/work/`],
      ['C++', `${SITE}topics/c-plus-plus/`],
    ],
  );
  for (const element of topicLinks) assert.ok(existsSync(join(site.dir, fileOf(element.attribs.href!))));
  // The index lists it with the same links.
  assert.deepEqual(hrefs(await site.read('public/index.html'), (element) => element.name === 'a' && element.attribs.href!.startsWith(`${SITE}topics/`) && element.attribs.href !== `${SITE}topics/`), [`${SITE}topics/work/`, `${SITE}topics/c-plus-plus/`]);
});

test('site.icon is the icon of every page herald writes; without it there is none', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A', topics: 'work' }) }, `${SITE_CONFIG}  icon: /favicon.png\n`);
  await site.run('build', '--now', '2026-06-01');
  for (const file of ['index.html', 'a/index.html', 'topics/work/index.html', 'topics/index.html']) {
    assert.deepEqual(hrefs(await site.read(`public/${file}`), headLink('icon')), [`${SITE}favicon.png`], file);
  }
  const plain = await makeSite(t, { 'a.md': post({ title: 'A' }) });
  await plain.run('build', '--now', '2026-06-01');
  assert.deepEqual(hrefs(await plain.read('public/index.html'), headLink('icon')), []);
});

test("a writer's own index.html gets the page's posts and the paginator", async (t) => {
  const site = await makeSite(t, posts(5), `${SITE_CONFIG}  perPage: 2\n`);
  await site.write(
    'templates/index.html',
    '{% for post in posts %}{{ post.title }};{% endfor %} {{ paginator.page }}/{{ paginator.total_pages }} of {{ paginator.total_posts }} [{{ paginator.previous_page }} {{ paginator.previous_page_path }} {{ paginator.next_page }} {{ paginator.next_page_path }}] {{ paginator.posts.size }}\n',
  );
  await site.run('build', '--now', '2026-06-01');
  assert.equal(await site.read('public/index.html'), 'Post 5;Post 4;Post 3; 1/2 of 5 [  2 /page/2/] 3\n');
  assert.equal(await site.read('public/page/2/index.html'), 'Post 2;Post 1; 2/2 of 5 [1 /  ] 2\n');
});

test("a writer's own index.html from before pages (no paginator in it) still lists every post on one page", async (t) => {
  const site = await makeSite(t, posts(5), `${SITE_CONFIG}  perPage: 2\n`);
  await site.write('templates/index.html', '{% for post in posts %}{{ post.title }};{% endfor %}\n');
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  assert.equal(await site.read('public/index.html'), 'Post 5;Post 4;Post 3;Post 2;Post 1;\n');
  assert.ok(!existsSync(join(site.dir, 'public/page/2/index.html')), 'no page that nothing links to');
});

test('a build makes again only the listing pages whose posts changed', async (t) => {
  const site = await makeSite(t, posts(6), `${SITE_CONFIG}  perPage: 2\n`);
  // The time of rendering shows which pages were made again.
  await site.write('templates/index.html', '{% for post in posts %}{{ post.title }};{% endfor %} {{ paginator.page }} {{ "now" | date: "%s%L" }}\n');
  await site.run('build', '--now', '2026-06-01');
  const pages = ['index.html', 'page/2/index.html', 'page/3/index.html'];
  const read = () => Promise.all(pages.map((file) => site.read(`public/${file}`)));
  const before = await read();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await site.write('posts/p1.md', post({ title: 'Post 1, edited', date: '2026-01-01' }));
  await site.run('build', '--now', '2026-06-01');
  const edited = await read();
  assert.deepEqual(edited.slice(0, 2), before.slice(0, 2), 'pages without the edited post are not made again');
  assert.match(edited[2]!, /^Post 2;Post 1, edited; 3 \d+\n$/);
  assert.notEqual(edited[2], before[2]);
  const stamp = statSync(join(site.dir, 'public/p2/index.html')).mtimeMs;
  await new Promise((resolve) => setTimeout(resolve, 5));
  await site.write('posts/p7.md', post({ title: 'Post 7', date: '2026-01-07' }));
  await site.run('build', '--now', '2026-06-01');
  assert.equal(statSync(join(site.dir, 'public/p2/index.html')).mtimeMs, stamp, "an older post's page is not written again");
  const added = await read();
  assert.match(added[0]!, /^Post 7;Post 6;Post 5; 1 /);
  assert.deepEqual(added.slice(1), edited.slice(1), 'the older listing pages are not made again for a new post');

  // A template of the writer's that shows the post count on every page has every page made again for a new count.
  await site.write('templates/index.html', '{% for post in posts %}{{ post.title }};{% endfor %} {{ paginator.page }} of {{ paginator.total_posts }} {{ "now" | date: "%s%L" }}\n');
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/page/3/index.html'), /^Post 2;Post 1, edited; 3 of 7 /);
  // Post 7 unpublished: page 3 shows the same posts, and the new count.
  await site.write('posts/p7.md', post({ title: 'Post 7', date: '2026-01-07', draft: true }));
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/page/3/index.html'), /^Post 2;Post 1, edited; 3 of 6 /);
});
