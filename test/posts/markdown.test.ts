import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMarkdown, summarize } from '../../src/posts/markdown.js';

const BASE = 'https://example.com/blog/my-post/';

test('GitHub-flavoured markdown: tables, strikethrough, fenced code', () => {
  const { html } = renderMarkdown('| a | b |\n|---|---|\n| 1 | ~~2~~ |\n\n```js\nconst x = 1 < 2;\n```\n', BASE);
  assert.match(html, /<table>[\s\S]*<td><del>2<\/del><\/td>/);
  assert.match(html, /<pre><code class="language-js">const x = 1 &lt; 2;\n<\/code><\/pre>/);
});

test('relative links and images become absolute against the post URL', () => {
  const { html } = renderMarkdown(
    '[next](../next-post/) ![pic](images/a.png) [top](#top) [root](/about/) [abs](https://other.org/x) [mail](mailto:a@b.c)\n\n[ref link][r]\n\n[r]: ./ref.html\n',
    BASE,
  );
  assert.match(html, /href="https:\/\/example\.com\/blog\/next-post\/"/);
  assert.match(html, /src="https:\/\/example\.com\/blog\/my-post\/images\/a\.png"/);
  assert.match(html, /href="https:\/\/example\.com\/blog\/my-post\/#top"/);
  assert.match(html, /href="https:\/\/example\.com\/about\/"/);
  assert.match(html, /href="https:\/\/other\.org\/x"/);
  assert.match(html, /href="mailto:a@b\.c"/);
  assert.match(html, /href="https:\/\/example\.com\/blog\/my-post\/ref\.html"/);
});

test('relative URLs in raw HTML inside a post are made absolute too', () => {
  const { html } = renderMarkdown('<figure><img src="photo.jpg" alt="x"><a href=\'../x/\'>x</a></figure>\n\nInline <img src=icon.png> here.\n', BASE);
  assert.match(html, /src="https:\/\/example\.com\/blog\/my-post\/photo\.jpg"/);
  assert.match(html, /href="https:\/\/example\.com\/blog\/x\/"/);
  assert.match(html, /src="https:\/\/example\.com\/blog\/my-post\/icon\.png"/);
});

test('the first paragraph gives a plain-text summary, cut at a word', () => {
  const { firstParagraph } = renderMarkdown('# Title\n\nSome **bold** and `code` and a [link](x).\n\nSecond.\n', BASE);
  assert.equal(firstParagraph, 'Some bold and code and a link.');
  const long = summarize('word '.repeat(100), 50);
  assert.ok(long.length <= 50 && long.endsWith('…'));
  assert.ok(!/\s…$/.test(long));
});
