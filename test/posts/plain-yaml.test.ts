import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import matter from 'gray-matter';
import yaml from 'js-yaml';
import { parseConfig } from '../../src/config.js';
import { parsePost } from '../../src/posts/parse.js';
import { readPlainYaml } from '../../src/posts/plain-yaml.js';
import { makeSite, seededRandom, SITE_CONFIG } from '../helpers.js';

// What herald read every YAML front matter block with before plain-yaml.ts, and still reads the
// blocks that reader declines with.
function jsYaml(front: string): { ok: true; data: unknown } | { ok: false } {
  try {
    return { ok: true, data: matter(front, { engines: { yaml: (text: string) => (yaml.load(text, { schema: yaml.CORE_SCHEMA }) ?? {}) as object } }).data };
  } catch {
    return { ok: false };
  }
}

/** Whether the plain reader took the block; when it did, it must have read exactly what js-yaml reads. */
function agrees(front: string): boolean {
  const plain = readPlainYaml(front);
  if (plain === undefined) return false;
  const reference = jsYaml(front);
  assert.ok(reference.ok, `the plain reader took a block js-yaml refuses:\n${front}`);
  assert.deepStrictEqual(plain, reference.data, `read differently from js-yaml:\n${front}`);
  return true;
}

const block = (...lines: string[]) => `---\n${lines.join('\n')}\n---\n`;

test('the plain reader takes the usual fields and reads each as js-yaml does', () => {
  const taken = [
    'title: Hello, world',
    'title: "Quoted: with a colon"',
    "title: 'It''s single-quoted'",
    'title: ""',
    "title: ''",
    'title: C# and F# # a comment after it',
    'title: Emoji 😀 and ünïcödé',
    'title: 50% off [maybe] {really}, truly',
    'title: a\u00a0#not a comment',
    'date: 2026-01-26',
    'date: 2026-01-26 10:00',
    'date: 2026-01-26T10:00:00+01:00',
    'time: 12:30:45',
    'ratio: 1:30',
    'url: https://example.com/a?b=c#d',
    'permalink: /:year/:month/:title/',
    'topics: [work, life]',
    'topics: [ spaced , out ]',
    'topics: []',
    'topics: ["quoted, with comma", \'single\', plain]',
    'topics: [1, true, ~, null, 2.5, 0x1F]',
    'draft: true',
    'draft: True',
    'draft: TRUE',
    'draft: false',
    'draft: yes',
    'draft: no',
    'draft: on',
    'draft: off',
    'draft: tRUE',
    'summary: ~',
    'summary: null',
    'summary: Null',
    'summary: NULL',
    'summary:',
    'summary:    ',
    'summary: # only a comment',
    'weight: 10',
    'weight: -10',
    'weight: +10',
    'weight: 0755',
    'weight: 0o17',
    'weight: 0b101',
    'weight: 0x1f',
    'weight: 1_000',
    'weight: 1.5',
    'weight: 1.',
    'weight: .5',
    'weight: 1e3',
    'weight: 1E3',
    'weight: 1.5e-3',
    'weight: -0',
    'weight: -0.0',
    'weight: .inf',
    'weight: -.Inf',
    'weight: .NaN',
    'weight: 12345678901234567890',
    'id: tag:example.com,2020:post',
    'layout: post',
    'last_modified_at: 2026-02-01',
    'x.y: dotted key',
    '1: numeric key',
    '0x10: hex key',
    'true: boolean key',
    'True: boolean key',
    'null: null key',
  ];
  for (const line of taken) assert.ok(agrees(block(line)), line);
  assert.ok(agrees(block('# a comment', '', 'title: T', '   ', 'date: 2026-01-26 # when')));
  assert.ok(agrees(block()));
  assert.ok(agrees('---   \ntitle: T\n---\n'));
});

test('anything the plain reader is not sure of goes to js-yaml', () => {
  const declined = [
    'title: Notes: part two',
    'title: ends with a colon:',
    'title: "escaped \\" quote"',
    'title: "multi\n  line"',
    'title: plain\n  continued',
    "title: 'open",
    'title: "closed" then more',
    'title: &anchor value',
    'title: *alias',
    'title: !tag value',
    'title: |\n  block',
    'title: >\n  folded',
    'title: - dash',
    'title: ? mark',
    'title: @at',
    'title: `tick',
    'title: %percent',
    'title: {a: 1}',
    'title:\ttab',
    'title: a\u2028b',
    'title: a\u0085b',
    'topics: [a, [b]]',
    'topics: [a, {b: 1}]',
    'topics: [a: b]',
    'topics: [http://x]',
    'topics: [a #b]',
    'topics: [a, , b]',
    'topics: [a,]',
    'topics: [a, b',
    'topics: [a] trailing',
    'topics:\n  - a\n  - b',
    'topics:\n- a',
    'author:\n  name: Ada',
    '"title": quoted key',
    'title : spaced key',
    '__proto__: x',
    '  indented: x',
    '%YAML 1.2',
    'title: T\ntitle: again',
    'true: x\nTrue: y',
  ];
  for (const lines of declined) assert.equal(readPlainYaml(block('date: 2026-01-26', lines)), undefined, lines);
  assert.equal(readPlainYaml('---\r\ntitle: T\r\n---\r\n'), undefined);
});

