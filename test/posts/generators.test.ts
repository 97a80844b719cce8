// Blogs brought along unedited: a Jekyll _posts folder, a Hugo content folder with page bundles
// and TOML front matter, an Eleventy posts folder. Each is built and its feeds read back as a
// reader's app reads them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertWellFormedXml, readWithFeedParser, readWithPythonFeedparser } from '../feeds/readers.js';
import { makeSite } from '../helpers.js';

const NOW = '2026-06-01T12:00:00Z';

test('a Jekyll _posts folder: dates from file names, categories and tags, descriptions, images, redirects, its own URLs and feed.xml', async (t) => {
  const site = await makeSite(
    t,
    {},
    `site:
  title: Jekyll Blog
  url: https://jekyll.example.com/
posts: _posts
permalink: /:categories/:year/:month/:day/:title.html
feed:
  paths:
    atom: feed.xml
static: [assets]
`,
  );
  await site.write(
    '_posts/2025-01-30-welcome-to-jekyll.markdown',
    `---
layout: post
title:  "Welcome to Jekyll!"
categories: jekyll update
tags: [intro, setup]
description: You’ll find this post in your _posts directory.
image: /assets/welcome.png
author:
  name: Jo Writer
  email: jo@example.com
redirect_from:
  - /welcome/
---
You’ll find this post in your \`_posts\` directory, and a footnote.[^1]

{% highlight ruby %}
def print_hi(name)
  puts "Hi, #{name}"
end
{% endhighlight %}

{% raw %}Liquid in a code sample: {{ site.title }}{% endraw %}

[^1]: The footnote.
`,
  );
  await site.write('_posts/2025-02-01-unpublished.md', '---\ntitle: Not yet\npublished: false\n---\nHidden.\n');
  await site.write('_posts/2025-02-02-second.md', '---\ntitle: Second\ncategories: [notes]\n---\n{% include figure.html src="x.png" %}\n\nText.\n');
  await site.write('assets/welcome.png', 'PNG');

  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  assert.match(built.err, /warning: _posts\/2025-02-02-second\.md:5: Liquid tag \{% include figure\.html src="x\.png" %\} is not run: readers see it as text/);

  assertWellFormedXml(join(site.dir, 'public/feed.xml'));
  const atom = readWithFeedParser(await site.read('public/feed.xml'));
  assert.deepEqual(
    atom.entries.map((entry) => entry.title),
    ['Second', 'Welcome to Jekyll!'],
    'published: false stays out',
  );
  const welcome = atom.entries[1]!;
  assert.equal(welcome.link, 'https://jekyll.example.com/jekyll/update/2025/01/30/welcome-to-jekyll.html');
  assert.equal(welcome.id, welcome.link, 'the id is the URL, as jekyll-feed makes it');
  assert.equal(welcome.summary, 'You’ll find this post in your _posts directory.');
  assert.deepEqual(welcome.tags.sort(), ['intro', 'jekyll', 'setup', 'update']);
  assert.equal(welcome.author, 'Jo Writer');
  assert.match(welcome.content, /<pre><code class="language-ruby">def print_hi/);
  assert.match(welcome.content, /Liquid in a code sample: \{\{ site\.title \}\}/);
  assert.doesNotMatch(welcome.content, /\{%/);
  assert.match(welcome.content, /class="footnotes"|id="fn-1"|footnote/);
  assert.equal(welcome.published, '2025-01-30T00:00:00.000Z');

  const rss = readWithPythonFeedparser(join(site.dir, 'public/rss.xml'));
  assert.equal(rss.bozo, false, rss.bozo_exception);
  assert.match(await site.read('public/rss.xml'), /<media:thumbnail url="https:\/\/jekyll\.example\.com\/assets\/welcome\.png"\/>/);
  const json = JSON.parse(await site.read('public/feed.json'));
  assert.equal(json.items[1].image, 'https://jekyll.example.com/assets/welcome.png');

  assert.ok(existsSync(join(site.dir, 'public/jekyll/update/2025/01/30/welcome-to-jekyll.html')), 'the page at its Jekyll URL');
  assert.match(await site.read('public/welcome/index.html'), /<meta http-equiv="refresh" content="0; url=https:\/\/jekyll\.example\.com\/jekyll\/update\/2025\/01\/30\/welcome-to-jekyll\.html">/);
  assert.equal(await site.read('public/assets/welcome.png'), 'PNG', 'assets/ is published as it is');
});

test('a Hugo content folder: TOML front matter, page bundles with their images, aliases, lastmod, _index.md left alone, index.xml', async (t) => {
  const site = await makeSite(
    t,
    {},
    `site:
  title: Hugo Blog
  url: https://hugo.example.com/
posts: content/posts
permalink: /{year}/{month}/{title}/
feed:
  paths:
    rss: index.xml
static:
  - { folder: static, path: / }
`,
  );
  await site.write('content/posts/_index.md', '+++\ntitle = "Posts"\n+++\nThe section page.\n');
  await site.write(
    'content/posts/my-bundle/index.md',
    `+++
title = "A Post With Pictures"
date = 2024-03-10T09:00:00-05:00
lastmod = 2024-04-01T10:00:00Z
tags = ["photos", "travel"]
aliases = ["/old/pictures/"]
[cover]
image = "cover.jpg"
+++
Here is the cat: ![A cat](cat.jpg)

{{< youtube dQw4w9WgXcQ >}}
`,
  );
  await site.write('content/posts/my-bundle/cat.jpg', 'JPEG');
  await site.write('content/posts/my-bundle/cover.jpg', 'COVER');
  await site.write('content/posts/json-post.md', '{\n  "title": "JSON front matter",\n  "date": "2024-02-01",\n  "tags": ["json"]\n}\nBody.\n');
  await site.write('static/favicon.ico', 'ICON');

  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  assert.match(built.err, /warning: content\/posts\/my-bundle\/index\.md:12: Hugo shortcode \{\{< youtube dQw4w9WgXcQ >\}\} is not rendered: readers see it as text/);
  assert.doesNotMatch(built.err, /_index/);

  const rss = readWithPythonFeedparser(join(site.dir, 'public/index.xml'));
  assert.equal(rss.bozo, false, rss.bozo_exception);
  const bundle = rss.entries.find((entry) => entry.title === 'A Post With Pictures')!;
  assert.equal(bundle.link, 'https://hugo.example.com/2024/03/a-post-with-pictures/', "Hugo's :title is the title made into a slug");
  assert.equal(bundle.updated, '2024-04-01T10:00:00.000Z');
  assert.deepEqual(bundle.tags.sort(), ['photos', 'travel']);
  assert.match(bundle.content, /src="https:\/\/hugo\.example\.com\/2024\/03\/a-post-with-pictures\/cat\.jpg"/);
  assert.ok(rss.entries.some((entry) => entry.title === 'JSON front matter'));

  assert.equal(await site.read('public/2024/03/a-post-with-pictures/cat.jpg'), 'JPEG', 'a bundle image beside its page, where the post points');
  assert.equal(await site.read('public/2024/03/a-post-with-pictures/cover.jpg'), 'COVER');
  assert.match(await site.read('public/old/pictures/index.html'), /url=https:\/\/hugo\.example\.com\/2024\/03\/a-post-with-pictures\//);
  assert.equal(await site.read('public/favicon.ico'), 'ICON', "static/ goes to the site's root");
  const json = JSON.parse(await site.read('public/feed.json'));
  assert.equal(json.items.find((item: { title: string }) => item.title === 'A Post With Pictures').image, 'https://hugo.example.com/2024/03/a-post-with-pictures/cover.jpg');

  // A changed bundle image is copied again by the next build; one deleted is removed.
  await site.write('content/posts/my-bundle/cat.jpg', 'JPEG, NEWER');
  await site.run('build', '--now', NOW);
  assert.equal(await site.read('public/2024/03/a-post-with-pictures/cat.jpg'), 'JPEG, NEWER');
  const { rm } = await import('node:fs/promises');
  await rm(join(site.dir, 'content/posts/my-bundle/cover.jpg'));
  await site.run('build', '--now', NOW);
  assert.equal(existsSync(join(site.dir, 'public/2024/03/a-post-with-pictures/cover.jpg')), false);
});

test('an Eleventy posts folder: tags, ::: containers warned about, a permalink without a trailing slash served as HTML', async (t) => {
  const site = await makeSite(
    t,
    {},
    `site:
  title: Eleventy Blog
  url: https://eleventy.example.com/
permalink: /blog/{slug}
posts:
  folder: posts
  exclude: ["*.json"]
`,
  );
  await site.write('posts/posts.json', '{ "tags": ["posts"], "layout": "post.njk" }');
  await site.write(
    'posts/first-post.md',
    `---
title: This is my first post.
description: This is a post on My Blog about agile frameworks.
date: 2018-05-01
tags:
  - another tag
---
Leverage agile frameworks.

::: note
A container.
:::
`,
  );
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  assert.match(built.err, /warning: posts\/first-post\.md:10: container ::: note is not rendered/);
  const atom = readWithFeedParser(await site.read('public/atom.xml'));
  assert.equal(atom.entries[0]!.link, 'https://eleventy.example.com/blog/first-post');
  assert.equal(atom.entries[0]!.summary, 'This is a post on My Blog about agile frameworks.');
  assert.deepEqual(atom.entries[0]!.tags, ['another tag']);
  assert.ok(existsSync(join(site.dir, 'public/blog/first-post.html')), 'written as name.html');
  const html = await readFile(join(site.dir, 'public/blog/first-post.html'), 'utf8');
  assert.match(html, /Leverage agile frameworks/);
});

test('two posts with one slug under different dated URLs are both published; one URL taken twice is refused', async (t) => {
  const site = await makeSite(t, {}, 'site:\n  url: https://example.com/\npermalink: /{year}/{month}/{day}/{slug}/\n');
  await site.write('posts/2015-07-01-legal-transparency-report.md', '---\ntitle: Report 2015\n---\nA.\n');
  await site.write('posts/2016-04-01-legal-transparency-report.md', '---\ntitle: Report 2016\n---\nB.\n');
  await site.write('posts/2016-04-01-zz-copy.md', '---\ntitle: Copy\nslug: legal-transparency-report\n---\nC.\n');
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 1);
  assert.match(built.err, /posts\/2016-04-01-zz-copy\.md:\d+: slug "legal-transparency-report" is already used by posts\/2016-04-01-legal-transparency-report\.md/);
  const atom = readWithFeedParser(await site.read('public/atom.xml'));
  assert.deepEqual(atom.entries.map((entry) => entry.link).sort(), ['https://example.com/2015/07/01/legal-transparency-report/', 'https://example.com/2016/04/01/legal-transparency-report/']);
});

test('a YAML key given twice takes the last value, with a warning naming the file, line and key', async (t) => {
  const site = await makeSite(t, { 'twice.md': '---\ntitle: First\ndate: 2026-01-01\ntitle: Second\n---\nBody.\n' });
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  assert.match(built.err, /warning: posts\/twice\.md:4: "title" is given twice; the last one counts/);
  assert.match(await site.read('public/atom.xml'), /<title type="text"><!\[CDATA\[Second\]\]><\/title>|<title type="text">Second<\/title>/);
});

test('entry ids are fixed when a post is first published: a later change of site.url keeps them', async (t) => {
  const site = await makeSite(t, { 'hello.md': '---\ntitle: Hello\ndate: 2026-01-01\n---\nHi.\n' }, 'site:\n  url: https://old.example.com/\n');
  await site.run('build', '--now', NOW);
  await site.write('herald.config.yml', 'site:\n  url: https://new.example.com/\n');
  await site.run('build', '--now', NOW);
  const atom = readWithFeedParser(await site.read('public/atom.xml'));
  assert.equal(atom.entries[0]!.link, 'https://new.example.com/hello/');
  assert.equal(atom.entries[0]!.id, 'https://old.example.com/hello/', 'the id it was first published under');
  const check = await site.run('check');
  assert.equal(check.code, 0, check.err);
  await site.write('posts/bad-id.md', '---\ntitle: Bad id\ndate: 2026-01-02\nid: post-42\n---\nx\n');
  const bad = await site.run('check');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /posts\/bad-id\.md:4: id "post-42" is not an absolute URI/);
});

