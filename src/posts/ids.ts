// A feed entry's id must never change: a feed reader shows an entry with a new id as a new post.
// The id a post had when it was first published is recorded here, by file, and kept for good,
// whatever site.url or the permalink become later. Not a cache: deleting it can re-issue ids.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import { legacyEntryId } from '../feeds/model.js';
import { writeFileAtomic } from '../files.js';
import type { PostMeta } from './parse.js';

const FILE = 'entry-ids.json';

export type EntryIds = Map<string, string>;

/** The recorded ids, by post file; undefined when nothing was recorded yet. */
export function readEntryIds(config: Config, cwd: string): EntryIds | undefined {
  const path = join(config.paths.state, FILE);
  if (!existsSync(path)) return undefined;
  try {
    return new Map(Object.entries((JSON.parse(readFileSync(path, 'utf8')) as { ids: Record<string, string> }).ids));
  } catch (error) {
    throw new HeraldError({
      code: 'E_STATE',
      file: relative(cwd, path) || path,
      message: `cannot read the recorded feed entry ids: ${(error as Error).message}`,
      hint: 'restore it from a backup; deleting it makes new ids for posts whose URL changed since they were published, and readers would see them again',
    });
  }
}

/** Gives each post the id recorded for its file, if any. */
export function applyEntryIds(posts: PostMeta[], ids: EntryIds | undefined): void {
  if (!ids) return;
  for (const post of posts) {
    const recorded = ids.get(post.file);
    if (recorded) post.entryId = recorded;
  }
}

/**
 * Records the id of every published post that has none yet, and writes the file when it grew. A
 * site built by an earlier herald (its feeds exist, no ids were recorded) keeps the ids that
 * herald gave, so no reader sees old posts again as new.
 */
export async function recordEntryIds(config: Config, published: PostMeta[], ids: EntryIds | undefined): Promise<EntryIds> {
  // An earlier herald left its build state, its newsletter state or its feeds.
  const upgrading =
    ids === undefined && ['build-state.json', 'post-cache.json', 'newsletter.json'].some((name) => existsSync(join(config.paths.state, name))) ||
    (ids === undefined && existsSync(join(config.paths.output, 'atom.xml')));
  const next: EntryIds = new Map(ids);
  for (const post of published) {
    if (next.has(post.file)) continue;
    next.set(post.file, upgrading ? legacyEntryId(post, config.site.url) : post.entryId);
  }
  applyEntryIds(published, next);
  if (next.size !== (ids?.size ?? -1)) {
    await writeFileAtomic(join(config.paths.state, FILE), `${JSON.stringify({ ids: Object.fromEntries(next) }, null, 1)}\n`, { dirMode: 0o700 });
  }
  return next;
}
