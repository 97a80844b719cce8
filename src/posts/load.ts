import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { parsePost, type PostMeta } from './parse.js';
import type { PostFile } from './scan.js';

/** What a post file parsed to last time, valid while its size and mtime stay the same. */
export interface CachedPost {
  size: number;
  mtimeMs: number;
  result: { ok: true; meta: PostMeta } | { ok: false; problems: Problem[] };
}

export interface LoadedPosts {
  /** Every readable post, drafts and future ones included, sorted by file. */
  posts: PostMeta[];
  problems: Problem[];
  /** The cache to keep for next time: one entry per post file that exists now. */
  cache: Map<string, CachedPost>;
  /** How many files were parsed because they were new or changed. */
  parsed: number;
}

/** Parses the scanned post files, reusing `previous` results for files whose size and mtime are unchanged. */
export function loadPosts(config: Config, cwd: string, files: PostFile[], previous: ReadonlyMap<string, CachedPost>): LoadedPosts {
  const cache = new Map<string, CachedPost>();
  const problems: Problem[] = [];
  const posts: PostMeta[] = [];
  let parsed = 0;
  for (const { path, size, mtimeMs } of files) {
    const shown = relative(cwd, path) || path;
    let entry = previous.get(path);
    if (!entry || entry.size !== size || entry.mtimeMs !== mtimeMs) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        problems.push({
          code: 'E_POST_READ',
          file: shown,
          message: `cannot read the post: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          hint: 'check that the file exists and is readable',
        });
        continue;
      }
      const result = parsePost(text, shown, config);
      entry = { size, mtimeMs, result: result.ok ? { ok: true, meta: result.meta } : result };
      parsed++;
    }
    cache.set(path, entry);
    if (entry.result.ok) posts.push(entry.result.meta);
    else problems.push(...entry.result.problems);
  }
  return { posts: rejectDuplicateSlugs(posts, problems), problems, cache, parsed };
}

// Two posts with one slug would share a URL and a feed id; the first file (by name) keeps it.
function rejectDuplicateSlugs(posts: PostMeta[], problems: Problem[]): PostMeta[] {
  const owners = new Map<string, PostMeta>();
  return posts.filter((post) => {
    const key = post.slug.toLowerCase();
    const owner = owners.get(key);
    if (!owner) {
      owners.set(key, post);
      return true;
    }
    problems.push({
      code: 'E_POST_SLUG',
      file: post.file,
      line: post.slugLine,
      field: 'slug',
      message: `slug "${post.slug}" is already used by ${owner.file}`,
      hint: 'give this post its own slug: rename the file or add slug: another-name to the front matter',
    });
    return false;
  });
}

/** Reads a post again for its body, for the few posts that are rendered into feeds. */
export function readPostBody(path: string, config: Config, shown: string): string {
  const result = parsePost(readFileSync(path, 'utf8'), shown, config);
  if (!result.ok) throw new Error(`${shown} changed while herald was reading it`);
  return result.body;
}
