import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Problem } from '../../src/errors.js';
import { prepareBody } from '../../src/posts/generator-syntax.js';
import { renderMarkdown } from '../../src/posts/markdown.js';

// Post bodies as they come out of real Jekyll, Hugo and Eleventy sites. Each factory returns a
// fresh string; `firstLine` in the tests is where such a body would start after its front matter.

function jekyllPost(): string {
  return [
    'Welcome to {{ page.title }}, written for {{ site.title | escape }}.', // 1
    '',
    '{% include figure.html image="/assets/img/garden.jpg" caption="The garden in May" %}', // 3
    '',
    'To show the site title in a layout, write:',
    '',
    '```liquid',
    '{% raw %}<h1>{{ site.title }}</h1>{% endraw %}', // 8
    '```',
    '',
    'or inline: `{% raw %}{{ page.url | absolute_url }}{% endraw %}`.', // 11
    '',
    '{% highlight ruby linenos %}', // 13
    'def greet(name)',
    '  puts "Hello, #{name}"',
    'end',
    '{% endhighlight %}',
    '',
    '![Tomatoes on the vine](/assets/img/tomatoes.jpg)',
    '{: .float-end width="240" }', // 20
    '',
  ].join('\n');
}

function hugoPost(): string {
  return [
    'Here is the talk:', // 1
    '',
    '{{< youtube dQw4w9WgXcQ >}}', // 3
    '',
    '{{% notice warning %}}', // 5
    'Back up first.',
    '{{% /notice %}}',
    '',
    'The shortcode is written like this:',
    '',
    '```go-html-template',
    '{{< youtube dQw4w9WgXcQ >}}',
    '{{% notice warning %}}',
    '```',
    '',
  ].join('\n');
}

function eleventyPost(): string {
  return [
    '# Notes', // 1
    '',
    '::: note', // 3
    'Eleventy renders this with markdown-it-container.',
    ':::',
    '',
    ':::warning Careful', // 7
    'Hot.',
    ':::',
    '',
  ].join('\n');
}

/** Every construct, only where markdown makes it code: fenced, indented, inline. */
function everythingInCode(): string {
  return [
    'The syntax of other generators, shown as code:',
    '',
    '```',
    '{{ page.title }} {% include x.html %} {{< youtube id >}} {: .class } {:toc}',
    '::: note',
    '```',
    '',
    '~~~markdown',
    '{{% notice %}} {% highlight ruby %}',
    '::: tip',
    '~~~',
    '',
    '    {{ page.title }} {% include x.html %}',
    '    ::: note',
    '    {{< figure src="a.jpg" >}}',
    '',
    'Inline: `{{ page.title }}`, ``{% include x.html %}``, `{{< youtube id >}}`, `{: .class }`.',
    '',
    '- A list item with code:',
    '',
    '  ```',
    '  {{ inside.list.fence }}',
    '  ```',
    '',
  ].join('\n');
}

function where(warnings: Problem[]): Array<[number | undefined, string]> {
  return warnings.map((warning) => [warning.line, warning.message]);
}

test('a body without generator syntax comes back as it is, with no warnings', () => {
  const body = '# Hello\n\nA post with `code`, a [link](x) and\n\n```js\nconst o = { a: 1 };\n```\n';
  assert.deepEqual(prepareBody(body, 'posts/a.md', 4), { markdown: body, warnings: [] });
});

test('Jekyll: raw markers go, their content stays verbatim and unwarned; highlight becomes fenced code', () => {
  const { markdown, warnings } = prepareBody(jekyllPost(), '_posts/2019-05-01-garden.md', 6);
  assert.match(markdown, /```liquid\n<h1>\{\{ site\.title \}\}<\/h1>\n```/);
  assert.match(markdown, /or inline: `\{\{ page\.url \| absolute_url \}\}`\./);
  assert.doesNotMatch(markdown, /raw %\}|highlight/);
  assert.match(markdown, /\n```ruby\ndef greet\(name\)\n {2}puts "Hello, #\{name\}"\nend\n```\n/);
  // Line numbers are the file's: the body starts on line 6.
  assert.deepEqual(where(warnings), [
    [6, 'Liquid output {{ page.title }} is not filled in: readers see it as text'],
    [6, 'Liquid output {{ site.title | escape }} is not filled in: readers see it as text'],
    [8, 'Liquid tag {% include figure.html image="/assets/img/garden.jpg" ca… %} is not run: readers see it as text'],
    [25, 'kramdown attribute list {: .float-end width="240" } is not applied: readers see it as text'],
  ]);
  for (const warning of warnings) {
    assert.equal(warning.code, 'E_POST_SYNTAX');
    assert.equal(warning.file, '_posts/2019-05-01-garden.md');
    assert.ok(warning.hint);
  }
  assert.match(warnings[0]!.hint!, /posts\.liquid: true/);
  assert.match(warnings[2]!.hint!, /include produced.*posts\.liquid: true/);
  assert.match(warnings[3]!.hint!, /class="float-end"/);
});

