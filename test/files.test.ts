import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { jsonPieces } from '../src/cache.js';
import { writeFileAtomic } from '../src/files.js';
import { writeOutput } from '../src/output.js';
import { makeSite, post } from './helpers.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

test('a new file gets 0644 (less the umask) unless a mode is given; private data asks for 0600', async (t) => {
  const dir = await tempDir(t);
  // What the umask leaves of 0644 on this machine, as a plain write makes it.
  await writeFile(join(dir, 'reference'), '', { mode: 0o644 });
  await writeFileAtomic(join(dir, 'rss.xml'), '<rss/>');
  assert.equal(await modeOf(join(dir, 'rss.xml')), await modeOf(join(dir, 'reference')));
  await writeOutput(join(dir, 'feed.json'), '{}');
  assert.equal(await modeOf(join(dir, 'feed.json.br')), await modeOf(join(dir, 'reference')));
  assert.equal(await modeOf(join(dir, 'feed.json')), await modeOf(join(dir, 'reference')));
  await writeFileAtomic(join(dir, 'subscribers.csv'), 'email\n', { mode: 0o600 });
  assert.equal(await modeOf(join(dir, 'subscribers.csv')), 0o600);
});

test("a file that exists keeps its mode when replaced: the user's chmod survives the next write", async (t) => {
  const dir = await tempDir(t);
  const csv = join(dir, 'subscribers.csv');
  await writeFileAtomic(csv, 'one\n');
  await chmod(csv, 0o600);
  await writeFileAtomic(csv, 'two\n');
  assert.equal(await modeOf(csv), 0o600);
  assert.equal(await readFile(csv, 'utf8'), 'two\n');
  // Kept exactly, even bits the umask would take from a new file.
  await chmod(csv, 0o666);
  await writeFileAtomic(csv, 'three\n', { mode: 0o600 });
  assert.equal(await modeOf(csv), 0o666, 'mode is for new files only');
  const feed = join(dir, 'rss.xml');
  await writeOutput(feed, 'a');
  await chmod(feed, 0o640);
  assert.equal(await writeOutput(feed, 'b'), true);
  assert.equal(await modeOf(feed), 0o640);
  assert.equal(await writeOutput(feed, 'b'), false, 'the same bytes are not written again');
});

test('folders made on the way get dirMode; folders that exist are left as they are', async (t) => {
  const dir = await tempDir(t);
  await writeFileAtomic(join(dir, 'state/deep/ledger.json'), '{}', { mode: 0o600, dirMode: 0o700 });
  assert.equal(await modeOf(join(dir, 'state')), 0o700);
  assert.equal(await modeOf(join(dir, 'state/deep')), 0o700);
  await mkdir(join(dir, 'shared'), { mode: 0o755 });
  await chmod(join(dir, 'shared'), 0o755);
  await writeFileAtomic(join(dir, 'shared/secret'), 'x', { mode: 0o600, dirMode: 0o700 });
  assert.equal(await modeOf(join(dir, 'shared')), 0o755);
  assert.equal(await modeOf(join(dir, 'shared/secret')), 0o600);
});

test('herald build makes the state folder private (0700, its files 0600) and the site public', async (t) => {
  const site = await makeSite(t, { 'a.md': post() });
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  assert.equal(await modeOf(join(site.dir, '.herald')), 0o700);
  assert.equal(await modeOf(join(site.dir, '.herald/build-state.json')), 0o600);
  assert.equal(await modeOf(join(site.dir, '.herald/post-cache.json')), 0o600);
  const reference = join(site.dir, 'reference');
  await writeFile(reference, '', { mode: 0o644 });
  assert.equal(await modeOf(join(site.dir, 'public/rss.xml')), await modeOf(reference));
});

test('state written in pieces is JSON.stringify\'s text exactly, and a file written from pieces holds them all', async (t) => {
  const big = Array.from({ length: 3000 }, (_, i) => [`/posts/${i}.md`, { size: i, mtimeMs: i + 0.5, result: { ok: true, meta: { title: `Post ${i} “quoted” \u2028`, at: new Date(i * 1e9), gone: undefined, topics: [{ name: 'a' }] }, warnings: [] } }]);
  const values: unknown[] = [
    { key: 'k', value: big },
    { key: 'k', value: { feeds: { a: { made: 'x', updated: 1 } }, topics: [], pages: Object.fromEntries(big.map(([path], i) => [path, `h${i}`])), copies: {}, skipped: undefined, fn: () => 1 } },
    { key: 'k', value: [1, undefined, null, () => 1, 'x', [undefined], {}, []] },
    { key: 'k', value: [] },
    { key: 'k', value: {} },
    // What JSON.stringify itself treats apart: toJSON giving nothing, boxed values, holes.
    { key: 'k', value: { gone: { toJSON: () => undefined }, list: [{ toJSON: () => undefined }, new String('ab'), new Number(2), new Boolean(false), -0, NaN, Symbol('s')], holes: [1, , 3] } },
    new Date(0),
    'text',
  ];
  for (const value of values) {
    const pieces = [...jsonPieces(value)];
    assert.equal(pieces.join(''), JSON.stringify(value));
    assert.ok(pieces.every((piece) => piece.length < 100 * 1024), 'no piece much past 64 KB');
  }
  assert.ok([...jsonPieces(values[0])].length > 3, 'a large value goes in several pieces');
  const dir = await tempDir(t);
  await writeFileAtomic(join(dir, 'state.json'), jsonPieces(values[0]));
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')), JSON.parse(JSON.stringify(values[0])));
});

test('a file is written under a temporary dot-file name, which no server of the folder serves, then renamed', async (t) => {
  const dir = await tempDir(t);
  const { watch } = await import('node:fs');
  const seen = new Set<string>();
  const watcher = watch(dir, (_event, name) => name && seen.add(String(name)));
  t.after(() => watcher.close());
  await writeFileAtomic(join(dir, 'state.json'), '{}');
  await writeOutput(join(dir, 'rss.xml'), '<rss/>');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const temporary = [...seen].filter((name) => !['state.json', 'rss.xml', 'rss.xml.br', 'rss.xml.gz'].includes(name));
  assert.ok(temporary.length >= 4, `the writes went through temporary files: ${[...seen].join(', ')}`);
  for (const name of temporary) assert.match(name, /^\.(state\.json|rss\.xml(\.br|\.gz)?)\.\d+\.[0-9a-z]+\.tmp$/);
});
