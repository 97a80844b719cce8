import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { makeSite, post } from '../helpers.js';

const BUILT_IN = join(import.meta.dirname, '../../templates/feed.xsl');

test("the build publishes herald's feed stylesheet with its compressed copies, and writes it again only when it changed", async (t) => {
  const site = await makeSite(t, { 'hello.md': post({ title: 'Hello' }) });
  const first = await site.run('build');
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /wrote public\/feed\.xsl$/m);
  const builtIn = await readFile(BUILT_IN, 'utf8');
  assert.equal(await site.read('public/feed.xsl'), builtIn);
  assert.equal(brotliDecompressSync(await readFile(join(site.dir, 'public/feed.xsl.br'))).toString(), builtIn);
  assert.equal(gunzipSync(await readFile(join(site.dir, 'public/feed.xsl.gz'))).toString(), builtIn);
  const written = (await stat(join(site.dir, 'public/feed.xsl'))).mtimeMs;

  // A build for another reason leaves it as it was: caches keep their copy.
  await site.write('posts/second.md', post({ title: 'Second', date: '2026-01-27' }));
  const second = await site.run('build');
  assert.equal(second.code, 0, second.err);
  assert.doesNotMatch(second.out, /feed\.xsl/);
  assert.equal((await stat(join(site.dir, 'public/feed.xsl'))).mtimeMs, written);

  // The writer's own templates/feed.xsl replaces herald's.
  const own = builtIn.replace('This is a web feed.', 'You found our feed.');
  await site.write('templates/feed.xsl', own);
  const third = await site.run('build');
  assert.equal(third.code, 0, third.err);
  assert.match(third.out, /wrote public\/feed\.xsl$/m);
  assert.equal(await site.read('public/feed.xsl'), own);
  assert.equal(brotliDecompressSync(await readFile(join(site.dir, 'public/feed.xsl.br'))).toString(), own);
});

test("herald's feed stylesheet is well-formed XSLT 1.0 that puts nothing executable on the page", async () => {
  execFileSync('xmllint', ['--noout', BUILT_IN]);
  const xsl = (await readFile(BUILT_IN, 'utf8')).replace(/<!--[\s\S]*?-->/g, '');
  assert.match(xsl, /<xsl:stylesheet version="1\.0"/);
  // Values are copied as text (value-of escapes them); nothing makes markup or script out of them.
  assert.doesNotMatch(xsl, /disable-output-escaping|xsl:copy|<script|\son\w+=|javascript:/i);
  // Every link goes through the template that only makes http(s) ones.
  assert.equal((xsl.match(/<a /g) ?? []).length, 1);
  assert.match(xsl, /<xsl:when test="\$scheme = 'https' or \$scheme = 'http'">\s*<a href=/);
});