test('the prepared Jekyll post renders the code samples readers saw on the old site', () => {
  const { html } = renderMarkdown(prepareBody(jekyllPost(), 'p.md', 1).markdown, 'https://example.com/garden/');
  assert.match(html, /<pre><code class="language-liquid">&lt;h1&gt;\{\{ site\.title \}\}&lt;\/h1&gt;\n<\/code><\/pre>/);
  assert.match(html, /<code>\{\{ page\.url \| absolute_url \}\}<\/code>/);
  assert.match(html, /<pre><code class="language-ruby">def greet\(name\)\n/);
});

test('whitespace-trimming raw markers trim outside, and keep the inside as written', () => {
  const body = 'Before\n\n{%- raw -%}\n{{ x }} and {% if y %}\n{%- endraw -%}\n\n\nAfter {{ z }}\n';
  const { markdown, warnings } = prepareBody(body, 'p.md', 10);
  assert.equal(markdown, 'Before\n{{ x }} and {% if y %}\nAfter {{ z }}\n');
  // Lines joined by the trimming are still reported at their line in the file.
  assert.deepEqual(where(warnings), [[17, 'Liquid output {{ z }} is not filled in: readers see it as text']]);
});

test('a raw block around a whole fenced code sample, and several raw pairs on one line', () => {
  const body = '{% raw %}\n```liquid\n{% for post in site.posts %}{{ post.title }}{% endfor %}\n```\n{% endraw %}\n\nA {% raw %}{{ a }}{% endraw %} b {% raw %}{% c %}{% endraw %} {{ d }}\n';
  const { markdown, warnings } = prepareBody(body, 'p.md', 1);
  assert.equal(markdown, '\n```liquid\n{% for post in site.posts %}{{ post.title }}{% endfor %}\n```\n\n\nA {{ a }} b {% c %} {{ d }}\n');
  assert.deepEqual(where(warnings), [[7, 'Liquid output {{ d }} is not filled in: readers see it as text']]);
});

test('highlight: fences longer than the code\'s own, options dropped, unclosed left and reported', () => {
  const nested = prepareBody('{%- highlight markdown linenos=table -%}\n```js\nx\n```\n{%- endhighlight -%}\n', 'p.md', 1);
  assert.equal(nested.markdown, '````markdown\n```js\nx\n```\n````\n');
  assert.deepEqual(nested.warnings, []);
  const unclosed = prepareBody('{% highlight js %}\nlet a = 1;\n', 'p.md', 3);
  assert.equal(unclosed.markdown, '{% highlight js %}\nlet a = 1;\n');
  assert.deepEqual(where(unclosed.warnings), [[3, 'Liquid tag {% highlight js %} is not run: readers see it as text']]);
  assert.match(unclosed.warnings[0]!.hint!, /endhighlight/);
  // Liquid inside a highlight block is code now, not a warning.
  assert.deepEqual(prepareBody('{% highlight html %}\n<p>{{ page.title }}</p>\n{% endhighlight %}\n', 'p.md', 1).warnings, []);
});

test('Hugo: shortcodes are reported once per pair, with a hint for the shortcode; code is left alone', () => {
  const { markdown, warnings } = prepareBody(hugoPost(), 'content/posts/talk.md', 5);
  assert.equal(markdown, hugoPost());
  assert.deepEqual(where(warnings), [
    [7, 'Hugo shortcode {{< youtube dQw4w9WgXcQ >}} is not rendered: readers see it as text'],
    [9, 'Hugo shortcode {{% notice warning %}} is not rendered: readers see it as text'],
  ]);
  assert.match(warnings[0]!.hint!, /link to the video/);
  assert.match(warnings[1]!.hint!, /blockquote/);
});

