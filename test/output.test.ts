import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'node:test';
import { makeSite, post, runBuilt, type Site } from './helpers.js';

// Run from TypeScript source, herald writes on its own thread; the built herald hands a large
// build's files to a writer thread (output.ts). Both must publish the same bytes.
async function filesOf(site: Site): Promise<Map<string, Buffer>> {
  const names = (await readdir(join(site.dir, 'public'), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  return new Map(await Promise.all(names.map(async (entry) => [join(entry.parentPath, entry.name).slice(site.dir.length), await readFile(join(entry.parentPath, entry.name))] as const)));
}

function posts(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`p${i}.md`] = post({ title: `Post ${i}`, date: `2025-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`, topics: ['a', 'b', 'c'][i % 3]!, body: `Paragraph ${i} with [a link](/p${i - 1}/).\n` });
  return files;
}

test('the built herald writes a large site on its writer thread to the same bytes as in one thread', async (t) => {
  const inThread = await makeSite(t, posts(150));
  const onWriter = await makeSite(t, posts(150));
  assert.equal((await inThread.run('build', '--now', '2026-01-01')).code, 0);
  const built = await runBuilt(onWriter.dir, 'build', '--now', '2026-01-01');
  assert.equal(built.code, 0, built.err);
  const [expected, actual] = await Promise.all([filesOf(inThread), filesOf(onWriter)]);
  assert.ok(expected.size > 400, `${expected.size} files, enough for the writer thread`);
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [name, bytes] of expected) assert.ok(actual.get(name)!.equals(bytes), `${name} differs`);

  // Nothing changed: nothing is written again.
  const again = await runBuilt(onWriter.dir, 'build', '--now', '2026-01-01');
  assert.match(again.out, /0 files written/);
});

test('a file the writer thread cannot write fails the build with its path, and the next build finishes it', async (t) => {
  const site = await makeSite(t, posts(100));
  // A folder where a post's page is to go.
  await mkdir(join(site.dir, 'public/p42/index.html'), { recursive: true });
  const failed = await runBuilt(site.dir, 'build', '--now', '2026-01-01');
  assert.notEqual(failed.code, 0);
  assert.match(failed.err, /p42\/index\.html/);
  assert.doesNotMatch(failed.err, /^\s+at /m, 'no stack trace');
  await import('node:fs/promises').then(({ rm }) => rm(join(site.dir, 'public/p42/index.html'), { recursive: true }));
  const fixed = await runBuilt(site.dir, 'build', '--now', '2026-01-01');
  assert.equal(fixed.code, 0, fixed.err);
  assert.match(await site.read('public/p42/index.html'), /Post 42/);
});
