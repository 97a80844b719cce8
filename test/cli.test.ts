import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BUILT_CLI, makeSite, post } from './helpers.js';


test('the herald executable runs as a program, with --version and --help', async () => {
  const run = (...args: string[]) => promisify(execFile)(process.execPath, [BUILT_CLI, ...args]);
  const version = await run('--version');
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await run('--help');
  for (const command of ['build', 'check', 'status']) assert.match(help.stdout, new RegExp(`^  ${command}`, 'm'));
  assert.match(help.stdout, /--config <file>/);
  assert.match(help.stdout, /--now <iso-8601>/);
});

test('every command has --help, which shows the global options too', async (t) => {
  const site = await makeSite(t);
  for (const command of ['build', 'check', 'status']) {
    const result = await site.run(command, '--help');
    assert.equal(result.code, 0);
    assert.match(result.out, new RegExp(`Usage: herald ${command}`));
    assert.match(result.out, /--config <file>/);
  }
});

test('usage mistakes exit 2 with a pointer to --help', async (t) => {
  const site = await makeSite(t);
  const unknown = await site.run('publish');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command 'publish'/);
  const badNow = await site.run('--now', 'tomorrow', 'build');
  assert.equal(badNow.code, 2);
  assert.match(badNow.err, /--now "tomorrow" is not a date herald can read \(give an ISO 8601 moment/);
});

test('check validates everything and writes nothing', async (t) => {
  const site = await makeSite(t, { 'ok.md': post(), 'bad.md': '---\ntitle: T\ndate: 2026-02-31\n---\n' });
  const result = await site.run('check', '--now', '2026-06-01');
  assert.equal(result.code, 1);
  assert.match(result.err, /posts\/bad\.md:3: date "2026-02-31" is not a real date/);
  assert.equal(existsSync(join(site.dir, 'public')), false);
  assert.equal(existsSync(join(site.dir, '.herald')), false);
  await site.write('posts/bad.md', post({ title: 'Fixed' }));
  const fixed = await site.run('check');
  assert.equal(fixed.code, 0, fixed.err);
  assert.match(fixed.out, /no problems/);
});

test('a missing posts folder is an error naming it, not an empty feed', async (t) => {
  const site = await makeSite(t, {}, 'posts: writing\n');
  for (const command of ['build', 'check', 'status']) {
    const result = await site.run(command);
    assert.equal(result.code, 1, command);
    assert.match(result.err, /herald: writing: cannot read the posts folder: there is no such folder \(ENOENT\) \(create it, or set "posts:"/, command);
  }
  assert.equal(existsSync(join(site.dir, 'public')), false);
});

test('global options work after the command name too', async (t) => {
  const site = await makeSite(t, { 'later.md': post({ title: 'Later', date: '2030-01-01' }) });
  const result = await site.run('build', '--now', '2030-01-02');
  assert.equal(result.code, 0, result.err);
  assert.match(await site.read('public/rss.xml'), /Later/);
});

test('status lists each post with its state and problems, as text or JSON', async (t) => {
  const site = await makeSite(
    t,
    {
      'out.md': post({ title: 'Out', date: '2026-01-26' }),
      'soon.md': post({ title: 'Soon', date: '2026-12-24 08:00' }),
      'wip.md': post({ title: 'WIP', draft: true }),
      'broken.md': '---\ntitle: Broken\n---\n',
    },
    'site:\n  url: https://example.com/\n  timezone: Europe/Berlin\n',
  );
  const text = await site.run('status', '--now', '2026-11-24T12:00:00Z');
  assert.equal(text.code, 1);
  assert.match(text.out, /^published 2026-01-26 00:00 +posts\/out\.md +Out$/m);
  assert.match(text.out, /^scheduled for 2026-12-24 08:00 +posts\/soon\.md +Soon$/m);
  assert.match(text.out, /^draft +posts\/wip\.md +WIP$/m);
  assert.match(text.out, /^invalid +posts\/broken\.md$/m);
  assert.match(text.out, /! posts\/broken\.md:1: the post has no date/);
  assert.match(text.out, /4 posts: 1 published, 1 scheduled, 1 draft, 1 invalid \(times in Europe\/Berlin\)/);

  const json = await site.run('status', '--json', '--now', '2026-11-24T12:00:00Z');
  const report = JSON.parse(json.out);
  const byFile = Object.fromEntries(report.posts.map((row: { file: string }) => [row.file, row]));
  assert.equal(byFile['posts/soon.md'].state, 'scheduled');
  assert.equal(byFile['posts/soon.md'].date, '2026-12-24T08:00:00.000+01:00');
  assert.equal(byFile['posts/out.md'].url, 'https://example.com/out/');
  assert.equal(byFile['posts/wip.md'].state, 'draft');
  assert.equal(byFile['posts/broken.md'].state, 'invalid');
  assert.match(byFile['posts/broken.md'].problems[0], /no date/);
});

test('check also validates the email templates and the subscriber list', async (t) => {
  const site = await makeSite(t, { 'ok.md': post() });
  await site.write('templates/email.html', '<p>{{ post.title </p>\n');
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\nnope,X,active,,,\n');
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /templates\/email\.html:1: template error/);
  assert.match(result.err, /subscribers\/subscribers\.csv:2: "nope" is not an email address/);
});

test('check validates the page templates as a build reads them', async (t) => {
  const site = await makeSite(t, { 'ok.md': post() });
  await site.write('templates/post.html', '<article>\n{% if post.title %}{{ post.title }}{% endfi %}\n</article>\n');
  const result = await site.run('check');
  assert.equal(result.code, 1);
  assert.match(result.err, /templates\/post\.html:2: template error/);
});

/** Runs the built herald with a reader that takes its first line of output, then closes the pipe. */
function firstLineOnly(cwd: string, ...args: string[]): Promise<{ code: number | null; line: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUILT_CLI, ...args], { cwd });
    let out = '';
    let err = '';
    child.stdout.on('data', (data) => {
      out += data;
      if (out.includes('\n')) child.stdout.destroy();
    });
    child.stderr.on('data', (data) => (err += data));
    child.on('close', (code) => resolve({ code, line: out.split('\n')[0]!, err }));
  });
}

test('a reader that closes the pipe early (herald status | head -1) ends herald quietly, its work done', async (t) => {
  const posts = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`p${i}.md`, post({ title: `Post number ${i} with a longer title`, date: '2026-01-01' })]));
  const site = await makeSite(t, posts);
  const built = await firstLineOnly(site.dir, 'build', '--now', '2026-06-01');
  assert.equal(built.code, 0, built.err);
  assert.match(built.line, /^wrote public\//);
  assert.equal(built.err, '');
  // The build went on after the pipe closed: every post's page is there.
  assert.ok(existsSync(join(site.dir, 'public/p2999/index.html')));
  for (const args of [['status'], ['status', '--json']]) {
    const result = await firstLineOnly(site.dir, ...args, '--now', '2026-06-01');
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.err}`);
    assert.ok(result.line.length > 0);
    assert.doesNotMatch(result.err, /EPIPE|Error|\n\s+at /, args.join(' '));
  }
});
