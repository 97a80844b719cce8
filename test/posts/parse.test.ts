import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { entryId } from '../../src/feeds/model.js';
import { parsePost } from '../../src/posts/parse.js';
import { renderBody } from '../../src/posts/render.js';
import { post } from '../helpers.js';

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
  assert.deepEqual(ok(post({ topics: ['C++', 'c'] })).meta.topics.map((t) => t.slug), ['c']);
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
  const html = ok(`---\ntitle: T\ndate: 2026-01-26\n---\n<h2>Start</h2>\n<p>First &amp; <a href="x">best</a>.<img src="i.png" alt="pic"></p>\n<!--more-->\n<p>After.</p>\n`, 'posts/2026-01-26-page.html');
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
});
