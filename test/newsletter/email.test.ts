import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { personalise, readerDraft, renderConfirmation, renderEmail, type EmailPost } from '../../src/newsletter/email/render.js';
import { loadMailTemplates } from '../../src/newsletter/email/templates.js';
import { makeSite, post } from '../helpers.js';

const emailPost = (fields: Partial<EmailPost> = {}): EmailPost => ({
  title: 'Tom & Jerry <3',
  url: 'https://example.com/tom/',
  html: '<p>Hello <img src="https://example.com/tom/a.png" alt="A"></p><pre><code>x &lt; 1</code></pre><table><tr><th>A</th></tr><tr><td>1</td></tr></table>',
  summary: 'A short summary.',
  date: new Date('2026-01-26T00:00:00Z'),
  topics: ['work'],
  authors: [],
  ...fields,
});

function config(dir: string) {
  return parseConfig({ site: { title: 'News & Notes', url: 'https://example.com/' }, templates: 'templates', state: '.herald' }, join(dir, 'herald.config.yml'), dir);
}

test('the default email: inlined CSS, preheader, code styling, post link and a visible unsubscribe link', async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const draft = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  assert.equal(draft.subject, 'Tom & Jerry <3');
  // Inlined, all but the dark-mode media query, which only a <style> can carry.
  assert.doesNotMatch(draft.html.replace(/<style>\s*@media \(prefers-color-scheme: dark\)[^<]*<\/style>/, ''), /<style/, 'CSS is inlined');
  assert.match(draft.html, /<h1 style="[^"]+">Tom &amp; Jerry &lt;3<\/h1>/);
  assert.match(draft.html, /<div class="preheader" style="display:none[^"]*">A short summary\.<\/div>/);
  assert.match(draft.html, /<pre style="[^"]*background: #f6f8fa/);
  assert.match(draft.html, /<a href="https:\/\/example\.com\/tom\/"[^>]*>Read “Tom &amp; Jerry &lt;3” on the web<\/a>/);
  assert.match(draft.html, /name="viewport"/);

  const email = personalise(draft, { name: 'Ann <script>', email: 'ann@example.com', unsubscribeUrl: 'https://example.com/unsubscribe?token=a&b' });
  assert.match(email.html, /<a href="https:\/\/example\.com\/unsubscribe\?token=a&amp;b"[^>]*>Unsubscribe<\/a>/);
  assert.match(email.html, /as ann@example\.com\./);
  assert.doesNotMatch(email.html, /\uE000|\uE001/);
  assert.match(email.text, /Unsubscribe: https:\/\/example\.com\/unsubscribe\?token=a&b\n$/);
  assert.doesNotMatch(email.text, /A short summary/, 'no hidden preheader in the text part');
  assert.match(email.text, /^Tom & Jerry <3\nJanuary 26, 2026\n/);
  assert.doesNotMatch(email.text, /\n\n\n/);
  // Images read as their alt text; the signature separator is "-- ", which mail clients know.
  assert.match(email.text, /Hello \[A\]/);
  assert.match(email.text, /\n-- \nYou get this because/);
});

test('in the text part a linked image is its alt text and the link; an image without alt text leaves nothing', async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const html = '<p><a href="https://example.com/big.png"><img src="https://example.com/small.png" alt="The harbour at dawn"></a></p><p>Before <img src="https://example.com/x.png"> after.</p>';
  const draft = await renderEmail([emailPost({ html })], loadMailTemplates(cfg, site.dir), cfg);
  const { text } = personalise(draft, { name: '', email: 'a@example.com', unsubscribeUrl: 'https://example.com/u?t=1' });
  assert.match(text, /\[The harbour at dawn\] \[?https:\/\/example\.com\/big\.png\]?/);
  assert.match(text, /Before after\./);
});

