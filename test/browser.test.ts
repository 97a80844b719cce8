import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { BUILT_CLI, makeSite, post } from './helpers.js';
import { startSmtpSink } from './smtp.js';

const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Resolves once the worker has exited: the site folder is removed after, not while herald still
// writes to it (a confirmation leaving its queue, a pass).
function stop(worker: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    worker.kill(signal);
  });
}

async function until<T>(find: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('in a real browser: open the archive, subscribe, confirm from the email, unsubscribe from a post email', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello, readers', date: '2026-01-01', summary: 'The first post.' }) }, `site:\n  title: Browser News\n  url: ${base}\nschedule: "* * * * * *"\n`);
  const worker = spawn(process.execPath, [BUILT_CLI, 'start', '--port', String(port)], { cwd: site.dir, env: { ...process.env, HERALD_SMTP_URL: sink.url } });
  let log = '';
  worker.stdout.on('data', (data) => (log += data));
  worker.stderr.on('data', (data) => (log += data));
  t.after(() => stop(worker, 'SIGKILL'));
  await until(() => (/next pass at/.test(log) ? true : undefined), 15_000, 'the worker');

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await mkdir(ARTIFACTS, { recursive: true });

  await page.goto(base);
  assert.equal(await page.title(), 'Browser News');
  assert.equal(await page.locator('link[rel=alternate][type="application/rss+xml"]').getAttribute('href'), `${base}rss.xml`);
  await page.screenshot({ path: join(ARTIFACTS, 'archive.png'), fullPage: true });
  await page.click('text=Hello, readers');
  assert.match(await page.locator('h1').innerText(), /Hello, readers/);

  await page.goto(`${base}subscribe`);
  await page.screenshot({ path: join(ARTIFACTS, 'subscribe.png'), fullPage: true });
  await page.fill('input[name=email]', 'reader@example.com');
  await page.fill('input[name=name]', 'Reader');
  await page.click('button[type=submit]');
  assert.match(await page.locator('body').innerText(), /confirmation link is on its way/);

  const confirmation = await until(() => sink.received.find((mail) => /Confirm your subscription/.test(mail.mail.subject ?? '')), 10_000, 'the confirmation email');
  const confirmLink = /(http:\/\/\S+\/confirm\?token=\S+)/.exec(confirmation.mail.text ?? '')![1]!;
  await page.goto(confirmLink);
  assert.match(await page.locator('h1').innerText(), /Confirm your subscription/);
  await page.click('button[type=submit]');
  assert.match(await page.locator('h1').innerText(), /You are subscribed/);
  const subscriber = async () => (JSON.parse((await site.run('subscribers', 'list', '--json')).out) as { email: string; name: string; status: string }[]).find((row) => row.email === 'reader@example.com');
  assert.deepEqual({ ...(await subscriber()) }, { ...(await subscriber()), name: 'Reader', status: 'active' });

  await site.write('posts/second.md', post({ title: 'Second post', date: new Date(Date.now() + 1500).toISOString() }));
  const postEmail = await until(() => sink.received.find((mail) => mail.mail.subject === 'Second post'), 15_000, 'the post email');
  const unsubscribeLink = /href="(http:\/\/[^"]+\/unsubscribe\?token=[^"]+)"/.exec(String(postEmail.mail.html))![1]!.replace(/&amp;/g, '&');
  await page.goto(unsubscribeLink);
  await page.click('button[type=submit]');
  assert.match(await page.locator('h1').innerText(), /Unsubscribed/);
  assert.equal((await subscriber())?.status, 'unsubscribed');
  await stop(worker, 'SIGTERM');
});

test('in a real browser: the archive opened by another name than site.url (127.0.0.1 for localhost) still subscribes through its form', async (t) => {
  const port = await freePort();
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello', date: '2026-01-01' }) }, `site:\n  title: Named News\n  url: http://localhost:${port}/\nschedule: "0 0 1 1 *"\n`);
  const worker = spawn(process.execPath, [BUILT_CLI, 'start', '--port', String(port)], { cwd: site.dir });
  let log = '';
  worker.stdout.on('data', (data) => (log += data));
  worker.stderr.on('data', (data) => (log += data));
  t.after(() => stop(worker, 'SIGKILL'));
  await until(() => (/next pass at/.test(log) ? true : undefined), 15_000, 'the worker');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const blocked: string[] = [];
  page.on('console', (message) => blocked.push(message.text()));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.fill('form.subscribe input[name=email]', 'named@example.com');
  await page.click('form.subscribe button[type=submit]');
  await page.waitForLoadState();
  assert.match(await page.locator('body').innerText(), /confirmation link is on its way/, blocked.join('\n'));
  await stop(worker, 'SIGTERM');
});

