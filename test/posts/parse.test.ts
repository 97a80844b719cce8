import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config.js';
import { entryId } from '../../src/feeds/model.js';
import { readPostCache } from '../../src/cache.js';
import { loadPosts } from '../../src/posts/load.js';
import { parsePost } from '../../src/posts/parse.js';
import { scanPostFiles } from '../../src/posts/scan.js';
import { renderBody } from '../../src/posts/render.js';
import { readWithFeedParser } from '../feeds/readers.js';
import { makeSite, post, SITE_CONFIG } from '../helpers.js';

const config = parseConfig({ site: { url: 'https://example.com/blog/', timezone: 'Europe/Berlin' } }, undefined, '/tmp');

function ok(text: string, file = 'posts/2026-01-26-hello-world.md') {
  const result = parsePost(text, file, config);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  return result;
}

function problems(text: string, file = 'posts/bad.md') {
  const result = parsePost(text, file, config);
  assert.ok(!result.ok, 'expected the post to be rejected');
  return result.problems;
}

test('a post has a title, date in the site zone, topics, slug from the file name and a permalink', () => {
  const { meta, body } = ok(post({ title: 'Hello, world', date: '2026-1-26', topics: 'work', body: 'Hi.\n' }));
  assert.equal(meta.title, 'Hello, world');
  assert.equal(new Date(meta.date).toISOString(), '2026-01-25T23:00:00.000Z');
  assert.deepEqual(meta.topics, [{ name: 'work', slug: 'work' }]);
  assert.equal(meta.slug, 'hello-world');
  assert.equal(meta.url, 'https://example.com/blog/hello-world/');
  assert.equal(meta.draft, false);
  assert.equal(body().trim(), 'Hi.');
});

test('topics may be a list or a comma-separated string; topic feeds get path-safe names', () => {
  assert.deepEqual(ok(post({ topics: ['Machine Learning', 'life'] })).meta.topics.map((t) => t.slug), ['machine-learning', 'life']);
  assert.deepEqual(ok(post({ topics: 'work, life' })).meta.topics.map((t) => t.name), ['work', 'life']);
  assert.deepEqual(ok(post({ topics: '日本語' })).meta.topics, [{ name: '日本語', slug: '日本語' }]);
  assert.deepEqual(ok(post({ topics: ['C++', 'c', 'C#', 'F#', 'R&D', 'Web Dev', 'web-dev'] })).meta.topics.map((t) => t.slug), ['c-plus-plus', 'c', 'c-sharp', 'f-sharp', 'r-and-d', 'web-dev']);
});

test('slug: front matter wins, else the file name without a leading date and .md', () => {
  assert.equal(ok(post({ slug: 'custom' })).meta.slug, 'custom');
  assert.equal(ok(post(), 'posts/2026-1-5-short.markdown').meta.slug, 'short');
  assert.equal(ok(post(), 'posts/notes/plain.md').meta.slug, 'plain');
});

test('the permalink pattern can use the date in the site zone', () => {
  const dated = parseConfig({ site: { url: 'https://example.com/', timezone: 'Asia/Tokyo' }, permalink: '/{year}/{month}/{day}/{slug}.html' }, undefined, '/tmp');
  const result = parsePost(post({ date: '2026-03-01 02:00' }), 'posts/x.md', dated);
  assert.ok(result.ok);
  assert.equal(result.meta.url, 'https://example.com/2026/03/01/x.html');
});

test('draft, summary, updated and a stable id are read', () => {
  const { meta } = ok(post({ draft: true, summary: 'In short.', updated: '2026-02-01 10:00' }));
  assert.equal(meta.draft, true);
  assert.equal(meta.summary, 'In short.');
  assert.equal(new Date(meta.updated).toISOString(), '2026-02-01T09:00:00.000Z');
  const again = ok(post({ title: 'Edited title', date: '2026-01-27', body: 'Edited body' })).meta;
  assert.equal(entryId(again), entryId(meta), 'editing a post keeps its id');
  assert.equal(entryId(meta), 'https://example.com/blog/hello-world/', 'the URL, as Jekyll, Hugo and Eleventy use');
  assert.equal(ok(`---\ntitle: T\ndate: 2026-01-01\nid: tag:example.com,2020:old\n---\n`).meta.id, 'tag:example.com,2020:old');
});

test('a BOM and CRLF line endings are read like plain LF files', () => {
  const text = `\uFEFF${post({ title: 'Windows post', topics: ['a'] }).replace(/\n/g, '\r\n')}`;
  const { meta, body } = ok(text);
  assert.equal(meta.title, 'Windows post');
  assert.ok(!body().includes('\r'));
});