test('the default email survives mail clients: code wraps, tables get borders, no height="auto", a dark palette, and digests list their posts', async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const templates = loadMailTemplates(cfg, site.dir);
  const draft = await renderEmail([emailPost()], templates, cfg);
  assert.match(draft.html, /<pre style="[^"]*white-space: pre-wrap; word-break: break-word/);
  assert.doesNotMatch(draft.html, /<pre style="[^"]*overflow-x/);
  assert.match(draft.html, /<table style="border-collapse: collapse/);
  assert.match(draft.html, /<td style="border: 1px solid #d0d7de/);
  assert.doesNotMatch(draft.html, /\sheight="auto"/, 'an invalid attribute that Outlook renders as a squashed image');
  assert.match(draft.html, /<meta name="color-scheme" content="light dark">/);
  assert.match(draft.html, /<meta name="supported-color-schemes" content="light dark">/);
  assert.match(draft.html, /@media \(prefers-color-scheme: dark\)/, 'kept in a <style> for the clients that honour it');

  const digest = await renderEmail([emailPost({ title: 'One', url: 'https://example.com/one/' }), emailPost({ title: 'Two', url: 'https://example.com/two/' })], templates, cfg);
  assert.match(digest.html, /<ul class="contents"[^>]*><li><a href="https:\/\/example\.com\/one\/"[^>]*>One<\/a><\/li><li><a href="https:\/\/example\.com\/two\/"[^>]*>Two<\/a><\/li><\/ul>/);
  assert.equal(digest.html.match(/<hr class="divider"/g)?.length, 1, 'a divider between the two posts');
  assert.match(digest.text, /^In this email:\n- One\n- Two\n\nOne\n/);
  assert.match(digest.text, /\n\* \* \*\n\nTwo\n/);
  assert.doesNotMatch(draft.html + draft.text, /In this email|class="divider"/, 'one post: no contents, no divider');
});