test('in a real browser: a rich post email and a digest fit a phone and a desktop, in light and dark mode (nothing wider than the screen)', async (t) => {
  const { parseConfig } = await import('../src/config.js');
  const { renderEmail, personalise } = await import('../src/newsletter/email/render.js');
  const { loadMailTemplates } = await import('../src/newsletter/email/templates.js');
  const { renderMarkdown } = await import('../src/posts/markdown.js');
  const site = await makeSite(t);
  const config = parseConfig({ site: { title: 'Harbour Notes', url: 'https://example.com/' }, email: { address: '12 Harbour Lane, Bristol' } }, join(site.dir, 'herald.config.yml'), site.dir);
  const markdown = [
    'A post with everything a writer puts in one.',
    '',
    '```js',
    `const aVeryLongLineOfCodeThatNoPhoneScreenCouldEverShowInOneLine = ${JSON.stringify('x'.repeat(120))}; // and a comment`,
    '```',
    '',
    '| Harbour | High tide | Low tide | A long column heading nobody expected |',
    '| --- | --- | --- | --- |',
    '| Bristol | 06:12 | 12:30 | https://example.com/a/very/long/address/without/any/spaces/at/all/in/it |',
    '',
    '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%224000%22 height=%22400%22/%3E" alt="A very wide picture">',
    '',
    '> A quote, to see it on a dark background. ' + 'Words '.repeat(30),
    '',
    `An unbroken word: ${'supercalifragilistic'.repeat(8)}.`,
  ].join('\n');
  const post = (title: string) => ({ title, url: 'https://example.com/rich/', html: renderMarkdown(markdown, 'https://example.com/rich/').html, summary: 'Everything at once.', date: new Date('2026-03-01T00:00:00Z'), topics: ['sea'], authors: [] });
  const templates = loadMailTemplates(config, site.dir);
  const recipient = { name: 'Ann', email: 'ann@example.com', unsubscribeUrl: 'https://example.com/unsubscribe?token=t' };
  const emails = {
    rich: personalise(await renderEmail([post('Ünïcödé tides: 潮汐 and 🌊')], templates, config), recipient).html,
    digest: personalise(await renderEmail([post('One'), post('Two')], templates, config), recipient).html,
  };
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  await mkdir(ARTIFACTS, { recursive: true });
  for (const [name, html] of Object.entries(emails)) {
    for (const width of [375, 800]) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const page = await browser.newPage({ viewport: { width, height: 800 }, colorScheme });
        await page.setContent(html, { waitUntil: 'load' });
        // Measured in the page (a string: these tests are compiled without the DOM's types).
        const widest = (await page.evaluate(`(() => {
          let found = { right: 0, tag: '' };
          for (const element of document.querySelectorAll('body *')) {
            const right = element.getBoundingClientRect().right;
            if (right > found.right) found = { right, tag: element.tagName.toLowerCase() + '.' + element.className };
          }
          return { ...found, scroll: document.documentElement.scrollWidth, screen: window.innerWidth };
        })()`)) as { right: number; tag: string; scroll: number; screen: number };
        assert.ok(widest.right <= widest.screen + 1 && widest.scroll <= widest.screen, `${name} at ${width} px, ${colorScheme}: ${widest.tag} reaches ${widest.right} px, the page scrolls to ${widest.scroll} px`);
        if (colorScheme === 'dark') {
          const background = await page.evaluate(`getComputedStyle(document.querySelector('.card')).backgroundColor`);
          assert.equal(background, 'rgb(22, 27, 34)', 'the dark palette applies');
        }
        await page.screenshot({ path: join(ARTIFACTS, `email-${name}-${width}-${colorScheme}.png`), fullPage: true });
        await page.close();
      }
    }
  }
});

