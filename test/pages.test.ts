import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeSite, post } from './helpers.js';

test('build writes the archive: index.html newest first and a page at each permalink', async (t) => {
  const site = await makeSite(t, {
    'a.md': post({ title: 'First <one> & only', date: '2026-01-01', topics: 'work', body: '![x](x.png) Body **A**.\n' }),
    'b.md': post({ title: 'Second', date: '2026-02-01' }),
    'd.md': post({ title: 'Draft', draft: true }),
  });
  const result = await site.run('build', '--now', '2026-06-01');
  assert.equal(result.code, 0, result.err);
  const index = await site.read('public/index.html');
  assert.ok(index.indexOf('Second') < index.indexOf('First'), 'newest first');
  assert.match(index, /First &lt;one&gt; &amp; only/);
  assert.doesNotMatch(index, /Draft/);
  assert.match(index, /<link rel="alternate" type="application\/rss\+xml" title="Test site" href="https:\/\/example\.com\/rss\.xml">/);
  assert.match(index, /<form class="subscribe" method="post" action="https:\/\/example\.com\/subscribe">/);
  const page = await site.read('public/a/index.html');
  assert.match(page, /<h1>First &lt;one&gt; &amp; only<\/h1>/);
  assert.match(page, /<img src="https:\/\/example\.com\/a\/x\.png" alt="x">/);
  assert.match(page, /<link rel="canonical" href="https:\/\/example\.com\/a\/">/);
  assert.match(page, /application\/atom\+xml/);
});

test('pages follow their posts: an unpublished post loses its page; a template change remakes them', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }), 'b.md': post({ title: 'B' }) });
  await site.run('build', '--now', '2026-06-01');
  assert.ok(existsSync(join(site.dir, 'public/b/index.html')));
  await site.write('posts/b.md', post({ title: 'B', draft: true }));
  await site.run('build', '--now', '2026-06-01');
  assert.equal(existsSync(join(site.dir, 'public/b/index.html')), false);
  await site.write('templates/post.html', '<p>custom {{ post.title }}</p>');
  await site.run('build', '--now', '2026-06-01');
  assert.equal(await site.read('public/a/index.html'), '<p>custom A</p>');
});

test('pages: false writes feeds only', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }) }, 'pages: false\n');
  await site.run('build', '--now', '2026-06-01');
  assert.equal(existsSync(join(site.dir, 'public/index.html')), false);
  assert.ok(existsSync(join(site.dir, 'public/rss.xml')));
});

test('a change to a partial the templates include remakes the pages', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }) });
  await site.run('build', '--now', '2026-06-01');
  await site.write('templates/_feed-links.html', '<link rel="alternate" href="/custom.xml">\n');
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/a/index.html'), /href="\/custom\.xml"/);
  assert.match(await site.read('public/index.html'), /href="\/custom\.xml"/);
});

test("a writer's own file in a static folder where herald would make a page is published instead, whether the build is fresh or not", async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }), 'b.md': post({ title: 'B' }) });
  await site.write('static/a/index.html', '<p>my own page for a</p>');
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  assert.equal(await site.read('public/a/index.html'), '<p>my own page for a</p>', 'a fresh build');
  await site.write('posts/b.md', post({ title: 'B, edited' }));
  await site.write('static/b/index.html', '<p>my own page for b</p>');
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  assert.equal(await site.read('public/a/index.html'), '<p>my own page for a</p>');
  assert.equal(await site.read('public/b/index.html'), '<p>my own page for b</p>', 'a static file added over a page herald made');
  const { rm } = await import('node:fs/promises');
  await rm(join(site.dir, 'static/a/index.html'));
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  assert.match(await site.read('public/a/index.html'), /<h1>A<\/h1>/, "herald's page once the writer's is gone");
});
