import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { parsePost } from '../../src/posts/parse.js';
import { renderBody } from '../../src/posts/render.js';
import { readWithFeedParser, readWithPythonFeedparser } from '../feeds/readers.js';
import { makeSite, post } from '../helpers.js';

const config = parseConfig({ site: { url: 'https://example.com/' } }, undefined, '/tmp');

function summaryOf(source: string, file = 'posts/2026-01-26-a-post.md'): string {
  const parsed = parsePost(source, file, config);
  assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problems));
  return renderBody(parsed.body(), parsed.meta, config).summary;
}

const front = (extra = '') => `---\ntitle: Only lists\ndate: 2026-01-26\n${extra}---\n`;

test('a post without a paragraph is summed up by its first text, and one without text by its title', () => {
  assert.equal(summaryOf(`${front()}# Packing list\n\n- a tent\n- a *stove*\n\n![map](map.png)\n`), 'Packing list a tent a stove');
  assert.equal(summaryOf(`${front()}\`\`\`sh\nnpm install herald\n\`\`\`\n`), 'npm install herald');
  assert.equal(summaryOf(`${front()}![Only a picture](sea.jpg)\n`), 'Only lists');
  assert.equal(summaryOf(`${front()}`), 'Only lists');
  // <!--more--> first thing: nothing before it, so the first paragraph after.
  assert.equal(summaryOf(`${front()}<!--more-->\n\nThe real start.\n`), 'The real start.');
  assert.equal(summaryOf(`${front()}<figure><img src="a.png"></figure>\n`, 'posts/2026-01-26-a.html'), 'Only lists');
  // What the writer wrote, and a first paragraph, still come first.
  assert.equal(summaryOf(`${front('summary: Mine\n')}- a list\n`), 'Mine');
  assert.equal(summaryOf(`${front()}## Heading\n\nFirst words.\n`), 'First words.');
});

test('every RSS item has a description, read back by feed readers', async (t) => {
  const site = await makeSite(t, {
    'lists.md': post({ title: 'Only lists', body: '## Packing\n\n- a tent\n- a stove\n' }),
    'picture.md': post({ title: 'Only a picture', date: '2026-01-25', body: '![The sea](sea.jpg)\n' }),
  });
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const rss = await site.read('public/rss.xml');
  const items = rss.split('<item>').slice(1);
  assert.equal(items.length, 2);
  for (const item of items) assert.match(item, /<description>(<!\[CDATA\[)?[^<\]]+/);
  const byTitle = (entries: { title: string; summary: string }[]) => Object.fromEntries(entries.map((entry) => [entry.title, entry.summary]));
  assert.deepEqual(byTitle(readWithFeedParser(rss).entries), { 'Only lists': 'Packing a tent a stove', 'Only a picture': 'Only a picture' });
  const python = readWithPythonFeedparser(join(site.dir, 'public/rss.xml'));
  assert.equal(python.bozo, false, python.bozo_exception);
  assert.deepEqual(byTitle(python.entries), { 'Only lists': 'Packing a tent a stove', 'Only a picture': 'Only a picture' });
});

test('a post removed between reading its front matter and rendering it is a clear error naming it', async () => {
  const { readPostBody } = await import('../../src/posts/load.js');
  const { HeraldError } = await import('../../src/errors.js');
  assert.throws(
    () => readPostBody('/nonexistent/herald/posts/gone.md', 'posts/gone.md'),
    (error: unknown) => error instanceof HeraldError && error.problem.code === 'E_POST_READ' && error.problem.file === 'posts/gone.md' && /removed or renamed while herald was building/.test(error.message),
  );
});
