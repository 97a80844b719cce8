import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FolderWatch } from '../src/watch.js';

// Read through a function: TypeScript would take an assertion on the getter to hold for good.
const namedBy = (watch: FolderWatch) => watch.lastChangedPaths;

/** Whether the watch reports a change within a second (inotify's events arrive on the event loop). */
async function seesChange(watch: FolderWatch): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    await sleep(50);
    if (watch.takeChanged()) return true;
  }
  return false;
}

test('a folder watch reports each change below its folders once, and nothing when nothing changed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'posts/bundle'), { recursive: true });
  await writeFile(join(dir, 'posts/a.md'), 'a');
  const watch = new FolderWatch([join(dir, 'posts'), join(dir, 'static')]);
  t.after(() => watch.close());
  assert.equal(watch.takeChanged(), true, 'the first ask: nothing is vouched for yet');
  assert.equal(watch.takeChanged(), false);

  await appendFile(join(dir, 'posts/a.md'), 'edited in place');
  assert.equal(await seesChange(watch), true, 'an edit in place');
  assert.deepEqual([...watch.lastChangedPaths!], [join(dir, 'posts/a.md')], 'named by its path');
  assert.equal(watch.lastWasFullLook, false);
  assert.equal(watch.takeChanged(), false, 'said once');
  assert.deepEqual([...watch.lastChangedPaths!], []);

  await writeFile(join(dir, 'posts/bundle/index.md'), 'b');
  assert.equal(await seesChange(watch), true, 'a file in a folder below');

  await mkdir(join(dir, 'posts/new'));
  assert.equal(await seesChange(watch), true, 'a new folder');
  await writeFile(join(dir, 'posts/new/c.md'), 'c');
  assert.equal(await seesChange(watch), true, 'a file in the new folder is watched too');
  assert.ok(watch.lastChangedPaths!.has(join(dir, 'posts/new/c.md')));

  // Beside the static folder that is not there yet: the writer's other files are not changes.
  await writeFile(join(dir, 'herald.log'), 'a line');
  assert.equal(await seesChange(watch), false, 'a file beside the missing static folder');
  await mkdir(join(dir, 'static'));
  assert.equal(await seesChange(watch), true, 'the static folder made');
  await writeFile(join(dir, 'static/logo.svg'), '<svg/>');
  assert.equal(await seesChange(watch), true, 'a static folder made after the watch began');

  await rm(join(dir, 'posts/a.md'));
  assert.equal(await seesChange(watch), true, 'a removal');
  await sleep(200);
  assert.equal(watch.takeChanged(), false);
});

/** A temp folder with posts/ (and `folders` below it), and a watch on posts/ that the test closes. */
async function watchedSite(t: import('node:test').TestContext, folders: string[] = [], fullLookEveryMs?: number): Promise<{ dir: string; watch: FolderWatch }> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'posts'));
  for (const folder of folders) await mkdir(join(dir, 'posts', folder), { recursive: true });
  const watch = new FolderWatch([join(dir, 'posts')], fullLookEveryMs);
  t.after(() => watch.close());
  return { dir, watch };
}

test('a folder watch that cannot vouch for a folder says it changed on every ask', async (t) => {
  const { dir, watch } = await watchedSite(t, [], 1000);
  assert.equal(watch.takeChanged(0), true);
  assert.equal(watch.lastChangedPaths, undefined, 'the first ask names nothing');
  assert.equal(watch.takeChanged(10), false);
  assert.equal(watch.takeChanged(1010), true, 'a full look every fullLookEveryMs, in case changes do not reach this kernel');
  assert.equal(watch.lastWasFullLook, true);
  assert.equal(watch.lastChangedPaths, undefined, 'a full look names nothing: everything is to be looked at');
  // The watched folder goes away (and with it its watch).
  await rm(join(dir, 'posts'), { recursive: true });
  assert.equal(await seesChange(watch), true);
});