test('kramdown: {:toc} and extensions get their own hints', () => {
  const { warnings } = prepareBody('* TOC\n{:toc}\n\n{::options parse_block_html="true" /}\n\n{::comment}\nhidden\n{:/comment}\n', 'p.md', 1);
  assert.deepEqual(where(warnings), [
    [2, 'kramdown {:toc} is not applied: readers see it as text'],
    [4, 'kramdown extension {::options parse_block_html="true" /} is not applied: readers see it as text'],
    [6, 'kramdown extension {::comment} is not applied: readers see it as text'],
  ]);
  assert.match(warnings[0]!.hint!, /table of contents/);
});

test('Eleventy and markdown-it ::: containers are reported at their opening line', () => {
  const { markdown, warnings } = prepareBody(eleventyPost(), 'src/posts/notes.md', 3);
  assert.equal(markdown, eleventyPost());
  assert.deepEqual(where(warnings), [
    [5, 'container ::: note is not rendered: readers see its ::: lines as text'],
    [9, 'container :::warning Careful is not rendered: readers see its ::: lines as text'],
  ]);
});

test('nothing inside fenced, indented or inline code is reported or changed', () => {
  const body = everythingInCode();
  assert.deepEqual(prepareBody(body, 'p.md', 1), { markdown: body, warnings: [] });
});

test('what only looks like code is reported: list paragraphs, escaped or unclosed backticks, code spans over lines', () => {
  const body = [
    '1. Step one', // 1
    '',
    '    {% include step.html %}', // 3: a paragraph of the item, not code
    '',
    'Not code: \\`{{ a }}` and an unclosed ` tick {{ b }}', // 5
    '',
    'A ``span over', // 7
    '{{ inside }} two lines`` then {{ outside }}', // 8
    '',
  ].join('\n');
  assert.deepEqual(where(prepareBody(body, 'p.md', 1).warnings), [
    [3, 'Liquid tag {% include step.html %} is not run: readers see it as text'],
    [5, 'Liquid output {{ a }} is not filled in: readers see it as text'],
    [5, 'Liquid output {{ b }} is not filled in: readers see it as text'],
    [8, 'Liquid output {{ outside }} is not filled in: readers see it as text'],
  ]);
});

test('closing halves of Liquid blocks are not reported again; block openers are', () => {
  const body = '{% if page.comments %}\nComments.\n{% else %}\nNone.\n{% endif %}\n{% comment %}\nold\n{% endcomment %}\n';
  const { warnings } = prepareBody(body, 'p.md', 1);
  assert.deepEqual(where(warnings).map(([line]) => line), [1, 6]);
  assert.match(warnings[1]!.hint!, /endcomment/);
});

test('a post full of constructs gets 20 warnings and one saying how many more', () => {
  const body = Array.from({ length: 50 }, (_, i) => `Line {{ value_${i} }}`).join('\n');
  const { warnings } = prepareBody(body, 'p.md', 2);
  assert.equal(warnings.length, 21);
  assert.equal(warnings[19]!.line, 21);
  assert.deepEqual([warnings[20]!.line, warnings[20]!.message], [22, 'and 30 more template constructs from here on that readers would see as text']);
});

test('long constructs are shortened in the middle, keeping how they close', () => {
  const long = `{{< figure src="/images/${'very-'.repeat(20)}long.jpg" title="A long one" >}}`;
  const [warning] = prepareBody(`${long}\n`, 'p.md', 1).warnings;
  assert.match(warning!.message, /^Hugo shortcode \{\{< figure src="\/images\/very-very-[^ ]*… >\}\} is not rendered/);
  assert.ok(warning!.message.length < 120);
});

test('typical posts cost next to nothing', () => {
  const typical = '# A day out\n\nWe walked to the lake, [photos here](photos/).\n\n'.repeat(20);
  const start = performance.now();
  for (let i = 0; i < 10_000; i++) prepareBody(typical, 'p.md', 5);
  // Generous for a slow CI machine; it measures about 5 ms here.
  assert.ok(performance.now() - start < 500);
});