test('characters XML forbids are dropped, everything else is kept', () => {
  const { meta, body } = ok(post({ title: 'Bell\u0007 & <tags> 🎉 中文', body: 'Null\u0000 byte and form\u000Cfeed, emoji 🙂\n' }));
  assert.equal(meta.title, 'Bell & <tags> 🎉 中文');
  assert.equal(body().trim(), 'Null byte and formfeed, emoji 🙂');
});

test('no title: reported with the fix', () => {
  const [problem] = problems('---\ndate: 2026-01-26\n---\nBody\n');
  assert.equal(problem!.code, 'E_POST_FIELD');
  assert.equal(problem!.line, 1);
  assert.match(problem!.message, /no title/);
  assert.match(problem!.hint!, /add a line "title: Your title"/);
});

test('a file with no front matter at all is told how to start one', () => {
  const found = problems('Just some text\n');
  assert.ok(found.some((p) => /no title/.test(p.message)));
  assert.ok(found.some((p) => /no date/.test(p.message)));
});

test('a date that cannot be read is reported at its line with the accepted forms', () => {
  const [problem] = problems('---\ntitle: T\ntopics: x\ndate: 26/01/2026\n---\n');
  assert.equal(problem!.line, 4);
  assert.equal(problem!.field, 'date');
  assert.match(problem!.message, /"26\/01\/2026" is not a date herald can read/);
  assert.match(problem!.hint!, /YYYY-MM-DD/);
});

test('a YAML error is reported at the file line where it is', () => {
  const [problem] = problems('---\ntitle: Fine\ndate: 2026-01-26\ntopics: [a, b\nsummary: x\n---\nBody\n');
  assert.equal(problem!.code, 'E_POST_YAML');
  assert.ok(problem!.line! >= 4 && problem!.line! <= 6, `line ${problem!.line}`);
  assert.match(problem!.message, /not valid YAML/);
});

test('an unquoted colon in a title is a YAML error with a hint to quote it', () => {
  const [problem] = problems('---\ntitle: Notes: part two: the end\ndate: 2026-01-26\n---\n');
  assert.equal(problem!.line, 2);
  assert.match(problem!.hint!, /quote a value/);
});

test('draft accepts the YAML 1.1 words writers use: yes/no, on/off', () => {
  assert.equal(ok(post().replace('date:', 'draft: yes\ndate:')).meta.draft, true);
  assert.equal(ok(post().replace('date:', 'draft: "off"\ndate:')).meta.draft, false);
  assert.equal(ok(post().replace('date:', 'draft: False\ndate:')).meta.draft, false);
});

test('unclosed front matter, a non-boolean draft and bad topics are reported', () => {
  assert.match(problems('---\ntitle: T\ndate: 2026-01-26\nBody\n')[0]!.message, /never closed/);
  assert.match(problems(post({ body: 'x' }).replace('date:', 'draft: maybe\ndate:'))[0]!.message, /draft must be true or false/);
  assert.match(problems(post().replace('date:', 'topics: {a: 1}\ndate:'))[0]!.message, /topics must be a name or a list/);
});

test('a slug that cannot be a URL path segment is refused', () => {
  const [problem] = problems(post({ slug: 'a/b' }));
  assert.equal(problem!.code, 'E_POST_SLUG');
  assert.equal(problem!.line, 4);
});

test('published: false (Jekyll) keeps a post back like draft: true', () => {
  assert.equal(ok(post().replace('date:', 'published: false\ndate:')).meta.draft, true);
  assert.equal(ok(post().replace('date:', 'published: true\ndate:')).meta.draft, false);
  assert.equal(ok(post().replace('date:', 'published: no\ndate:')).meta.draft, true);
  assert.match(problems(post().replace('date:', 'published: later\ndate:'))[0]!.message, /published must be true or false/);
});