test('what readers would miss is said by check, preview and send: an image without alt text, a relative link, a template without an unsubscribe link', async (t) => {
  const body = 'A picture: ![](https://example.com/x.png)\n\nA decorative one: <img src="https://example.com/line.png" alt="" role="presentation">\n\n<a href="other-page.html">a relative link</a>\n\n<img src="data:image/png;base64,iVBORw0KGgo=" alt="A dot">\n';
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01', body }) }, 'email:\n  address: PO Box 1, Bristol\n');
  const check = await site.run('check', '--now', '2026-06-01');
  assert.equal(check.code, 0, check.err);
  assert.match(check.err, /warning: posts\/hello\.md: its email: an image has no alt text \(https:\/\/example\.com\/x\.png\)/);
  assert.doesNotMatch(check.err, /line\.png/, 'role="presentation" marks an image as decorative');
  assert.match(check.err, /an image is written into the HTML \(a data: URL\): Gmail and Outlook do not show them/);
  const preview = await site.run('preview', 'hello');
  assert.match(preview.err, /warning: an image has no alt text/);
  // Links in the post are made absolute against its URL, so none is left relative there; one a
  // template writes is caught.
  await site.write('templates/email.html', '<html><body><a href="about/">About</a>{{ post.html | raw }}</body></html>');
  const custom = await site.run('check', '--now', '2026-06-01');
  assert.match(custom.err, /relative links that lead nowhere from an inbox: about\//);
  assert.match(custom.err, /the email template shows no unsubscribe link/);
});

test('check lints the email of every post the next pass would send, and of the digest in digest mode', async (t) => {
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01', body: '![](https://example.com/old.png)' }) }, 'email:\n  address: PO Box 1, Bristol\n');
  // The first pass sets the baseline: old.md is never mailed, so its email is no longer linted.
  assert.equal((await site.run('run', '--now', '2026-02-01')).code, 0);
  await site.write('posts/due-a.md', post({ title: 'Due A', date: '2026-03-01', body: '![](https://example.com/a.png)' }));
  await site.write('posts/due-b.md', post({ title: 'Due B', date: '2026-03-02', body: '![](https://example.com/b.png)' }));
  const check = await site.run('check', '--now', '2026-04-01');
  assert.equal(check.code, 0, check.err);
  assert.match(check.err, /warning: posts\/due-a\.md: its email: an image has no alt text \(https:\/\/example\.com\/a\.png\)/);
  assert.match(check.err, /warning: posts\/due-b\.md: its email: an image has no alt text \(https:\/\/example\.com\/b\.png\)/);
  assert.doesNotMatch(check.err, /old\.png/, 'a post from before the baseline is not due');

  await site.write('herald.config.yml', 'email:\n  address: PO Box 1, Bristol\n  mode: digest\n');
  const digest = await site.run('check', '--now', '2026-04-01');
  assert.match(digest.err, /warning: the digest of posts\/due-a\.md, posts\/due-b\.md: 2 images have no alt text \(https:\/\/example\.com\/a\.png, https:\/\/example\.com\/b\.png\)/);
});

test('check warns when one-click unsubscribe cannot work: passes ran, but no herald start ever answered at web.url', async (t) => {
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, 'site:\n  url: https://ada.example.com/\nemail:\n  address: PO Box 1, Bristol\n');
  assert.doesNotMatch((await site.run('check')).err, /one-click/, 'nothing has been sent yet');
  // Passes from cron, the site on a static host: the provider's POST to the link would get a 404.
  assert.equal((await site.run('run')).code, 0);
  const cron = await site.run('check');
  assert.match(cron.err, /warning: one-click unsubscribe cannot work: emails point at https:\/\/ada\.example\.com\/unsubscribe, but no herald start has served this newsletter/);
  // A herald start elsewhere, named by web.url: the links and the forms go there.
  await site.write('herald.config.yml', 'site:\n  url: https://ada.example.com/\nweb:\n  url: https://news.example.com/herald\nemail:\n  address: PO Box 1, Bristol\n');
  assert.doesNotMatch((await site.run('check')).err, /one-click/);
  const preview = await site.run('preview', 'hello');
  assert.equal(preview.code, 0, preview.err);
  const eml = await site.read('.herald/preview/hello.txt').catch(() => '');
  const shown = preview.out + eml;
  assert.match(shown, /https:\/\/news\.example\.com\/herald\/unsubscribe\?token=/);
  assert.equal((await site.run('build')).code, 0);
  assert.match(await site.read('public/hello/index.html'), /action="https:\/\/news\.example\.com\/herald\/subscribe"/);
});

test("check names what the major mail clients drop from the writer's own template, with its line and the clients (caniemail)", async (t) => {
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, 'email:\n  address: PO Box 1, Bristol\n');
  const plain = await site.run('check', '--now', '2026-06-01');
  assert.doesNotMatch(plain.err, /is dropped by/, "herald's own templates are not linted");
  await site.write(
    'templates/email.html',
    '<html>\n<head>\n<style>\n  .card { padding: 8px; }\n  .round { border-radius: 8px; }\n</style>\n</head>\n<body>{{ post.html | raw }}<a href="{{ unsubscribe_url }}">Unsubscribe</a></body>\n</html>\n',
  );
  const custom = await site.run('check', '--now', '2026-06-01');
  assert.equal(custom.code, 0, custom.err);
  assert.match(custom.err, /warning: templates\/email\.html:5: border-radius is dropped by Outlook \(Windows, Windows Mail\)/);
});

test("an image herald publishes gets a width, the column's or its own, whichever is smaller; others keep theirs", async (t) => {
  // A PNG's size is in its header: enough of one for a reader of image sizes.
  const png = (width: number, height: number) => {
    const header = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header, 0);
    header.writeUInt32BE(13, 8);
    header.write('IHDR', 12, 'ascii');
    header.writeUInt32BE(width, 16);
    header.writeUInt32BE(height, 20);
    return header;
  };
  const body = '![A wide view](/big.png)\n\n![An icon](/small.png)\n\n![From elsewhere](https://cdn.example.org/x.png)\n\n<img src="/big.png" alt="Given" width="300" height="90">\n';
  const site = await makeSite(t, { 'hello.md': `---\ntitle: Hello\ndate: 2026-01-01\nimage: /small.png\n---\n${body}` });
  await mkdir(join(site.dir, 'static'));
  await writeFile(join(site.dir, 'static/big.png'), png(4000, 1200));
  await writeFile(join(site.dir, 'static/small.png'), png(100, 40));
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  const result = await site.run('preview', 'hello');
  assert.equal(result.code, 0, result.err);
  const html = await site.read('.herald/preview/hello.html');
  assert.match(html, /<img width="552" src="https:\/\/example\.com\/big\.png" alt="A wide view"/);
  assert.match(html, /<img width="100" src="https:\/\/example\.com\/small\.png" alt="An icon"/);
  assert.match(html, /<img src="https:\/\/cdn\.example\.org\/x\.png" alt="From elsewhere"/);
  assert.match(html, /<img width="300" src="https:\/\/example\.com\/big\.png" alt="Given"/);
  assert.doesNotMatch(html, /<img[^>]*\sheight=/);
  // The cover too: a small one is not stretched to the column.
  assert.match(html, /<img src="https:\/\/example\.com\/small\.png" alt(="")? role="presentation" width="100"/);
});

