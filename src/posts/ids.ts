// A feed entry's id must never change: a feed reader shows an entry with a new id as a new post.
// The id a post had when it was first published is recorded here, by file, and kept for good,
// whatever site.url or the permalink become later. Not a cache: deleting it can re-issue ids.
//
// The record is a log of JSON lines, ["posts/file.md", "id"], only ever appended to: publishing
// a post adds a line instead of rewriting the ids of every post before it.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import { legacyEntryId } from '../feeds/model.js';
import { syncDirectory } from '../files.js';
import type { PostMeta } from './parse.js';

const FILE = 'entry-ids.jsonl';

export type EntryIds = Map<string, string>;

/** The recorded ids, by post file; undefined when nothing was recorded yet. */
export function readEntryIds(config: Config, cwd: string): EntryIds | undefined {
  const path = join(config.paths.state, FILE);
  if (!existsSync(path)) return undefined;
  const fail = (line: number, why: string) =>
    new HeraldError({
      code: 'E_STATE',
      file: relative(cwd, path) || path,
      line,
      message: `cannot read the recorded feed entry ids: ${why}`,
      hint: 'restore it from a backup; deleting it makes new ids for posts whose URL changed since they were published, and readers would see them again',
    });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(1, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  const lines = text.split('\n');
  // The last piece is empty, or a line cut short by a crash while it was appended: that post was
  // not published yet (the feeds are written after), so it is recorded again.
  lines.pop();
  const ids: EntryIds = new Map();
  lines.forEach((line, index) => {
    if (!line) return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      throw fail(index + 1, 'the line is not JSON');
    }
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
      throw fail(index + 1, 'a line must be ["post file", "entry id"]');
    }
    if (!ids.has(entry[0])) ids.set(entry[0], entry[1]);
  });
  return ids;
}

/** Gives each post the id recorded for its file, if any. */
export function applyEntryIds(posts: PostMeta[], ids: EntryIds | undefined): void {
  if (!ids) return;
  for (const post of posts) {
    // An id the writer sets wins: it is how a writer keeps the ids another generator gave.
    const recorded = ids.get(post.file);
    if (recorded && !post.id) post.entryId = recorded;
  }
}

/**
 * Records the id of every published post that has none yet, durably, before any feed carries it.
 * A site built by an earlier herald (its feeds exist, no ids were recorded) keeps the ids that
 * herald gave, so no reader sees old posts again as new.
 */
export async function recordEntryIds(config: Config, published: PostMeta[], ids: EntryIds | undefined): Promise<EntryIds> {
  // An earlier herald left its build state, its newsletter state or its feeds.
  const upgrading =
    ids === undefined &&
    (['build-state.json', 'post-cache.json', 'newsletter.json'].some((name) => existsSync(join(config.paths.state, name))) || existsSync(join(config.paths.output, 'atom.xml')));
  const next: EntryIds = new Map(ids);
  let lines = '';
  for (const post of published) {
    if (next.has(post.file)) continue;
    const id = upgrading && !post.id ? legacyEntryId(post, config.site.url) : post.entryId;
    next.set(post.file, id);
    lines += `${JSON.stringify([post.file, id])}\n`;
  }
  applyEntryIds(published, next);
  // The file is made even with nothing in it: from then on, ids are known to be recorded.
  if (lines || ids === undefined) await appendDurably(join(config.paths.state, FILE), lines, ids === undefined);
  return next;
}

async function appendDurably(path: string, lines: string, creating: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Mode 0600 like the rest of the state folder.
  const handle = await open(path, 'a+', 0o600);
  try {
    // A line cut short by a crash is dropped, so the file stays whole lines.
    const { size } = await handle.stat();
    if (size && (await handle.read(Buffer.alloc(1), 0, 1, size - 1)).buffer[0] !== 0x0a) {
      const whole = (await handle.readFile()).lastIndexOf(0x0a) + 1;
      await handle.truncate(whole);
    }
    await handle.appendFile(lines);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (creating) await syncDirectory(dirname(path));
}