test('<!--more--> ends the summary: the text before it, whole, in a markdown or an HTML post', () => {
  const before = '# Start\n\nFirst *part*[^n], with a [link](x).\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n';
  const source = `---\ntitle: T\ndate: 2026-01-26\n---\n${before}<!-- more -->\n\nAfter the fold.\n\n[^n]: A note.\n`;
  const parsed = ok(source);
  const markdown = renderBody(parsed.body(), parsed.meta, config);
  assert.equal(markdown.summary, 'Start First part, with a link. one two a b 1 2');
  const inline = ok('---\ntitle: T\ndate: 2026-01-26\n---\nIntro, then <!--more--> the rest.\n');
  assert.equal(renderBody(inline.body(), inline.meta, config).summary, 'Intro, then');
  const html = ok(`---\ntitle: T\ndate: 2026-01-26\n---\n<h2>Start</h2>\n<p>First &amp; <a href="x">best</a>.<img src="i.png" alt="pic"></p>\n<!--more-->\n<p>After.</p>\n`, 'posts/2026-01-26-in-html.html');
  assert.equal(renderBody(html.body(), html.meta, config).summary, 'Start\n\nFirst & best.'.replace(/\s+/g, ' '));
});

test('{categories} in a permalink is the categories alone (categories: and Jekyll\'s single category:), never the tags', () => {
  const jekyll = parseConfig({ site: { url: 'https://example.com/' }, permalink: '/:categories/:year/:title/' }, undefined, '/tmp');
  const url = (front: string) => {
    const result = parsePost(`---\ntitle: T\ndate: 2026-01-26\n${front}---\nBody\n`, 'posts/2026-01-26-trip.md', jekyll);
    assert.ok(result.ok);
    return result.meta.url;
  };
  assert.equal(url('categories: jekyll update\ntags: [a, b]\n'), 'https://example.com/jekyll/update/2026/trip/');
  assert.equal(url('category: Travel Notes\n'), 'https://example.com/travel-notes/2026/trip/');
  assert.equal(url('tags: [a]\n'), 'https://example.com/2026/trip/');
  // Topic slugs spell C++ out; addresses keep the path segment herald has always given it.
  assert.equal(url('category: C++\n'), 'https://example.com/c/2026/trip/');
});

test('an id that is not an absolute URI is refused at its line, with ids the writer could use instead', () => {
  const [problem] = problems('---\ntitle: T\ndate: 2026-01-26\nid: post-42\n---\n');
  assert.deepEqual(
    { line: problem!.line, field: problem!.field },
    { line: 4, field: 'id' },
  );
  assert.match(problem!.message, /id "post-42" is not an absolute URI/);
  assert.match(problem!.hint!, /https:\/\/example\.com\/post-42 .*tag:example\.com,2026:post-42/);
  for (const id of ['42', 'example.com/post-42', '/2026/post-42/']) assert.equal(problems(`---\ntitle: T\ndate: 2026-01-26\nid: "${id}"\n---\n`)[0]!.field, 'id', id);
  for (const id of ['https://example.com/p', 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'tag:example.com,2026:post-42']) {
    assert.equal(ok(`---\ntitle: T\ndate: 2026-01-26\nid: "${id}"\n---\n`).meta.entryId, id);
  }
});

/** The problem with a post that `config` reads, where one is expected. */
function addressProblem(site: ReturnType<typeof parseConfig>, front: string, file: string) {
  const result = parsePost(`---\ntitle: T\ndate: 2026-01-26\n${front}---\nBody\n`, file, site);
  assert.ok(!result.ok, `${file} should be refused`);
  assert.equal(result.problems.length, 1, JSON.stringify(result.problems));
  return result.problems[0]!;
}