test("an id: written in the post wins over the recorded one; jekyll-feed's ids with feed.ids: jekyll; the record is private", async (t) => {
  const config = 'site:\n  url: https://ada.example.org/blog/\npermalink: /{year}/{month}/{day}/{slug}.html\nfeed:\n  ids: jekyll\n';
  const site = await makeSite(t, { '2025-01-30-hello.md': '---\ntitle: Hello\n---\nHi.\n', 'pretty.md': '---\ntitle: Pretty\ndate: 2025-02-01\npermalink: /pretty/\n---\nx\n' }, config);
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  const ids = () => site.read('public/atom.xml').then((xml) => readWithFeedParser(xml).entries.map((entry) => [entry.link, entry.id]));
  // jekyll-feed's <id> is post.id: the URL's folder and the slug, without .html or a trailing slash.
  assert.deepEqual(await ids(), [
    ['https://ada.example.org/blog/pretty/', 'https://ada.example.org/blog/pretty'],
    ['https://ada.example.org/blog/2025/01/30/hello.html', 'https://ada.example.org/blog/2025/01/30/hello'],
  ]);
  assert.equal((await stat(join(site.dir, '.herald/entry-ids.jsonl'))).mode & 0o777, 0o600);
  // The writer who wants another id says so in the post, after the fact too.
  await site.write('posts/pretty.md', '---\ntitle: Pretty\ndate: 2025-02-01\npermalink: /pretty/\nid: tag:ada.example.org,2025:pretty\n---\nx\n');
  await site.run('build', '--now', NOW);
  assert.equal((await ids())[0]![1], 'tag:ada.example.org,2025:pretty');
});

