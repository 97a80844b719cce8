import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { workspace } from './helpers.js';

test('herald init makes a site whose config explains itself and passes check, and whose build writes the feeds', async (t) => {
  const space = await workspace(t);
  const result = await space.run('.', '--now', '2026-03-01T10:00:00Z', 'init', 'letters');
  assert.equal(result.code, 0, result.err);
  // This checkout's CLI, as a writer without herald installed runs it.
  const cli = `node ${join(import.meta.dirname, '../../dist/cli.js')}`;
  assert.equal(
    result.out,
    [
      'made a new herald site in letters/:',
      '  herald.config.yml            the settings, each key explained in a comment',
      '  posts/2026-03-01-welcome.md  an example post, dated today (2026-03-01)',
      '  .gitignore                   keeps .herald/ (subscribers, the signing secret), outbox/ and public/ out of git',
      'next:',
      '  cd letters',
      // Outside herald's own folder, and with no herald on PATH, npx would ask the registry for another package.
      `  ${cli} start            builds the site and serves it at http://127.0.0.1:8080/ (mail goes to outbox/ until smtp is set)`,
      `  ${cli} preview welcome  the example post as an email, in .herald/preview/`,
    ].join('\n'),
  );

  const text = await space.read('letters/herald.config.yml');
  for (const key of ['title', 'description', 'author', 'timezone', 'language', 'posts', 'permalink', 'feed', 'from', 'schedule', 'web']) {
    assert.match(text, new RegExp(`^\\s*${key}:`, 'm'), key);
  }
  // Unset, links follow where herald start serves, whatever its port.
  assert.match(text, /^ {2}# url: https:\/\/news\.example\.com\/$/m);
  assert.match(text, /^# smtp:\n#   url: smtps:/m);
  assert.match(text, /HERALD_SMTP_URL/);
  const config = loadConfig(join(space.root, 'letters/herald.config.yml'), space.root);
  assert.equal(config.smtp.url, undefined);
  assert.equal(config.paths.posts, join(space.root, 'letters/posts'));

  const post = await space.read('letters/posts/2026-03-01-welcome.md');
  assert.match(post, /^---\ntitle: Welcome\ndate: 2026-03-01\ntopics: \[news\]\n---\n/);
  const ignore = await space.read('letters/.gitignore');
  for (const line of ['.herald/', 'outbox/', 'public/']) assert.match(ignore, new RegExp(`^${line.replace('.', '\\.')}$`, 'm'));
  assert.match(ignore, /subscriber database \(readers' names and email addresses/);
  assert.match(ignore, /the secret that signs every unsubscribe link/);

  const check = await space.run('letters', '--now', '2026-03-01T10:00:00Z', 'check');
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /1 published, 0 draft, 0 scheduled, no problems/);
  const build = await space.run('letters', '--now', '2026-03-01T10:00:00Z', 'build');
  assert.equal(build.code, 0, build.err);
  for (const feed of ['rss.xml', 'atom.xml', 'feed.json', 'topics/news/rss.xml']) assert.match(await space.read(`letters/public/${feed}`), /Welcome/, feed);
  assert.ok(existsSync(join(space.root, 'letters/public/welcome/index.html')));
});

test("herald init with no folder uses the working directory, dated today in the site's zone", async (t) => {
  const space = await workspace(t, { 'here/.git/HEAD': 'ref: refs/heads/main\n' });
  const result = await space.run('here', 'init');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /^made a new herald site in this folder:/);
  assert.doesNotMatch(result.out, /cd /);
  const [name] = readdirSync(join(space.root, 'here/posts'));
  const zone = loadConfig(join(space.root, 'here/herald.config.yml'), space.root).site.timezone;
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  assert.equal(name, `${today}-welcome.md`);
  // Published at once: the build puts it in the feeds.
  const build = await space.run('here', 'build');
  assert.equal(build.code, 0, build.err);
  assert.match(await space.read('here/public/rss.xml'), /<title><!\[CDATA\[Welcome\]\]><\/title>/);
});

test('herald init refuses a folder with a config or posts, naming them, and changes nothing', async (t) => {
  const space = await workspace(t, {
    'old/herald.config.yml': 'site:\n  title: Old\n',
    'old/posts/2025-01-01-first.md': '---\ntitle: First\ndate: 2025-01-01\n---\n',
    'old/posts/.gitkeep': '',
  });
  const result = await space.run('.', 'init', 'old');
  assert.equal(result.code, 2);
  assert.equal(
    result.err,
    [
      'herald: old/herald.config.yml: already exists: this folder has a herald site (edit that config, or run herald init in a new folder)',
      'herald: old/posts: already holds 2025-01-01-first.md (herald init never overwrites: run it in a new folder, or use herald init --from to publish an existing blog)',
    ].join('\n'),
  );
  assert.equal(await space.read('old/herald.config.yml'), 'site:\n  title: Old\n');
  assert.deepEqual(readdirSync(join(space.root, 'old/posts')).sort(), ['.gitkeep', '2025-01-01-first.md']);
  assert.equal(existsSync(join(space.root, 'old/.gitignore')), false);
});

test('an empty posts folder and an existing .gitignore are fine: the .gitignore is added to, not replaced', async (t) => {
  const space = await workspace(t, { 'site/posts/.gitkeep': '', 'site/.gitignore': 'node_modules/\n/public\n' });
  const result = await space.run('site', 'init');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /\.gitignore +was there: herald added \.herald\/, outbox\/ to it/);
  const ignore = await space.read('site/.gitignore');
  assert.ok(ignore.startsWith('node_modules/\n/public\n\n# herald'));
  assert.match(ignore, /^\.herald\/$/m);
  assert.match(ignore, /^outbox\/$/m);
  assert.doesNotMatch(ignore, /^public\/$/m);
  const again = await space.run('site', 'init');
  assert.equal(again.code, 2);
});

test('usage mistakes: --to without --from, a folder with --from, a --from that is not a blog', async (t) => {
  const space = await workspace(t, { 'notes/readme.md': '# Notes\n' });
  const to = await space.run('.', 'init', '--to', 'x.yml');
  assert.equal(to.code, 2);
  assert.match(to.err, /^herald: --to goes with --from/);
  const both = await space.run('.', 'init', 'site', '--from', 'notes');
  assert.equal(both.code, 2);
  assert.match(both.err, /herald init --from takes no folder of its own \("site"\)/);
  const missing = await space.run('.', 'init', '--from', 'nowhere');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--from nowhere: no such folder/);
  const notBlog = await space.run('.', 'init', '--from', 'notes');
  assert.equal(notBlog.code, 2);
  assert.match(notBlog.err, /^herald: notes: is not a Jekyll, Hugo or Eleventy blog herald can read/);
  assert.equal(existsSync(join(space.root, 'herald.config.yml')), false);
  const help = await space.run('.', 'init', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: herald init \[options\] \[dir\]/);
  assert.match(help.out, /--from <dir>/);
  assert.match(help.out, /--to <file>/);
});