test('without email.txt the text part is made from the HTML, cleanly', async (t) => {
  const site = await makeSite(t);
  await site.write('templates/email.html', '<html><body><div class="preheader">{{ post.summary }}</div><table role="presentation"><tr><td>{{ post.html | raw }}</td><td><a href="{{ unsubscribe_url }}">Unsubscribe</a></td></tr></table></body></html>');
  const cfg = config(site.dir);
  const draft = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  const { text } = personalise(draft, { name: '', email: 'a@example.com', unsubscribeUrl: 'https://example.com/u?t=1' });
  assert.doesNotMatch(text, /A short summary/);
  assert.match(text, /Hello/);
  assert.match(text, /x < 1/);
  assert.match(text, /Unsubscribe \[https:\/\/example\.com\/u\?t=1\]/);
});

test('a Liquid error in a template names the file and line', async (t) => {
  const site = await makeSite(t);
  await site.write('templates/email.html', '<p>fine</p>\n<p>{% if post.title %}never closed</p>\n');
  assert.throws(() => loadMailTemplates(config(site.dir), site.dir), /templates\/email\.html:2: template error: .*tag \{% if post\.title %\} not closed/);
});

test('digest mode: one email for several posts', async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const draft = await renderEmail([emailPost({ title: 'One' }), emailPost({ title: 'Two' }), emailPost({ title: 'Three' })], loadMailTemplates(cfg, site.dir), cfg);
  assert.equal(draft.subject, 'News & Notes: One and 2 more');
  for (const title of ['One', 'Two', 'Three']) assert.match(draft.html, new RegExp(`>${title}</h1>`));
});

test("an email whose HTML is over 102 KB is warned about, as Gmail clips it; the text part does not count", async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const draft = await renderEmail([emailPost({ html: `<p>${'word '.repeat(25_000)}</p>` })], loadMailTemplates(cfg, site.dir), cfg);
  assert.match(draft.warnings[0]!, /the email's HTML is 12\d KB: Gmail clips it after 102 KB/);
  // About 60 KB of HTML and as much text: under the line.
  const under = await renderEmail([emailPost({ html: `<p>${'word '.repeat(11_000)}</p>` })], loadMailTemplates(cfg, site.dir), cfg);
  assert.ok(Buffer.byteLength(under.html) + Buffer.byteLength(under.text) > 102 * 1024);
  assert.deepEqual(under.warnings, []);
});

test('email.address, the postal address, is in the footer of both parts; check warns when it is missing', async (t) => {
  const site = await makeSite(t, { 'hello.md': '---\ntitle: Hello\ndate: 2026-01-01\n---\nHi.\n' });
  const withAddress = parseConfig({ site: { title: 'News', url: 'https://example.com/' }, email: { address: 'Ada Writer, 12 Harbour Lane, Bristol BS1 4AA, UK' } }, join(site.dir, 'herald.config.yml'), site.dir);
  const draft = await renderEmail([emailPost()], loadMailTemplates(withAddress, site.dir), withAddress);
  assert.match(draft.html, /<p[^>]*>Ada Writer, 12 Harbour Lane, Bristol BS1 4AA, UK<\/p>/);
  assert.match(draft.text, /\nAda Writer, 12 Harbour Lane, Bristol BS1 4AA, UK\n$/);
  const check = await site.run('check');
  assert.equal(check.code, 0, check.err);
  assert.match(check.err, /email\.address is not set/);
  await site.write('herald.config.yml', 'email:\n  address: PO Box 12, Bristol\n');
  assert.doesNotMatch((await site.run('check')).err, /email\.address/);
});