// Real front matter: every block in herald's own tests (the Jekyll, Hugo and Eleventy posts
// among them) and the bench's generated posts.
function frontBlocksInTests(): string[] {
  const root = join(import.meta.dirname, '..');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
  const unescape = (text: string) =>
    text.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[^])/g, (_all, escape: string) => {
      if (escape.startsWith('u{')) return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
      if (escape.length > 1) return String.fromCharCode(parseInt(escape.slice(1), 16));
      return ({ n: '\n', t: '\t', r: '\r', 0: '\0' } as Record<string, string>)[escape] ?? escape;
    });
  const blocks: string[] = [];
  for (const file of files) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const [, text] of source.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\[^])*)`/g)) {
      if (text === undefined || text.includes('${')) continue;
      const front = /^---[ \t]*\n[^]*?\n---[ \t]*(?:\n|$)/.exec(unescape(text))?.[0];
      if (front) blocks.push(front);
    }
  }
  return blocks;
}

test("every front matter block in herald's tests reads the same as with js-yaml", () => {
  const blocks = frontBlocksInTests();
  assert.ok(blocks.length > 50, `only ${blocks.length} blocks found`);
  const taken = blocks.filter(agrees).length;
  // Most are the simple kind; the rest (nested authors, block lists) went to js-yaml.
  assert.ok(taken > blocks.length / 2, `${taken} of ${blocks.length} taken`);
});

test("the bench's generated posts are all taken by the plain reader, and read as js-yaml reads them", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-plain-yaml-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, [join(import.meta.dirname, '../../bench/gen-corpus.js'), '300', dir]);
  for (const name of readdirSync(dir)) {
    const text = readFileSync(join(dir, name), 'utf8');
    assert.ok(agrees(text.slice(0, text.indexOf('\n---\n') + 5)), name);
  }
});

// A seeded generator of front matter blocks made of the pieces that trip YAML readers up.
function randomBlocks(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const keys = ['title', 'date', 'topics', 'tags', 'draft', 'a', 'A1', 'x.y', '_k', 'k-2', '1', '01', '0x1F', '1e2', 'true', 'True', 'null', 'NULL', '~', '__proto__', 'a b', '"q"', '-k', 'a#b', '.inf'];
  const atoms = [
    'true', 'True', 'TRUE', 'tRUE', 'false', 'yes', 'No', 'on', 'OFF', '~', 'null', 'Null', 'nULL', '', '0', '-0', '+0', '007', '0755', '08', '0x1F', '0xg', '0o17', '0o8', '0b101', '0b2',
    '1_000', '1e3', '1E+3', '1.5e-3', '3.', '.5', '-.5', '.', '-', '+', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', 'NaN', 'Infinity', '1:30', '12:30:45', '2026-01-26', '2026-01-26T10:00:00Z',
    '2026-01-26 10:00', 'http://x.com/a?b=c#d', 'C#', 'a #b', 'a#b', 'a: b', 'a:', ':a', 'a:b', '- a', '-a', '? a', '?a', '&a x', '*a', '!t x', '|', '>', '%x', '@x', '`x', '=', '<<',
    '"q"', '"q\\"x"', '"a\\nb"', "'it''s'", "'x", '"a" # c', '"a"#c', '"a" b', "''", '""', '" spaced "', "' spaced '", 'é', '😀', '\u00a0x', 'x\u00a0', 'a\tb', 'x ', 'a , b', '{a: 1}', '{}',
  ];
  const chars = 'ab1 :#\'"[]{},-?&*!|>%@`.~_+e\u00a0é😀\\';
  const randomText = () => Array.from({ length: Math.floor(random() * 8) }, () => pick([...chars])).join('');
  const scalar = () => (random() < 0.7 ? pick(atoms) : randomText());
  const list = () => `[${Array.from({ length: Math.floor(random() * 4) }, scalar).join(pick([', ', ',', ' , ']))}${pick(['', '', ',', ' '])}]${pick(['', '', ' # c', ' x'])}`;
  const value = () => (random() < 0.2 ? list() : scalar() + pick(['', '', '', ' # comment', '#x', '  ']));
  const line = () => {
    const kind = random();
    if (kind < 0.9) return `${pick(keys)}:${pick([' ', ' ', ' ', '', '  '])}${value()}`;
    return pick(['', '   ', '# comment', ' # indented comment', '  nested: x', '- item', '...', '---x', 'no colon', `${pick(keys)}:\n  - ${scalar()}`]);
  };
  return Array.from({ length: count }, () => `---${pick(['', '', ' '])}\n${Array.from({ length: 1 + Math.floor(random() * 4) }, line).join('\n')}\n---\n`);
}

test('30,000 random blocks: what the plain reader takes, it reads exactly as js-yaml does', () => {
  const blocks = randomBlocks(30_000, 13);
  const taken = blocks.filter(agrees).length;
  // Enough of them are taken for the comparison to mean something.
  assert.ok(taken > 3_000, `only ${taken} taken`);
});