test('the full look comes on time even while something changes on every ask', async (t) => {
  const { dir, watch } = await watchedSite(t, [], 1000);
  assert.equal(watch.takeChanged(0), true);
  await writeFile(join(dir, 'posts/.a.md.swp'), 'x');
  await sleep(200);
  assert.equal(watch.takeChanged(600), true);
  assert.equal(watch.lastWasFullLook, false);
  await writeFile(join(dir, 'posts/.a.md.swp'), 'y');
  await sleep(200);
  assert.equal(watch.takeChanged(1000), true);
  assert.equal(watch.lastWasFullLook, true, 'a change at 600 does not put off the look due at 1000');
});

test('a folder removed and made again (git checkout) is watched anew, and what changed in it is not named', async (t) => {
  const { dir, watch } = await watchedSite(t, ['2025']);
  watch.takeChanged();
  await rm(join(dir, 'posts/2025'), { recursive: true });
  await mkdir(join(dir, 'posts/2025'));
  await writeFile(join(dir, 'posts/2025/a.md'), 'a');
  assert.equal(await seesChange(watch), true);
  await sleep(100);
  watch.takeChanged();
  await writeFile(join(dir, 'posts/2025/b.md'), 'b');
  assert.equal(await seesChange(watch), true, 'a file in the folder made again');
  assert.ok(namedBy(watch)?.has(join(dir, 'posts/2025/b.md')), 'named by its path');

  // The posts folder itself swapped for another (mv posts old && mv new posts).
  await mkdir(join(dir, 'new'));
  await writeFile(join(dir, 'new/c.md'), 'c');
  await rename(join(dir, 'posts'), join(dir, 'old'));
  await rename(join(dir, 'new'), join(dir, 'posts'));
  assert.equal(await seesChange(watch), true);
  assert.equal(watch.lastChangedPaths, undefined, 'the folder watched anew: everything is to be looked at');
  await sleep(100);
  watch.takeChanged();
  await writeFile(join(dir, 'old/d.md'), 'd');
  await writeFile(join(dir, 'posts/e.md'), 'e');
  assert.equal(await seesChange(watch), true);
  assert.ok(namedBy(watch)?.has(join(dir, 'posts/e.md')));
  assert.ok(!namedBy(watch)?.has(join(dir, 'posts/d.md')), 'the old folder is no longer watched');
});

test('a burst of events is not named one by one: the kernel may have dropped some', async (t) => {
  const { dir, watch } = await watchedSite(t);
  watch.takeChanged();
  await Promise.all(Array.from({ length: 600 }, (_, i) => writeFile(join(dir, `posts/p${i}.md`), 'x')));
  await sleep(300);
  assert.equal(watch.takeChanged(), true);
  assert.equal(watch.lastChangedPaths, undefined);
});

test('a burst of events about names out of scope counts too: the kernel queue is shared', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'posts'));
  // No static folder: the site folder is watched for its name only.
  const watch = new FolderWatch([join(dir, 'posts'), join(dir, 'static')]);
  t.after(() => watch.close());
  watch.takeChanged();
  await Promise.all(Array.from({ length: 600 }, (_, i) => writeFile(join(dir, `junk${i}.txt`), 'x')));
  await sleep(300);
  assert.equal(watch.takeChanged(), true, 'events may have been dropped: a change');
  assert.equal(watch.lastChangedPaths, undefined);
});

test('a watched folder given as a symbolic link and pointed elsewhere (a release switched) is watched anew', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const release of ['v1', 'v2']) await mkdir(join(dir, 'releases', release), { recursive: true });
  await symlink(join(dir, 'releases/v1'), join(dir, 'posts'));
  const watch = new FolderWatch([join(dir, 'posts')]);
  t.after(() => watch.close());
  watch.takeChanged();
  assert.equal(watch.takeChanged(), false);
  await symlink(join(dir, 'releases/v2'), join(dir, 'posts.new'));
  await rename(join(dir, 'posts.new'), join(dir, 'posts'));
  assert.equal(watch.takeChanged(), true, 'no event says so: the link is looked at on every ask');
  assert.equal(watch.lastChangedPaths, undefined);
  await writeFile(join(dir, 'releases/v2/a.md'), 'a');
  assert.equal(await seesChange(watch), true, 'the new release is watched');
  assert.ok(namedBy(watch)?.has(join(dir, 'posts/a.md')));
});
