import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { jekyllPermalink, planJekyll } from '../../src/init/jekyll.js';
import { memoryTree, workspace } from './helpers.js';

// A minima-style site as `jekyll new` makes it, grown a little: an include, an image, a draft
// folder excluded in _config.yml, pages beside the posts.
function jekyllBlog(config: string = JEKYLL_CONFIG): Record<string, string> {
  return {
    'blog/_config.yml': config,
    'blog/Gemfile': 'source "https://rubygems.org"\ngem "jekyll", "~> 4.3"\ngroup :jekyll_plugins do\n  gem "jekyll-feed"\nend\n',
    'blog/_posts/2025-01-30-welcome.md': `---
layout: post
title:  "Welcome to Jekyll!"
date:   2025-01-30 15:32:14 +0100
categories: jekyll update
---
You'll find this post in your \`_posts\` directory. {% include note.html text="Edit it and rebuild." %}

{% highlight ruby %}
def print_hi(name)
  puts "Hi, #{name}"
end
{% endhighlight %}
`,
    'blog/_posts/2025-02-14-seed-catalogue.md': `---
title: The seed catalogue arrived
categories: garden
tags: [seeds, planning]
---
Forty pages of tomatoes. ![The catalogue](/notes/assets/images/catalogue.jpg)
Last year's plan is in [the first post]({% post_url 2025-01-30-welcome %}).
`,
    'blog/_posts/drafts/half-done.md': '---\ntitle: Half done\n---\nNot yet.\n',
    'blog/_includes/note.html': '<aside class="note">{{ include.text }}</aside>\n',
    'blog/_layouts/post.html': '---\nlayout: default\n---\n{{ content }}\n',
    'blog/assets/images/catalogue.jpg': 'not really a jpeg',
    'blog/assets/main.scss': '---\n---\n@import "minima";\n',
    'blog/about.markdown': '---\nlayout: page\ntitle: About\npermalink: /about/\n---\nAbout me.\n',
    'blog/index.markdown': '---\nlayout: home\n---\n',
  };
}

const JEKYLL_CONFIG = `# Welcome to Jekyll!
title: Field Notes
email: ada@example.com
description: >-
  Notes from the garden and the workshop,
  posted when there is something to say.
baseurl: "/notes"
url: "https://ada.example.com"
twitter_username: adawrites
timezone: Europe/Berlin
lang: en_GB
author:
  name: Ada Writer
  email: ada@example.com
permalink: pretty
theme: minima
plugins:
  - jekyll-feed
  - jekyll-seo-tag
exclude:
  - Gemfile
  - Gemfile.lock
  - _posts/drafts/
`;