test('in a real browser: the RSS and Atom feeds open as a readable page through the feed stylesheet', async (t) => {
  const { parseConfig } = await import('../src/config.js');
  const { createWebServer } = await import('../src/web/server.js');
  const { testApp } = await import('./helpers.js');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const config = `site:\n  title: Feed Page News\n  url: ${base}\n  description: Notes from the harbour.\n`;
  const site = await makeSite(
    t,
    {
      'hello.md': post({ title: 'Hello, readers', date: '2026-01-01', summary: 'The first post.' }),
      'tricky.md': post({ title: 'Tags <img src=x onerror=alert(1)> & <script>alert(2)</script> stay text', date: '2026-01-02', summary: 'Its <b>summary</b> is text too.' }),
    },
    config,
  );
  assert.equal((await site.run('build')).code, 0);
  for (const name of ['rss.xml', 'atom.xml']) assert.match(await site.read(`public/${name}`), /<\?xml-stylesheet type="text\/xsl" href="[^"]*feed\.xsl"\?>/, name);
  const parsed = parseConfig({ site: { title: 'Feed Page News', url: base, description: 'Notes from the harbour.' } }, join(site.dir, 'herald.config.yml'), site.dir);
  const app = await testApp(t, site.dir, parsed);
  const server = createWebServer({ config: parsed, cwd: site.dir, newsletter: app.newsletter });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  // Chrome is removing XSLT (chromestatus.com/feature/4709671889534976): a browser without it shows the XML.
  if (!(await page.evaluate('typeof XSLTProcessor !== "undefined"'))) return t.skip(`${browser.version()} no longer runs XSLT`);
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/.test(message.text())) refused.push(message.text());
  });
  await mkdir(ARTIFACTS, { recursive: true });
  for (const name of ['rss.xml', 'atom.xml']) {
    const response = await page.goto(`${base}${name}`);
    assert.equal(response?.headers()['content-type'], 'application/xml; charset=utf-8', name);
    assert.equal(response?.headers()['content-encoding'], 'br', name);
    assert.equal(await page.locator('h1').innerText(), 'Feed Page News', name);
    const text = await page.locator('body').innerText();
    assert.match(text, /Notes from the harbour\./, name);
    assert.match(text, /This is a web feed\. Copy its address into your feed reader app to follow new posts\./, name);
    assert.equal(await page.locator('.note code').innerText(), `${base}${name}`, name);
    assert.doesNotMatch(text, /<rss|<feed|<channel/, name);
    const posts = page.locator('.posts li');
    assert.equal(await posts.count(), 2, name);
    assert.equal(await posts.nth(1).locator('h2 a').innerText(), 'Hello, readers', name);
    assert.equal(await posts.nth(1).locator('h2 a').getAttribute('href'), `${base}hello/`, name);
    assert.match(await posts.nth(1).innerText(), /The first post\./, name);
    assert.match(await posts.nth(1).locator('time').innerText(), /2026|Jan/, name);
    assert.match(await posts.nth(0).innerText(), /Its <b>summary<\/b> is text too\./, name);
    // What a post says is shown as its words: nothing in it becomes an element on the page.
    assert.equal(await posts.nth(0).locator('h2 a').innerText(), 'Tags <img src=x onerror=alert(1)> & <script>alert(2)</script> stay text', name);
    assert.equal(await page.locator('img, script, b').count(), 0, name);
    // Chromium's banner about removing XSLT covers the title: its close button must work.
    const banner = page.locator('xslt-warning-banner');
    if (await banner.count()) await banner.locator('button').click();
    assert.equal(await banner.count(), 0, name);
    await page.screenshot({ path: join(ARTIFACTS, `feed-${name.replace('.', '-')}.png`), fullPage: true });
  }
  // A feed from elsewhere (a writer's copy, a hand edit): links that would run script are shown as text.
  const { writeOutput } = await import('../src/output.js');
  const item = (link: string) => `<item><title>Go ${link.split(':')[0]}</title><link>${link}</link><description>&lt;img src=x onerror=alert(3)&gt; &amp;amp; more</description></item>`;
  await writeOutput(
    join(site.dir, 'public/hostile/rss.xml'),
    `<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="${base}feed.xsl"?><rss version="2.0"><channel><title>Hostile</title><link>javascript:alert(1)</link>${item('javascript:alert(2)')}${item(' JavaScript:alert(4)')}${item('data:text/html,hi')}${item('https://example.com/ok')}</channel></rss>`,
  );
  await page.goto(`${base}hostile/rss.xml`);
  assert.equal(await page.locator('h1').innerText(), 'Hostile');
  assert.deepEqual(await page.evaluate('[...document.querySelectorAll("a")].map((link) => link.getAttribute("href"))'), ['https://example.com/ok']);
  // An RSS description is HTML: its tags are dropped, its entities read.
  assert.match(await page.locator('.posts li').first().innerText(), /^Go javascript\s+& more$/);
  assert.equal(await page.locator('img').count(), 0);
  assert.deepEqual(refused, []);
});