test('herald preview writes the HTML and text of a post email and prints their paths', async (t) => {
  const site = await makeSite(t, { '2026-01-26-hello.md': post({ title: 'Hello', summary: 'Hi there', body: '![pic](pic.png)\n\nText.\n' }) });
  const result = await site.run('preview', 'hello');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /^subject: Hello\nhtml: \.herald\/preview\/hello\.html\ntext: \.herald\/preview\/hello\.txt\nsize: HTML \d+\.\d KB \(Gmail clips after 102 KB\), text \d+\.\d KB\n/);
  // Screenshots of the HTML part as a phone and a desktop show it, light and dark (Chromium).
  const shots = ['375-light', '375-dark', '800-light', '800-dark'].map((name) => `.herald/preview/hello-${name}.png`);
  assert.match(result.out, new RegExp(`\\nscreenshots: ${shots.join(', ').replace(/[.]/g, '\\.')}$`));
  for (const shot of shots) assert.equal((await readFile(join(site.dir, shot))).subarray(1, 4).toString(), 'PNG');
  const { main } = await import('../../src/cli.js');
  const err: string[] = [];
  assert.equal(await main(['preview', 'hello'], { cwd: site.dir, env: { HERALD_CHROMIUM: '/nowhere/chromium' }, out: () => {}, err: (line) => err.push(line) }), 0);
  assert.match(err.join('\n'), /no screenshots: HERALD_CHROMIUM is \/nowhere\/chromium, which does not exist/);
  const html = await site.read('.herald/preview/hello.html');
  assert.match(html, /src="https:\/\/example\.com\/hello\/pic\.png"/);
  assert.match(await site.read('.herald/preview/hello.txt'), /Unsubscribe: https:\/\/example\.com\/unsubscribe\?token=/);
  const byFile = await site.run('preview', 'posts/2026-01-26-hello.md');
  assert.equal(byFile.code, 0);
  const missing = await site.run('preview', 'helo');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no post with slug or file "helo"/);
});