test('init --from a Jekyll site writes a config with its title, url, zone, permalink and feed, which herald check passes', async (t) => {
  const space = await workspace(t, jekyllBlog());
  const result = await space.run('herald', 'init', '--from', '../blog');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /^read the Jekyll blog in \.\.\/blog \(_config\.yml\): 2 posts in \.\.\/blog\/_posts$/m);
  assert.match(result.out, /posts\.liquid +true +# 2 posts use Liquid \(2025-01-30-welcome\.md, 2025-02-14-seed-catalogue\.md\)/);
  // Jekyll's post_url and link are herald's too: nothing to say about them.
  assert.doesNotMatch(result.out, /post_url/);
  assert.match(result.out, /plugin jekyll-seo-tag: not run by herald/);
  assert.match(result.out, /theme minima and _layouts\/: herald's pages and emails use its own templates/);
  // Tags stay topics: {categories} in the permalink is the categories alone, as in Jekyll.
  assert.doesNotMatch(result.out, /posts\.topics/);
  assert.match(result.out, /node \S+\/dist\/cli\.js check/);

  const config = await space.config('herald/herald.config.yml');
  assert.deepEqual(config.site, {
    title: 'Field Notes',
    url: 'https://ada.example.com/notes/',
    description: 'Notes from the garden and the workshop, posted when there is something to say.',
    author: { name: 'Ada Writer', email: 'ada@example.com' },
    language: 'en-GB',
    timezone: 'Europe/Berlin',
  });
  assert.deepEqual(config.posts, { folder: '../blog/_posts', exclude: ['drafts/**'], liquid: true, includes: '../blog/_includes' });
  assert.equal(config.permalink, '/{categories}/{year}/{month}/{day}/{slug}/');
  // jekyll-feed writes Atom at feed.xml, with the newest 10 posts.
  assert.deepEqual(config.feed, { ids: 'jekyll', limit: 10, paths: { atom: 'feed.xml' } });
  assert.deepEqual(config.static, ['../blog/assets']);
  const text = await space.read('herald/herald.config.yml');
  assert.match(text, /^permalink: \/\{categories\}.* # _config\.yml permalink \(pretty: /m);
  assert.match(text, /^# - plugin jekyll-seo-tag/m);

  const check = await space.run('herald', 'check');
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /2 published, 0 draft, 0 scheduled, no problems/);

  // The old addresses: Jekyll's pretty style, the include run, the Atom feed where it was.
  const build = await space.run('herald', 'build');
  assert.equal(build.code, 0, build.err);
  const page = await space.read('herald/public/jekyll/update/2025/01/30/welcome/index.html');
  assert.match(page, /<aside class="note">Edit it and rebuild\.<\/aside>/);
  assert.match(await space.read('herald/public/feed.xml'), /<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom"/);
  // {% post_url %}: the post's address from the host's root, baseurl included, as Jekyll 4 writes
  // it (made absolute, as every link of a post is, in its page and its feeds).
  assert.match(await space.read('herald/public/garden/2025/02/14/seed-catalogue/index.html'), /<a href="https:\/\/ada\.example\.com\/notes\/jekyll\/update\/2025\/01\/30\/welcome\/">the first post<\/a>/);
  assert.ok(existsSync(join(space.root, 'herald/public/assets/images/catalogue.jpg')));
});

test("Jekyll's default permalink, feed.path and --to: paths are relative to where the config goes", async (t) => {
  const config = 'title: Plain\nurl: https://plain.example.com\nplugins: [jekyll-feed]\nfeed:\n  path: atom.xml\n';
  const space = await workspace(t, { ...jekyllBlog(config), 'blog/_posts/2025-01-30-welcome.md': '---\ntitle: Welcome\n---\nHello.\n' });
  const result = await space.run('.', 'init', '--from', 'blog', '--to', 'sites/plain/herald.config.yml');
  assert.equal(result.code, 0, result.err);
  const written = await space.config('sites/plain/herald.config.yml');
  assert.equal(written.permalink, '/{categories}/{year}/{month}/{day}/{slug}.html');
  assert.deepEqual(written.feed, { ids: 'jekyll', limit: 10, paths: { atom: 'atom.xml' } });
  // No exclude in _config.yml this time: the draft is left out as Jekyll leaves it, by its name.
  assert.deepEqual(written.posts, { folder: '../../blog/_posts', exclude: ['drafts/half-done.md'], liquid: true, includes: '../../blog/_includes' });
  assert.match(result.out, /drafts\/half-done\.md in _posts: not named YYYY-MM-DD-title, so Jekyll skips it/);
  assert.match(result.out, /node \S+\/dist\/cli\.js --config sites\/plain\/herald\.config\.yml check/);
  const check = await space.run('.', '--config', 'sites/plain/herald.config.yml', 'check');
  assert.equal(check.code, 0, check.err);
});

test('init --from never overwrites a config, and says what is there', async (t) => {
  const space = await workspace(t, { ...jekyllBlog(), 'herald/herald.config.yml': 'site:\n  title: Mine\n' });
  const result = await space.run('herald', 'init', '--from', '../blog');
  assert.equal(result.code, 2);
  assert.match(result.err, /^herald: herald\.config\.yml: already exists; herald init does not overwrite it \(move it away first, or write the new config elsewhere with --to FILE\)$/);
  assert.equal(await space.read('herald/herald.config.yml'), 'site:\n  title: Mine\n');
});

test('a config in the Jekyll folder itself warns that Jekyll would publish herald\'s files', async (t) => {
  const space = await workspace(t, jekyllBlog());
  const result = await space.run('blog', 'init', '--from', '.');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /Jekyll publishes every file here it is not told to exclude, but not names starting with _ or \.: herald's site is in _herald-site\/ and its mail in \.herald\/outbox\/; add herald\.config\.yml/);
  const config = await space.config('blog/herald.config.yml');
  assert.deepEqual(config.static, ['assets']);
  // Where Jekyll publishes nothing: readers' addresses in the outbox never reach _site.
  assert.equal(config.output, '_herald-site');
  assert.equal(config.outbox, '.herald/outbox');
  const check = await space.run('blog', 'check');
  assert.equal(check.code, 0, check.err);
});

test("Jekyll's permalink styles and placeholders, and those herald has nothing like", () => {
  assert.deepEqual(jekyllPermalink('date'), { pattern: '/{categories}/{year}/{month}/{day}/{slug}.html' });
  assert.deepEqual(jekyllPermalink('none'), { pattern: '/{categories}/{slug}.html' });
  assert.deepEqual(jekyllPermalink('/blog/:year/:slug/'), { pattern: '/blog/{year}/{slug}/' });
  assert.deepEqual(jekyllPermalink(':title:output_ext'), { pattern: '/{slug}.html' });
  assert.deepEqual(jekyllPermalink('ordinal'), { reason: 'herald has nothing like :y_day' });
  assert.deepEqual(jekyllPermalink('/:year/:i_month/:title/'), { reason: 'herald has nothing like :i_month' });
});

test('a permalink herald cannot express is said, and herald keeps its own', () => {
  const plan = planJekyll(memoryTree({ '_config.yml': 'title: T\npermalink: /:year/:i_month/:title/\n', '_posts/2025-01-01-a.md': '---\ntitle: A\n---\n' }), 'blog');
  assert.equal(plan.settings.find((setting) => setting.key === 'permalink'), undefined);
  assert.ok(plan.notes.some((note) => note.startsWith('permalink "/:year/:i_month/:title/" (_config.yml permalink): herald has nothing like :i_month; herald puts posts at /{slug}/')));
  assert.ok(plan.notes.some((note) => note.startsWith('_config.yml has no url')));
});

test('front matter defaults for posts set the permalink; a broken _config.yml is an error naming its line', async (t) => {
  const plan = planJekyll(
    memoryTree({ '_config.yml': 'title: T\npermalink: date\ndefaults:\n  - scope: { path: "", type: posts }\n    values: { layout: post, permalink: "/blog/:title/", comments: true }\n' }),
    'blog',
  );
  assert.equal(plan.settings.find((setting) => setting.key === 'permalink')?.value, '/blog/{slug}/');
  assert.ok(plan.notes.some((note) => note.startsWith('defaults (comments)')));
  const space = await workspace(t, { 'blog/_config.yml': 'title: T\nurl: [unclosed\n' });
  const result = await space.run('herald', 'init', '--from', '../blog');
  assert.equal(result.code, 1);
  assert.match(result.err, /^herald: \.\.\/blog\/_config\.yml:3: cannot read Jekyll's config: /);
  assert.equal(existsSync(join(space.root, 'herald/herald.config.yml')), false);
});

test("values herald's config rejects are left out with the rule that rejected them, so the config always loads", async (t) => {
  const config = 'title: Odd\nurl: "ada.example.com"\ntimezone: Mars/Olympus_Mons\nlang: english language\nauthor:\n  name: Ada\n  email: not-an-address\n';
  const space = await workspace(t, { 'blog/_config.yml': config, 'blog/_posts/2025-01-30-welcome.md': '---\ntitle: Welcome\n---\nHello.\n' });
  const result = await space.run('herald', 'init', '--from', '../blog');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /site\.url "ada\.example\.com\/" \(_config\.yml url\): herald's config rejects it: must be an absolute http\(s\) URL, like https:\/\/example\.com\/; herald's default applies/);
  assert.match(result.out, /site\.timezone "Mars\/Olympus_Mons" \(_config\.yml timezone\): herald's config rejects it: must be an IANA time zone name/);
  assert.match(result.out, /site\.language "english language" \(_config\.yml lang\): herald's config rejects it/);
  assert.match(result.out, /site\.author\.email "not-an-address" \(_config\.yml author\.email\): herald's config rejects it/);
  const written = await space.config('herald/herald.config.yml');
  assert.deepEqual(written.site, { title: 'Odd', author: { name: 'Ada' } });
  const check = await space.run('herald', 'check');
  assert.equal(check.code, 0, check.err);
});

test('a Jekyll time without an offset is UTC, as Jekyll reads it: the same addresses and times as Jekyll 4.3 published', async (t) => {
  const post = (title: string, date?: string) => `---\ntitle: ${title}\n${date ? `date: ${date}\n` : ''}---\nx\n`;
  const space = await workspace(t, {
    'blog/_config.yml': 'title: T\nurl: "https://x.example"\ntimezone: America/New_York\npermalink: /:year/:month/:day/:title/\nplugins: [jekyll-feed]\n',
    'blog/_posts/2024-06-03-late.md': post('Late', '2024-06-03 23:30:00'),
    'blog/_posts/2024-06-03-early.md': post('Early', '2024-06-03 01:30:00'),
    'blog/_posts/2024-06-05-dateonly.md': post('DateOnly', '2024-06-05'),
    'blog/_posts/2024-06-07-nodate.md': post('NoDate'),
  });
  const init = await space.run('.', 'init', '--from', 'blog');
  assert.equal(init.code, 0, init.err);
  assert.match(init.out, /posts\.timesWithoutOffset +utc +# Jekyll reads a time without an offset as UTC \(2 posts/);
  assert.equal((await space.run('.', 'build', '--now', '2026-01-01T00:00:00Z')).code, 0);
  const feed = JSON.parse(await space.read('public/feed.json')) as { items: { url: string; date_published: string }[] };
  // What Jekyll 4.3.1 wrote in feed.xml for these posts (2024-06-03T19:30:00-04:00 and so on).
  assert.deepEqual(
    feed.items.map((item) => [item.url, item.date_published]),
    [
      ['https://x.example/2024/06/07/nodate/', '2024-06-07T04:00:00.000Z'],
      ['https://x.example/2024/06/05/dateonly/', '2024-06-05T04:00:00.000Z'],
      ['https://x.example/2024/06/03/late/', '2024-06-03T23:30:00.000Z'],
      ['https://x.example/2024/06/02/early/', '2024-06-03T01:30:00.000Z'],
    ],
  );
});

test("Jekyll's {% link %} and {% post_url %}: a post's address, a file's path, and a warning naming a post that is not there", async (t) => {
  const post = (title: string, body: string) => `---\ntitle: ${title}\n---\n${body}\n`;
  const space = await workspace(t, {
    'blog/_config.yml': 'title: T\nurl: "https://x.example"\nbaseurl: /blog\npermalink: /:year/:month/:day/:title.html\n',
    'blog/_posts/2024-01-15-some-title.md': post('Some title', 'First.'),
    'blog/_posts/2024/2024-02-01-nested.md': post('Nested', 'Second.'),
    'blog/_posts/2024-03-10-links.md': post('Links', '[intro]({% link _posts/2024-01-15-some-title.md %}), [nested]({% post_url 2024-02-01-nested %}), [pdf]({% link assets/guide.pdf %}).'),
    'blog/_posts/2024-03-11-broken.md': post('Broken', 'See {% post_url 2023-01-01-gone %}.'),
    'blog/_posts/2024-03-12-draft.md': '---\ntitle: Draft\npublished: false\n---\nx\n',
    'blog/_posts/2024-03-13-to-draft.md': post('To draft', 'See {% post_url 2024-03-12-draft %}.'),
    'blog/_posts/2024-03-14-to-page.md': post('To page', 'See {% link about.md %} and {% link ../outside.md %}.'),
    'blog/about.md': '---\ntitle: About\n---\nA page.\n',
    'outside.md': 'secret',
    'blog/assets/guide.pdf': 'pdf',
  });
  assert.equal((await space.run('.', 'init', '--from', 'blog')).code, 0);
  const build = await space.run('.', 'build', '--now', '2026-01-01T00:00:00Z');
  assert.equal(build.code, 0, build.err);
  const page = await space.read('public/2024/03/10/links.html');
  assert.match(page, /<a href="https:\/\/x\.example\/blog\/2024\/01\/15\/some-title\.html">intro<\/a>/);
  assert.match(page, /<a href="https:\/\/x\.example\/blog\/2024\/02\/01\/nested\.html">nested<\/a>/);
  assert.match(page, /<a href="https:\/\/x\.example\/blog\/assets\/guide\.pdf">pdf<\/a>/);
  assert.match(build.err, /2024-03-11-broken\.md:\d+: Liquid could not run: \{% post_url 2023-01-01-gone %\}: there is no post 2023-01-01-gone/);
  assert.match(build.err, /2024-03-13-to-draft\.md:\d+: Liquid could not run: \{% post_url 2024-03-12-draft %\}: 2024-03-12-draft\.md is not published/);
  assert.match(build.err, /2024-03-14-to-page\.md:\d+: Liquid could not run: \{% link about\.md %\}: herald publishes no page for about\.md/);
});