test('errors in YAML the plain reader declines keep their line numbers', () => {
  const config = parseConfig({ site: { url: 'https://example.com/' } }, undefined, '/tmp');
  const problem = (text: string) => {
    const result = parsePost(text, 'posts/a.md', config);
    assert.ok(!result.ok);
    return result.problems[0]!;
  };
  // Lines 2-4 are plain; line 5 is not YAML at all.
  assert.equal(problem('---\ntitle: T\ndate: 2026-01-26\ntopics: [a]\nsummary: a: b\n---\n').line, 5);
  assert.equal(problem('---\ntitle: T\n\n# note\ndate: 2026-01-26\ntopics: [a, b\n---\n').line, 7);
  // A field the reader took, but herald refuses, is reported at its own line.
  const date = problem('---\ntitle: T\ntopics: [a]\n\ndate: 26/01/2026\n---\n');
  assert.deepEqual([date.field, date.line], ['date', 5]);
  const twice = parsePost('---\ntitle: T\ndate: 2026-01-26\ntitle: Again\n---\n', 'posts/a.md', config);
  assert.ok(twice.ok);
  assert.equal(twice.meta.title, 'Again');
  assert.deepEqual(twice.warnings.map((warning) => warning.line), [4]);
});

// Posts as writers and generators leave them, for building a whole site both ways.
const WRITTEN_POSTS: Record<string, string> = {
  '2025-01-30-jekyll-style.md': block('layout: post', 'title: "Welcome to Jekyll!"', 'categories: jekyll update', 'tags: [intro, "first post"]', 'author: Ada Lovelace # who wrote it') + 'Hello from Jekyll.\n',
  'hugo-style.md': block('title: Hugo: a look back', 'date: 2025-03-01T10:00:00+01:00', 'lastmod: 2025-03-02', 'draft: false', 'tags: [hugo, go]', 'aliases: [/old/hugo-style/]', 'summary: It is fast.') + 'Body with a [link](/x/).\n',
  'eleventy.md': block("title: 'Eleventy''s way'", 'date: 2025-04-01', 'permalink: /blog/eleventy/', 'description: A description') + '## Heading\n\nText.\n',
  'numbers.md': block('title: 1234', 'date: 2025-05-01 08:30', 'topics: [1, true, C#]', 'weight: 0755') + 'Numbers.\n',
  'nested.md': block('title: Nested author', 'date: 2025-06-01', 'author:', '  name: Grace Hopper', '  email: grace@example.com', 'topics:', '  - navy', '  - cobol') + 'Nested.\n',
  'twice.md': block('title: First', 'date: 2025-07-01', 'title: Second') + 'Twice.\n',
};

test('a site built through the plain reader is byte for byte the site built through js-yaml', async (t) => {
  const corpus = await mkdtemp(join(tmpdir(), 'herald-plain-yaml-'));
  t.after(() => rm(corpus, { recursive: true, force: true }));
  execFileSync(process.execPath, [join(import.meta.dirname, '../../bench/gen-corpus.js'), '120', corpus]);
  const posts: Record<string, string> = { ...WRITTEN_POSTS };
  for (const name of readdirSync(corpus)) posts[name] = readFileSync(join(corpus, name), 'utf8');
  // The same posts with one more field the plain reader declines (a mapping) and herald ignores,
  // so every block of the second site goes through gray-matter and js-yaml, as before.
  const viaJsYaml = Object.fromEntries(Object.entries(posts).map(([name, text]) => [name, text.replace(/\n---\n/, '\nold-path: {taken: false}\n---\n')]));
  for (const text of Object.values(viaJsYaml)) assert.equal(readPlainYaml(text.slice(0, text.indexOf('\n---\n', 3) + 5)), undefined);
  assert.ok(Object.values(posts).filter((text) => readPlainYaml(text.slice(0, text.indexOf('\n---\n', 3) + 5))).length > 120);

  const built = [];
  for (const files of [posts, viaJsYaml]) {
    const site = await makeSite(t, files, `${SITE_CONFIG}  timezone: Europe/Berlin\n`);
    const result = await site.run('build', '--now', '2026-01-01T00:00:00Z');
    const names = (await readdir(join(site.dir, 'public'), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(site.dir.length));
    const contents = new Map(await Promise.all(names.sort().map(async (name) => [name, await readFile(join(site.dir, name))] as const)));
    built.push({ out: result.out.replace(/ in [\d.]+m?s$/m, ''), err: result.err, code: result.code, contents });
  }
  const [plain, reference] = built;
  assert.ok(plain!.contents.size > 100, `${plain!.contents.size} files`);
  assert.deepEqual([...plain!.contents.keys()], [...reference!.contents.keys()]);
  for (const [name, bytes] of plain!.contents) assert.ok(bytes.equals(reference!.contents.get(name)!), `${name} differs`);
  assert.deepEqual([plain!.code, plain!.out, plain!.err], [reference!.code, reference!.out, reference!.err]);
  assert.match(plain!.err, /twice\.md:4: "title" is given twice/);
});
