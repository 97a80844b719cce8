import { closeSync, openSync, readSync } from 'node:fs';
import { relative, sep } from 'node:path';
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
  const changed = files.filter(({ path, size, mtimeMs }) => {
    const entry = previous.get(path);
    return !entry || entry.size !== size || entry.mtimeMs !== mtimeMs;
  });
  const fresh = new Map(parseFiles(config, cwd, changed));
  const cache = new Map<string, CachedPost>();
  const problems: Problem[] = [];
  const posts: PostMeta[] = [];
  for (const { path } of files) {
    const entry = fresh.get(path) ?? previous.get(path)!;
    if ('readError' in entry) {
      problems.push(entry.readError);
      continue;
    }
    cache.set(path, entry);
    if (entry.result.ok) posts.push(entry.result.meta);
    else problems.push(...entry.result.problems);
  }
  return { posts: rejectDuplicateSlugs(posts, problems), problems, cache, parsed: changed.length };
}

type ParsedFile = [path: string, entry: CachedPost | { readError: Problem }];

// One buffer reused for every read: cheaper than readFileSync's allocation per file.
let readBuffer = Buffer.allocUnsafe(1 << 16);

function readText(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === readBuffer.length) {
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger);
        readBuffer = bigger;
      }
      const read = readSync(fd, readBuffer, length, readBuffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return readBuffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function parseFiles(config: Config, cwd: string, files: PostFile[]): ParsedFile[] {
  const prefix = cwd.endsWith(sep) ? cwd : cwd + sep;
  return files.map(({ path, size, mtimeMs }): ParsedFile => {
    const shown = path.startsWith(prefix) ? path.slice(prefix.length) : relative(cwd, path) || path;
    let text: string;
    try {
      text = readText(path);
    } catch (error) {
      const readError: Problem = {
        code: 'E_POST_READ',
        file: shown,
        message: `cannot read the post: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        hint: 'check that the file exists and is readable',
      };
      return [path, { readError }];
    }
    const result = parsePost(text, shown, config);
    return [path, { size, mtimeMs, result: result.ok ? { ok: true, meta: result.meta } : result }];
  });
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
  const result = parsePost(readText(path), shown, config);
  if (!result.ok) throw new Error(`${shown} changed while herald was reading it`);
  return result.body;
}
