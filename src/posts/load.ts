import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { parsePost, type PostMeta } from './parse.js';

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

const POST_FILE = /\.(md|markdown)$/i;

/** Lists post files below `dir`, skipping hidden files and folders. Sorted for stable output. */
export function listPostFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => POST_FILE.test(entry) && !entry.split(sep).some((part) => part.startsWith('.')))
    .map((entry) => join(dir, entry))
    .sort();
}

export function loadPosts(config: Config, cwd: string, previous: ReadonlyMap<string, CachedPost>): LoadedPosts {
  const cache = new Map<string, CachedPost>();
  const problems: Problem[] = [];
  const posts: PostMeta[] = [];
  let parsed = 0;
  for (const path of listPostFiles(config.paths.posts)) {
    const shown = relative(cwd, path) || path;
    let entry: CachedPost;
    try {
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      const known = previous.get(path);
      if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) {
        entry = known;
      } else {
        const result = parsePost(readFileSync(path, 'utf8'), shown, config);
        entry = { size: stat.size, mtimeMs: stat.mtimeMs, result: result.ok ? { ok: true, meta: result.meta } : result };
        parsed++;
      }
    } catch (error) {
      problems.push({
        code: 'E_POST_READ',
        file: shown,
        message: `cannot read the post: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        hint: 'check that the file exists and is readable',
      });
      continue;
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
