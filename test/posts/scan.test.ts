import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { rescanPostFiles, scanPostFiles } from '../../src/posts/scan.js';
import { seededRandom } from '../helpers.js';

// Each change: what it does below posts/, and the paths a watch would name for it.
type Change = (posts: string) => Promise<string[]>;
const write = (name: string, text = 'x'): Change => async (posts) => {
  await mkdir(dirname(join(posts, name)), { recursive: true });
  await writeFile(join(posts, name), text);
  return [join(posts, name)];
};
const remove = (name: string): Change => async (posts) => {
  await rm(join(posts, name), { recursive: true, force: true });
  return [join(posts, name)];
};
const move = (from: string, to: string): Change => async (posts) => {
  await rename(join(posts, from), join(posts, to));
  return [join(posts, from), join(posts, to)];
};

const EXCLUDE = ['drafts', 'notes/**'];

async function site(t: import('node:test').TestContext): Promise<string> {
  const posts = await mkdtemp(join(tmpdir(), 'herald-scan-'));
  t.after(() => rm(posts, { recursive: true, force: true }));
  for (const name of ['a.md', 'b.markdown', 'c.html', 'image.png', '2026/d.md', 'bundle/index.md', 'bundle/photo.jpg', '_drafts/e.md', 'drafts/f.md', 'notes/g.md', '.hidden.md']) await write(name)(posts);
  return posts;
}

test('rescanning the paths a watch named finds what a full scan finds, or says it cannot', async (t) => {
  const cases: [string, Change, 'same' | 'cannot'][] = [
    ['a new post', write('new.md'), 'same'],
    ['an edit', write('a.md', 'longer text'), 'same'],
    ['a removal', remove('b.markdown'), 'same'],
    ['a rename (an editor saving through a temp file)', move('c.html', 'c2.html'), 'same'],
    ['a post in an existing folder', write('2026/h.md'), 'same'],
    ['a file that is not a post', write('notes.txt'), 'same'],
    ['a post under _drafts', write('_drafts/i.md'), 'same'],
    ['a post in an excluded folder', write('drafts/j.md'), 'same'],
    ['a post matching an excluded glob', write('notes/k.md'), 'same'],
    ['a hidden file', write('.swp.md'), 'same'],
    ['a new folder with posts', write('2027/l.md'), 'cannot'],
    ['a folder of posts removed', remove('2026'), 'cannot'],
    ['a page bundle resource', write('bundle/other.md'), 'cannot'],
    ['a folder becoming a page bundle', write('2026/index.md'), 'cannot'],
  ];
  for (const [what, change, expected] of cases) {
    const posts = await site(t);
    const before = scanPostFiles(posts, posts, EXCLUDE);
    let named = await change(posts);
    // A new folder is named by itself in its parent, as inotify names it.
    if (what === 'a new folder with posts') named = [join(posts, '2027'), ...named];
    const rescanned = rescanPostFiles(before, named, posts, EXCLUDE);
    if (expected === 'cannot') assert.equal(rescanned, undefined, what);
    else assert.deepEqual(rescanned, scanPostFiles(posts, posts, EXCLUDE), what);
  }
});

test('rescanning after many random changes matches a full scan', async (t) => {
  const posts = await site(t);
  const random = seededRandom(13);
  let files = scanPostFiles(posts, posts, EXCLUDE);
  for (let round = 0; round < 30; round++) {
    const named: string[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `${random() < 0.3 ? '2026/' : ''}p${Math.floor(random() * 8)}.md`;
      named.push(...(await (random() < 0.3 ? remove(name) : write(name, 'x'.repeat(Math.floor(random() * 5))))(posts)));
    }
    files = rescanPostFiles(files, named, posts, EXCLUDE) ?? assert.fail('only posts changed');
    assert.deepEqual(files, scanPostFiles(posts, posts, EXCLUDE), `round ${round}`);
  }
});
