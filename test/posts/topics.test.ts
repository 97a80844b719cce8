import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { parsePost, type PostMeta } from '../../src/posts/parse.js';
import { topicClashes, topicSlug } from '../../src/posts/topics.js';
import { readWithFeedParser } from '../feeds/readers.js';
import { makeSite, post } from '../helpers.js';

test('topic slugs spell out the symbols that tell names apart, and leave every other name as it was', () => {
  const slugs = Object.fromEntries(['C', 'C++', 'C#', 'F#', 'c++', 'R&D', 'AT&T', '@home', '#blog', 'Google+', 'Web Dev', 'web-dev', 'Node.js', '日本語'].map((name) => [name, topicSlug(name)]));
  assert.deepEqual(slugs, {
    C: 'c',
    'C++': 'c-plus-plus',
    'C#': 'c-sharp',
    'F#': 'f-sharp',
    'c++': 'c-plus-plus',
    'R&D': 'r-and-d',
    'AT&T': 'at-and-t',
    '@home': 'at-home',
    // A hashtag's # is its mark, not a sharp.
    '#blog': 'blog',
    'Google+': 'google-plus',
    'Web Dev': 'web-dev',
    'web-dev': 'web-dev',
    'Node.js': 'nodejs',
    日本語: '日本語',
  });
});

const config = parseConfig({ site: { url: 'https://example.com/' } }, undefined, '/tmp');
function meta(file: string, topics: string[]): PostMeta {
  const result = parsePost(post({ topics }), file, config);
  assert.ok(result.ok);
  return result.meta;
}

test('names that still share a slug are one warning each, naming every spelling with its files and suggesting the commonest', () => {
  const posts = [
    meta('posts/a.md', ['Web Dev', 'C']),
    meta('posts/b.md', ['web-dev', 'C++']),
    meta('posts/c.md', ['web-dev', 'C#']),
    meta('posts/d.md', ['Web-Dev']),
    meta('posts/e.md', ['Travel']),
    meta('posts/f.md', ['Travel']),
  ];
  const [clash, ...rest] = topicClashes(posts);
  assert.deepEqual(rest, []);
  assert.deepEqual(
    { ...clash },
    {
      code: 'E_POST_FIELD',
      file: 'posts/a.md',
      field: 'topics',
      message: 'topics "Web Dev" (posts/a.md), "web-dev" (posts/b.md, posts/c.md) and "Web-Dev" (posts/d.md) are one topic to herald (topics/web-dev/): their posts share one feed and page, under one of the names',
      hint: 'write it one way in every post, for example "web-dev"',
    },
  );
  const many = topicClashes(Array.from({ length: 5 }, (_, i) => meta(`posts/${i}.md`, [i ? 'ml' : 'ML'])));
  assert.match(many[0]!.message, /^topics "ML" \(posts\/0\.md\) and "ml" \(posts\/1\.md, posts\/2\.md, posts\/3\.md and 1 more\)/);
});

test('C, C++ and C# get a feed each; check and build warn about two spellings of one topic', async (t) => {
  const site = await makeSite(t, {
    'c.md': post({ title: 'Pointers', topics: ['C'] }),
    'cpp.md': post({ title: 'Templates', topics: ['C++'] }),
    'cs.md': post({ title: 'LINQ', topics: ['C#', 'Web Dev'] }),
    'web.md': post({ title: 'Forms', topics: ['web-dev'] }),
  });
  const check = await site.run('check', '--now', '2026-06-01');
  assert.equal(check.code, 0, check.err);
  const warning = /^warning: posts\/web\.md: topics "Web Dev" \(posts\/cs\.md\) and "web-dev" \(posts\/web\.md\) are one topic to herald \(topics\/web-dev\/\).*\(write it one way in every post, for example "Web Dev"\)$/m;
  assert.match(check.err, warning);
  const build = await site.run('build', '--now', '2026-06-01');
  assert.equal(build.code, 0, build.err);
  assert.match(build.err, warning);
  const titles = async (slug: string) => readWithFeedParser(await site.read(`public/topics/${slug}/atom.xml`)).entries.map((entry) => entry.title);
  assert.deepEqual(await titles('c'), ['Pointers']);
  assert.deepEqual(await titles('c-plus-plus'), ['Templates']);
  assert.deepEqual(await titles('c-sharp'), ['LINQ']);
  assert.deepEqual((await titles('web-dev')).sort(), ['Forms', 'LINQ']);
});

test('posts.ignoreTopics compares by the same slug: ignoring C++ leaves C and C# alone', () => {
  const ignoring = parseConfig({ site: { url: 'https://example.com/' }, posts: { folder: 'posts', ignoreTopics: ['C++', 'Web Dev'] } }, undefined, '/tmp');
  const result = parsePost(post({ topics: ['C', 'c++', 'C#', 'web-dev'] }), 'posts/a.md', ignoring);
  assert.ok(result.ok);
  assert.deepEqual(result.meta.topics.map((topic) => topic.name), ['C', 'C#']);
});
