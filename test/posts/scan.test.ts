import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { rescanPostFiles, scanPostFiles, scanPostFolder } from '../../src/posts/scan.js';
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
    ['a folder of posts replaced by a file of its name', async (posts) => [...(await remove('2026')(posts)), ...(await write('2026')(posts))], 'cannot'],
    ['a page bundle resource', write('bundle/other.md'), 'cannot'],
    ['a post in a folder below a page bundle', write('bundle/notes/day1.md'), 'cannot'],
    ['a folder becoming a page bundle', write('2026/index.md'), 'cannot'],
    ['a new symbolic link to a post', async (posts) => {
      await symlink(join(posts, 'a.md'), join(posts, 'link.md'));
      return [join(posts, 'link.md')];
    }, 'cannot'],
    // The posts folder removed and made again, or moved: named by itself, or by its parent's watch.
    ['the posts folder itself', async (posts) => [posts], 'cannot'],
    ['the posts folder removed', async (posts) => {
      await rm(posts, { recursive: true });
      return [join(posts, 'a.md')];
    }, 'cannot'],
  ];
  for (const [what, change, expected] of cases) {
    const posts = await site(t);
    const before = scanPostFolder(posts, posts, EXCLUDE);
    assert.equal(before.linked, false);
    let named = await change(posts);
    // A new folder is named by itself in its parent, as inotify names it.
    if (what === 'a new folder with posts') named = [join(posts, '2027'), ...named];
    if (what === 'a post in a folder below a page bundle') named = [join(posts, 'bundle/notes'), ...named];
    const rescanned = rescanPostFiles(before, named, posts, EXCLUDE);
    if (expected === 'cannot') assert.equal(rescanned, undefined, what);
    else assert.deepEqual(rescanned, scanPostFolder(posts, posts, EXCLUDE), what);
  }
});

test('a posts folder holding a symbolic link is always scanned whole: no watch sees what it leads to', async (t) => {
  const posts = await site(t);
  const elsewhere = await mkdtemp(join(tmpdir(), 'herald-scan-linked-'));
  t.after(() => rm(elsewhere, { recursive: true, force: true }));
  await writeFile(join(elsewhere, 'linked.md'), 'x');
  await symlink(elsewhere, join(posts, 'linked'));
  const before = scanPostFolder(posts, posts, EXCLUDE);
  assert.equal(before.linked, true);
  assert.ok(before.files.some((file) => file.path === join(posts, 'linked/linked.md')));
  assert.equal(rescanPostFiles(before, [join(posts, 'a.md')], posts, EXCLUDE), undefined);
});

test('rescanning after many random changes matches a full scan', async (t) => {
  const posts = await site(t);
  const random = seededRandom(13);
  let scan = scanPostFolder(posts, posts, EXCLUDE);
  for (let round = 0; round < 30; round++) {
    const named: string[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `${random() < 0.3 ? '2026/' : ''}p${Math.floor(random() * 8)}.md`;
      named.push(...(await (random() < 0.3 ? remove(name) : write(name, 'x'.repeat(Math.floor(random() * 5))))(posts)));
    }
    scan = rescanPostFiles(scan, named, posts, EXCLUDE) ?? assert.fail('only posts changed');
    assert.deepEqual(scan.files, scanPostFiles(posts, posts, EXCLUDE), `round ${round}`);
  }
});

test('a page bundle whose index post is excluded is still a bundle: a file added in it is not a post', async (t) => {
  const posts = await site(t);
  await write('trip/index.md')(posts);
  await write('trip/a.md')(posts);
  const exclude = ['**/index.md'];
  const before = scanPostFolder(posts, posts, exclude);
  assert.ok(!before.files.some((file) => file.path.includes(`${join('trip', '')}`)), 'nothing of the bundle is a post');
  const named = await write('trip/b.md')(posts);
  const rescanned = rescanPostFiles(before, named, posts, exclude);
  assert.deepEqual(rescanned?.files ?? scanPostFiles(posts, posts, exclude), scanPostFiles(posts, posts, exclude));
  assert.equal(rescanned, undefined);
});