test('a post whose page would land on a path herald writes or answers is refused, at the field that put it there', () => {
  const plain = parseConfig({ site: { url: 'https://example.com/' } }, undefined, '/tmp');
  const flat = parseConfig({ site: { url: 'https://example.com/' }, permalink: '/{slug}' }, undefined, '/tmp');
  // Default permalink: /rss.xml/ needs rss.xml to be a folder; /{slug}: /rss.xml is the feed's address.
  for (const site of [plain, flat]) {
    const problem = addressProblem(site, '', 'posts/rss.xml.md');
    assert.deepEqual({ code: problem.code, line: problem.line, field: problem.field }, { code: 'E_POST_SLUG', line: 1, field: 'slug' });
    assert.match(problem.message, /the post's URL https:\/\/example\.com\/rss\.xml\/? is where herald writes the RSS feed/);
    assert.match(problem.hint!, /rename the file, or set slug: .*herald keeps https:\/\/example\.com\/rss\.xml for itself/);
  }
  const cases: [ReturnType<typeof parseConfig>, string, RegExp, { line: number; field: string }][] = [
    [plain, 'slug: index.html\n', /the site's front page/, { line: 4, field: 'slug' }],
    [plain, 'url: /\n', /the site's front page/, { line: 4, field: 'url' }],
    [plain, 'url: /topics/rust/\n', /the topic pages and feeds/, { line: 4, field: 'url' }],
    [plain, 'permalink: /page/2/\n', /the front page's further pages/, { line: 4, field: 'permalink' }],
    [plain, 'slug: feed.json\n', /the JSON feed/, { line: 4, field: 'slug' }],
    [plain, 'slug: sitemap.xml\n', /the sitemap/, { line: 4, field: 'slug' }],
    // The parts of a sitemap past 50,000 URLs, however many there may come to be.
    [flat, 'slug: sitemap-12.xml\n', /a part of a large sitemap/, { line: 4, field: 'slug' }],
    // A slug placed by the post's own permalink is still the slug's fault.
    [plain, 'slug: atom.xml\npermalink: /{slug}\n', /the Atom feed/, { line: 4, field: 'slug' }],
    [flat, 'slug: RSS.xml.gz\n', /the RSS feed/, { line: 4, field: 'slug' }],
    [flat, 'slug: topics\n', /the topic pages and feeds/, { line: 4, field: 'slug' }],
    [plain, 'slug: subscribe\n', /where herald start answers \/subscribe/, { line: 4, field: 'slug' }],
    [flat, 'slug: unsubscribe\n', /where herald start answers \/unsubscribe/, { line: 4, field: 'slug' }],
  ];
  for (const [site, front, what, where] of cases) {
    const problem = addressProblem(site, front, 'posts/a.md');
    assert.match(problem.message, what, front);
    assert.deepEqual({ line: problem.line, field: problem.field }, where, front);
  }
  // Web routes are herald's only where web.url puts them inside site.url.
  const elsewhere = parseConfig({ site: { url: 'https://example.com/' }, permalink: '/{slug}', web: { url: 'https://news.example.com/' } }, undefined, '/tmp');
  const fine = parsePost('---\ntitle: T\ndate: 2026-01-26\n---\n', 'posts/subscribe.md', elsewhere);
  assert.ok(fine.ok && fine.meta.url === 'https://example.com/subscribe');
  // Names that only start like herald's are the writer's.
  for (const slug of ['rss', 'rss.xml.html', 'topic', 'pages', 'feed', 'sitemap-guide']) assert.ok(parsePost(`---\ntitle: T\ndate: 2026-01-26\nslug: ${slug}\n---\n`, 'posts/a.md', flat).ok, slug);
});

test('an old address that is not a path on this site (a climb, another host) is a warning naming it, and makes no redirect', () => {
  const site = parseConfig({ site: { url: 'https://example.com/blog/' } }, undefined, '/tmp');
  const result = parsePost('---\ntitle: T\ndate: 2026-01-26\nredirect_from: ["/old/", "../../etc/passwd", "https://other.com/x/"]\n---\nBody\n', 'posts/a.md', site);
  assert.ok(result.ok);
  assert.deepEqual(result.meta.aliases, ['/blog/old/']);
  const [warning] = result.warnings.filter((each) => each.field === 'redirect_from');
  assert.equal(warning?.line, 4);
  assert.match(warning!.message, /"\.\.\/\.\.\/etc\/passwd", "https:\/\/other\.com\/x\/" are not paths herald can use/);
});

test('an old address (aliases, redirect_from) on a path herald writes is refused too', () => {
  // As jekyll-redirect-from reads them: below the site's own path (/blog/).
  const blog = parseConfig({ site: { url: 'https://example.com/blog/' } }, undefined, '/tmp');
  const problem = addressProblem(blog, 'summary: x\naliases: [/old/, /atom.xml]\n', 'posts/a.md');
  assert.deepEqual({ code: problem.code, line: problem.line, field: problem.field }, { code: 'E_POST_SLUG', line: 5, field: 'aliases' });
  assert.match(problem.message, /the old address \/blog\/atom\.xml is where herald writes the Atom feed/);
  assert.match(problem.hint!, /remove it from aliases; herald keeps https:\/\/example\.com\/blog\/atom\.xml for itself/);
  assert.equal(addressProblem(blog, 'redirect_from: /topics/\n', 'posts/a.md').field, 'redirect_from');
  const fine = parsePost('---\ntitle: T\ndate: 2026-01-26\naliases: [/old/, /2019/atom/]\n---\n', 'posts/a.md', blog);
  assert.ok(fine.ok && fine.meta.aliases.length === 2);
});

test("build and check refuse a post on herald's own paths, exit 1, and keep the feeds herald's", async (t) => {
  for (const permalink of ['/{slug}/', '/{slug}']) {
    const site = await makeSite(
      t,
      {
        'rss.xml.md': post({ title: 'Not a feed' }),
        'good.md': post({ title: 'A real post' }),
        'moved.md': `---\ntitle: Moved\ndate: 2026-01-20\naliases: [/old/, /atom.xml]\n---\nBody.\n`,
      },
      `${SITE_CONFIG}permalink: ${permalink}\n`,
    );
    const expected = [
      /^posts\/rss\.xml\.md:1: the post's URL https:\/\/example\.com\/rss\.xml\/? is where herald writes the RSS feed \(rename the file, .*herald keeps https:\/\/example\.com\/rss\.xml for itself\)$/m,
      /^posts\/moved\.md:4: the old address \/atom\.xml is where herald writes the Atom feed \(remove it from aliases; /m,
    ];
    const check = await site.run('check', '--now', '2026-06-01');
    assert.equal(check.code, 1, permalink);
    for (const pattern of expected) assert.match(check.err, pattern);
    const build = await site.run('build', '--now', '2026-06-01');
    assert.equal(build.code, 1, permalink);
    for (const pattern of expected) assert.match(build.err, pattern);
    assert.doesNotMatch(build.err, /\n\s+at /, 'no stack trace');
    assert.deepEqual(readWithFeedParser(await site.read('public/rss.xml')).entries.map((entry) => entry.title), ['A real post']);
    assert.deepEqual(readWithFeedParser(await site.read('public/atom.xml')).entries.map((entry) => entry.title), ['A real post']);
  }
});

test('a post may be at /subscribe when herald start answers on another host', async (t) => {
  const posts = { 'subscribe.md': post({ title: 'How to subscribe' }) };
  const same = await makeSite(t, posts, `${SITE_CONFIG}permalink: /{slug}\n`);
  const refused = await same.run('build', '--now', '2026-06-01');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^posts\/subscribe\.md:1: the post's URL https:\/\/example\.com\/subscribe is where herald start answers \/subscribe/m);
  const other = await makeSite(t, posts, `${SITE_CONFIG}permalink: /{slug}\nweb:\n  url: https://news.example.com/\n`);
  const built = await other.run('build', '--now', '2026-06-01');
  assert.equal(built.code, 0, built.err);
  assert.match(await other.read('public/subscribe.html'), /How to subscribe/);
});

test('a url with a stray % names no file: the post keeps its permalink, with a warning, and an alias like it is dropped', () => {
  const result = ok('---\ntitle: T\ndate: 2026-01-26\nurl: /100%-sure/\naliases: [/old%/, /older/]\n---\n', 'posts/sure.md');
  assert.equal(result.meta.url, 'https://example.com/blog/sure/');
  assert.deepEqual(result.meta.aliases, ['/blog/older/']);
  assert.match(result.warnings[0]!.message, /url "\/100%-sure\/" is not a path herald can use, so the post is at https:\/\/example\.com\/blog\/sure\//);
});

test('posts share one object for each topic, and for an empty list of authors or aliases; read back from the post cache, too', async (t) => {
  const first = ok(post({ title: 'One', topics: 'work, life' }), 'posts/one.md').meta;
  const second = ok(post({ title: 'Two', topics: 'life' }), 'posts/two.md').meta;
  assert.equal(first.topics[1], second.topics[0], 'one object for the topic life');
  assert.equal(first.authors, second.authors);
  assert.equal(first.aliases, second.aliases);
  assert.ok(Object.isFrozen(first.topics[1]) && Object.isFrozen(first.authors), 'shared, so nothing changes them in place');
  // A build that reads the posts from its post cache (a JSON file) shares them as a fresh parse does.
  const site = await makeSite(t, { 'one.md': post({ title: 'One', topics: 'work, life' }), 'two.md': post({ title: 'Two', topics: 'life' }) });
  assert.equal((await site.run('build')).code, 0);
  const siteConfig = loadConfig(join(site.dir, 'herald.config.yml'), site.dir);
  const cache = readPostCache(siteConfig, site.dir);
  assert.equal(cache.size, 2, 'the cache was read');
  const loaded = await loadPosts(siteConfig, site.dir, scanPostFiles(siteConfig.paths.posts, site.dir), cache);
  assert.equal(loaded.parsed, 0, 'every post came from the cache');
  const [one, two] = loaded.posts;
  assert.equal(one!.topics.find((topic) => topic.slug === 'life'), two!.topics[0]);
  assert.equal(one!.topics[1], first.topics[1], 'the same object a parse gives');
});
