import assert from 'node:assert/strict';
import { test } from 'node:test';
import { absoluteHtmlUrls, renderMarkdown, summarize } from '../../src/posts/markdown.js';

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

/** The page and fragment an href leads to, to check an in-page link stays on the post's page. */
function target(href: string): { page: string; fragment: string } {
  const url = new URL(href);
  return { page: url.href.slice(0, url.href.length - url.hash.length), fragment: url.hash.slice(1) };
}

function ids(html: string): string[] {
  return [...html.matchAll(/ id="([^"]*)"/g)].map((match) => match[1]!);
}

function footnotePost(): string {
  return [
    'Herald sends posts by email[^mail] and feeds[^1]. Email again[^mail].',
    '',
    '## Why',
    '',
    'Because.',
    '',
    '[^1]: RSS, Atom and JSON Feed; see [the spec](../specs/).',
    '[^mail]: Over SMTP.',
    '[^unused]: Never referenced.',
    '',
  ].join('\n');
}

test('GitHub footnotes: numbered superscript links to a notes section at the end, with back-links', () => {
  const { html, firstParagraph } = renderMarkdown(footnotePost(), BASE);
  const refs = [...html.matchAll(/<sup><a id="([^"]+)" href="([^"]+)"[^>]*>(\d+)<\/a><\/sup>/g)];
  // Numbered in the order first referenced; the second reference to a note reuses its number.
  assert.deepEqual(refs.map((ref) => ref[3]), ['1', '2', '1']);
  const section = html.slice(html.indexOf('<section'));
  assert.match(section, /^<section class="footnotes" data-footnotes>\n<h2 id="fn-label" class="sr-only">Footnotes<\/h2>\n<ol>/);
  assert.ok(html.trimEnd().endsWith('</section>'), 'the notes come last, after the heading that follows the references');
  assert.ok(html.indexOf('<h2 id="why">') < html.indexOf('<section'));
  assert.doesNotMatch(html, /Never referenced/);
  assert.match(section, /<li id="fn-mail">\n<p>Over SMTP\. <a href="[^"]+" data-fn-backref aria-label="Back to reference mail">↩<\/a> <a href="[^"]+" data-fn-backref[^>]*>↩<sup>2<\/sup><\/a><\/p>/);
  // A link inside a note is made absolute like any other.
  assert.match(section, /<a href="https:\/\/example\.com\/blog\/specs\/">the spec<\/a>/);
  // Every footnote link stays on the post's page and lands on an element of it.
  const pageIds = ids(html);
  const links = [...html.matchAll(/<a (?:id="[^"]*" )?href="([^"]*)" data-fn-(?:ref|backref)/g)].map((match) => match[1]!);
  assert.equal(links.length, 3 + 3);
  for (const href of links) {
    assert.equal(target(href).page, BASE, href);
    assert.ok(pageIds.includes(target(href).fragment), `${href} points at no id`);
  }
  assert.equal(firstParagraph, 'Herald sends posts by email and feeds. Email again.');
});

test('footnotes start afresh in every post', () => {
  renderMarkdown(footnotePost(), BASE);
  const next = renderMarkdown('Only one[^b].\n\n[^b]: B.\n', BASE).html;
  assert.match(next, />1<\/a><\/sup>/);
  assert.equal(next.match(/<li /g)?.length, 1);
  const none = renderMarkdown('No notes here. An [^x] is just text without a definition.\n', BASE).html;
  assert.doesNotMatch(none, /<section|<sup>/);
  assert.match(none, /An \[\^x\] is just text/);
});

test('a footnote label with quotes or brackets still makes well-formed attributes', () => {
  const { html } = renderMarkdown('See[^a"b<c>].\n\n[^a"b<c>]: Odd label.\n', BASE);
  for (const tag of html.match(/<a [^>]*>/g)!) assert.match(tag, /^<a(?: [\w-]+(?:="[^"<>]*")?)+>$/, tag);
  const [href] = /href="([^"]+)" data-fn-ref/.exec(html)!.slice(1);
  assert.ok(ids(html).includes(target(href!).fragment));
});

test('headings get GitHub ids; repeats are numbered; in-post anchor links reach them', () => {
  const markdown = [
    '[Skip to setup](#my-heading) or [the second one](#my-heading-1).',
    '',
    '## My Heading',
    '## My Heading',
    '## My Heading',
    '### Using `code` & *emphasis*!',
    '# Ünïcödé Überschrift',
    '',
  ].join('\n');
  const { html } = renderMarkdown(markdown, BASE);
  assert.deepEqual(ids(html), ['my-heading', 'my-heading-1', 'my-heading-2', 'using-code--emphasis', 'ünïcödé-überschrift']);
  assert.match(html, /<h3 id="using-code--emphasis">Using <code>code<\/code> &amp; <em>emphasis<\/em>!<\/h3>/);
  const links = [...html.matchAll(/<a href="([^"]+)">/g)].map((match) => target(match[1]!));
  assert.deepEqual(links, [
    { page: BASE, fragment: 'my-heading' },
    { page: BASE, fragment: 'my-heading-1' },
  ]);
  // Ids restart with each post: a post's first "My Heading" is always my-heading.
  assert.deepEqual(ids(renderMarkdown('## My Heading\n', BASE).html), ['my-heading']);
});

test('code that shows footnote markup or fragment links is left as written', () => {
  const { html } = renderMarkdown('```html\n<a href="#fn-1" data-fn-backref>↩</a> [^1]\n```\n\nInline `[^1]` and `href="#x"`.\n', BASE);
  assert.match(html, /<code class="language-html">&lt;a href=&quot;#fn-1&quot; data-fn-backref&gt;↩&lt;\/a&gt; \[\^1\]\n<\/code>/);
  assert.match(html, /<code>\[\^1\]<\/code> and <code>href=&quot;#x&quot;<\/code>/);
});

test('every relative URL in raw HTML becomes absolute: srcset candidates, poster, object data, cite, form action', () => {
  const html = absoluteHtmlUrls(
    [
      '<picture><source srcset="s.webp 400w,  /t.webp 800w" type="image/webp"><img src=i.png srcset="a.png, ../b.png 2x,c.png 3x" alt=x></picture>',
      '<video poster=\'p.jpg\' src="v.mp4"></video><object data="o.svg"></object>',
      '<blockquote cite="../src/">a</blockquote><q cite="q.html">b</q><del cite="#why">c</del><ins cite="log/">d</ins>',
      '<form action="/subscribe"></form><a href="?a=1&amp;b=2">e</a>',
    ].join(''),
    BASE,
  );
  assert.equal(
    html,
    [
      '<picture><source srcset="https://example.com/blog/my-post/s.webp 400w,  https://example.com/t.webp 800w" type="image/webp">',
      '<img src="https://example.com/blog/my-post/i.png" srcset="https://example.com/blog/my-post/a.png, https://example.com/blog/b.png 2x,https://example.com/blog/my-post/c.png 3x" alt=x></picture>',
      '<video poster="https://example.com/blog/my-post/p.jpg" src="https://example.com/blog/my-post/v.mp4"></video><object data="https://example.com/blog/my-post/o.svg"></object>',
      '<blockquote cite="https://example.com/blog/src/">a</blockquote><q cite="https://example.com/blog/my-post/q.html">b</q>',
      '<del cite="https://example.com/blog/my-post/#why">c</del><ins cite="https://example.com/blog/my-post/log/">d</ins>',
      '<form action="https://example.com/subscribe"></form><a href="https://example.com/blog/my-post/?a=1&amp;b=2">e</a>',
    ].join(''),
  );
  // A data: URL's comma is its own, not a separator between candidates.
  assert.equal(absoluteHtmlUrls('<img srcset="data:image/png;base64,iVBO= 1x, big.png 2x">', BASE), '<img srcset="data:image/png;base64,iVBO= 1x, https://example.com/blog/my-post/big.png 2x">');
  // The same names on other elements are not URLs.
  const other = '<div data="x.png" cite="y" poster="z" action="w" srcset="v"></div>';
  assert.equal(absoluteHtmlUrls(other, BASE), other);
});

test('text that shows URL attributes (a raw <pre> code sample), comments and scripts stay exactly as written', () => {
  const sample = '<pre><code>&lt;img src="photo.jpg" srcset="a.png 2x"&gt;\n&lt;a href="#top"&gt; href="x"</code></pre>';
  const markdown = `Intro with a note[^1].\n\n${sample}\n\n<!-- <img src="draft.png"> -->\n\n<script>const tag = '<img src="a.png">';</script>\n\n[^1]: A note.\n`;
  const { html } = renderMarkdown(markdown, BASE);
  assert.ok(html.includes(sample), html);
  assert.ok(html.includes('<!-- <img src="draft.png"> -->'));
  assert.ok(html.includes(`<script>const tag = '<img src="a.png">';</script>`));
  // The footnote's own links are still made absolute.
  assert.match(html, /<a id="fn-ref-1" href="https:\/\/example\.com\/blog\/my-post\/#fn-1"/);
  assert.match(html, /<a href="https:\/\/example\.com\/blog\/my-post\/#fn-ref-1" data-fn-backref/);
  // An HTML post goes through the same rewrite.
  assert.equal(absoluteHtmlUrls(`<p><img src="a.png"></p>${sample}`, BASE), `<p><img src="https://example.com/blog/my-post/a.png"></p>${sample}`);
});

test('HTML without relative URLs comes out byte for byte as it went in', () => {
  const html = [
    "<p><a href='https://Example.com'>as typed</a> <a href=\"mailto:a@b.c\">mail</a> <a href=\"\">empty</a> <a name=x>anchor</a></p>",
    '<img src="https://cdn.example.com/a.png" srcset="https://cdn.example.com/a.png 1x,https://cdn.example.com/b.png 2x" ALT="A &amp; B">',
    '<P CLASS=x>Upper case</P><input disabled><br/>',
  ].join('\n');
  assert.equal(absoluteHtmlUrls(html, BASE), html);
  assert.equal(renderMarkdown(`${html}\n\nSome *text*.\n`, BASE).html, `${html}<p>Some <em>text</em>.</p>\n`);
});