test('personalising takes values literally: "$&" or "$`" in an address or a name is not expanded', async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const draft = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  const email = personalise(draft, { name: 'A $& B', email: "tom$&jerry$`$'@example.com", unsubscribeUrl: 'https://example.com/u?t=$&' });
  assert.match(email.text, /as tom\$&jerry\$`\$'@example\.com\./);
  assert.match(email.text, /Unsubscribe: https:\/\/example\.com\/u\?t=\$&\n$/);
  assert.doesNotMatch(email.html + email.text, /\uE000|\uE001/);
  assert.ok(email.html.length < draft.html.length + 200, 'nothing was duplicated');
});

test("a template that does more with a reader's values than show them is rendered for each reader; one that shows them is rendered once", async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  await mkdir(join(site.dir, 'templates'), { recursive: true });
  // A filter, a default, a condition, a link built around a value, an assigned value in a partial.
  await writeFile(
    join(site.dir, 'templates', 'email.txt'),
    'Hi {{ subscriber.name | upcase }}, dear {{ subscriber.name | default: "friend" }}.\n{% if subscriber.name != "" %}named{% else %}nameless{% endif %}\n{% include "_sign.txt" %}\nUnsubscribe: {{ unsubscribe_url }}\n',
  );
  await writeFile(join(site.dir, 'templates', '_sign.txt'), '{% assign first = subscriber.name | split: " " | first %}Yours, for {{ first }}');
  await writeFile(join(site.dir, 'templates', 'email.html'), '<p>{{ post.title }}</p><a href="/prefs?e={{ subscriber.email }}">Preferences</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a>');
  const draft = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  assert.ok(draft.perReader, 'rendered per reader');
  assert.match(draft.warnings.join('\n'), /templates\/email\.txt line 1 uses subscriber in a filter or a tag: herald renders this email again for each reader/);
  assert.doesNotMatch(draft.warnings.join('\n'), /shows no unsubscribe link/);

  const ann = { name: 'Ann Lee', email: 'ann@example.com', unsubscribeUrl: 'https://example.com/u?t=ann' };
  const annEmail = personalise(await readerDraft(draft, ann), ann);
  assert.equal(annEmail.text, 'Hi ANN LEE, dear Ann Lee.\nnamed\nYours, for Ann\nUnsubscribe: https://example.com/u?t=ann\n');
  assert.match(annEmail.html, /<a href="https:\/\/example\.com\/prefs\?e=ann@example\.com">Preferences<\/a>/);
  const nameless = { name: '', email: 'bo@example.com', unsubscribeUrl: 'https://example.com/u?t=bo' };
  const boEmail = personalise(await readerDraft(draft, nameless), nameless);
  assert.equal(boEmail.text, 'Hi , dear friend.\nnameless\nYours, for \nUnsubscribe: https://example.com/u?t=bo\n');
  assert.match(boEmail.html, /prefs\?e=bo@example\.com/);
  assert.doesNotMatch(annEmail.html + annEmail.text + boEmail.html + boEmail.text, /[\uE000\uE001]|%EE%80/i);

  // A value shown as it is, whitespace control and all: rendered once, and the same words.
  await writeFile(join(site.dir, 'templates', 'email.txt'), 'Hi {{- subscriber.name -}}! {{subscriber.email}}\nUnsubscribe: {{ unsubscribe_url }}\n');
  await writeFile(join(site.dir, 'templates', 'email.html'), '<p>Hi {{ subscriber.name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>');
  const once = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  assert.equal(once.perReader, undefined);
  assert.deepEqual(once.warnings, []);
  assert.equal(personalise(once, ann).text, 'HiAnn Lee! ann@example.com\nUnsubscribe: https://example.com/u?t=ann\n');
});

test("the built-in templates show a reader's values as they are: each email is rendered once for every reader", async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  assert.equal((await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg)).perReader, undefined);
  assert.equal((await renderEmail([emailPost(), emailPost({ title: 'Two' })], loadMailTemplates(cfg, site.dir), cfg)).perReader, undefined);
  assert.equal((await renderConfirmation(loadMailTemplates(cfg, site.dir, 'confirm'), cfg, 7)).perReader, undefined);
});

test("what the analysis cannot follow makes an email per reader too: an include named by a variable, a capture around a partial that shows a reader's value", async (t) => {
  const site = await makeSite(t);
  const cfg = config(site.dir);
  const grace = { name: '', email: 'grace@example.com', unsubscribeUrl: 'https://example.com/u?t=g' };
  await site.write('templates/greet.html', '{% if subscriber.name == "" %}Dear reader{% else %}Dear {{ subscriber.name }}{% endif %} size={{ subscriber.name | size }}');
  await site.write('templates/email.html', '{% assign p = "greet.html" %}{% include p %} <a href="{{ unsubscribe_url }}">Unsubscribe</a>');
  const dynamic = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  assert.ok(dynamic.perReader);
  assert.match(dynamic.warnings.join('\n'), /includes a partial named by a variable/);
  assert.match(personalise(await readerDraft(dynamic, grace), grace).html, /Dear reader size=0/);

  await site.write('templates/name.html', '{{ subscriber.name }}');
  await site.write('templates/email.html', '{% capture n %}{% include "name.html" %}{% endcapture %}{% if n == "" %}Dear reader{% else %}Dear {{ n }}{% endif %} len={{ n.size }} <a href="{{ unsubscribe_url }}">Unsubscribe</a>');
  const captured = await renderEmail([emailPost()], loadMailTemplates(cfg, site.dir), cfg);
  assert.ok(captured.perReader);
  assert.match(captured.warnings.join('\n'), /captures text while .* shows a reader's value/);
  assert.match(personalise(await readerDraft(captured, grace), grace).html, /Dear reader len=0/);
});