test('a site below a path (Jekyll baseurl): old addresses redirect from below that path; a post that opens with an image is summed up by its words', async (t) => {
  const post = '---\ntitle: New bike\ndate: 2025-05-20\nredirect_from: [/bikes/2023/05/20/surly.html, /old-bike-post/]\n---\n![A green bike](/assets/bike.png)\n\nI bought a Surly.\n';
  const site = await makeSite(t, { 'new-bike.md': post }, 'site:\n  url: https://marta.example.org/blog/\n');
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  // Aliases are paths from the site's own root, as jekyll-redirect-from and Hugo take them.
  for (const path of ['public/bikes/2023/05/20/surly.html', 'public/old-bike-post/index.html']) {
    assert.match(await site.read(path), /https:\/\/marta\.example\.org\/blog\/new-bike\//, path);
  }
  assert.equal(existsSync(join(site.dir, 'public/blog')), false);
  const feed = JSON.parse(await site.read('public/feed.json')) as { items: { summary: string }[] };
  assert.equal(feed.items[0]!.summary, 'I bought a Surly.');
});

test("Eleventy's collection tag is left out of the topics with posts.ignoreTopics", async (t) => {
  const site = await makeSite(t, { 'cats.md': '---\ntitle: Cats\ndate: 2025-03-01\ntags: [posts, Cats]\n---\nMeow.\n' }, 'posts:\n  folder: posts\n  ignoreTopics: [Posts]\n');
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  assert.equal(existsSync(join(site.dir, 'public/topics/posts')), false);
  assert.equal(existsSync(join(site.dir, 'public/topics/cats/atom.xml')), true);
  assert.deepEqual(readWithFeedParser(await site.read('public/atom.xml')).entries[0]!.tags, ['Cats']);
});

test('a date written with an offset puts the post under the day written, as Hugo and Jekyll do, whatever the site zone', async (t) => {
  const site = await makeSite(
    t,
    {
      'midsummer.md': '---\ntitle: Midsummer\ndate: 2024-06-30T23:30:00Z\n---\nx\n',
      'new-york.md': '---\ntitle: New York\ndate: 2024-06-30T21:00:00-05:00\n---\nx\n',
      'local.md': '---\ntitle: Local\ndate: 2024-06-30 23:30\n---\nx\n',
    },
    'site:\n  url: https://example.com/\n  timezone: Europe/Lisbon\npermalink: /{year}/{month}/{day}/{slug}/\n',
  );
  const built = await site.run('build', '--now', NOW);
  assert.equal(built.code, 0, built.err);
  const links = readWithFeedParser(await site.read('public/atom.xml')).entries.map((entry) => entry.link).sort();
  assert.deepEqual(links, ['https://example.com/2024/06/30/local/', 'https://example.com/2024/06/30/midsummer/', 'https://example.com/2024/06/30/new-york/']);
});

test('the entry id record survives a crash mid-append, and a damaged line is an error naming it', async (t) => {
  const site = await makeSite(t, { 'hello.md': '---\ntitle: Hello\ndate: 2026-01-01\n---\nHi.\n' }, 'site:\n  url: https://old.example.com/\n');
  await site.run('build', '--now', NOW);
  const record = '.herald/entry-ids.jsonl';
  assert.equal(await site.read(record), '["posts/hello.md","https://old.example.com/hello/"]\n');
  // Killed while appending the next post's line: that post was never in a feed.
  await site.write(record, `${await site.read(record)}["posts/second.md","https://old.exa`);
  await site.write('posts/second.md', '---\ntitle: Second\ndate: 2026-01-02\n---\nx\n');
  await site.write('herald.config.yml', 'site:\n  url: https://new.example.com/\n');
  const rebuilt = await site.run('build', '--now', NOW);
  assert.equal(rebuilt.code, 0, rebuilt.err);
  const ids = readWithFeedParser(await site.read('public/atom.xml')).entries.map((entry) => entry.id);
  assert.deepEqual(ids, ['https://new.example.com/second/', 'https://old.example.com/hello/']);
  assert.equal(await site.read(record), '["posts/hello.md","https://old.example.com/hello/"]\n["posts/second.md","https://new.example.com/second/"]\n');
  await site.write(record, '["posts/hello.md","https://old.example.com/hello/"]\n{oops\n["posts/second.md","x:y"]\n');
  await site.write('posts/third.md', '---\ntitle: Third\ndate: 2026-01-03\n---\nx\n');
  const broken = await site.run('build', '--now', NOW);
  assert.equal(broken.code, 1);
  assert.match(broken.err, /\.herald\/entry-ids\.jsonl:2: cannot read the recorded feed entry ids: the line is not JSON/);
});
