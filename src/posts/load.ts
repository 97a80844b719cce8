import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Config } from '../config.js';
import { HeraldError, type Problem } from '../errors.js';
import { parsePost, postBody, shareAlike, type PostMeta } from './parse.js';
import { readFrontText, readPostText } from './read.js';
import type { PostFile } from './scan.js';

/**
 * A post's file by its absolute path, as scanPostFiles names it and the post cache keys it, from
 * post.file, which names it relative to cwd when it is below it (loadPosts): joining the two back
 * needs no resolve(), which costs a large site tens of milliseconds a build.
 */
export function postFilePath(cwd: string): (file: string) => string {
  const prefix = cwd.endsWith(sep) ? cwd : cwd + sep;
  return (file) => (isAbsolute(file) || file.startsWith('..') ? resolve(cwd, file) : prefix + file);
}

/**
 * What a post's file is now, for the fingerprints of the pages and feed documents that show it: its
 * name (renamed, a file keeps its size and mtime, and its name may give the post's date, slug and
 * URL), size and mtime, from `stamps` (the post cache, keyed by absolute path).
 */
export function postFileStamps(cwd: string, stamps: ReadonlyMap<string, { size: number; mtimeMs: number }>): (post: PostMeta) => string {
  const pathOf = postFilePath(cwd);
  return (post) => {
    const file = stamps.get(pathOf(post.file));
    return `${post.file}\0${file?.size}\0${file?.mtimeMs}`;
  };
}

/** What a post file parsed to last time, valid while its size and mtime stay the same. */
export interface CachedPost {
  size: number;
  mtimeMs: number;
  result: { ok: true; meta: PostMeta; warnings: Problem[] } | { ok: false; problems: Problem[] };
}

export interface LoadedPosts {
  /** Every readable post, drafts and future ones included, sorted by file. */
  posts: PostMeta[];
  problems: Problem[];
  /** What readers would see wrong in posts that are published all the same (duplicated keys, generator syntax). */
  warnings: Problem[];
  /** The cache to keep for next time: one entry per post file that exists now. */
  cache: Map<string, CachedPost>;
  /** How many files were parsed because they were new or changed. */
  parsed: number;
}

/**
 * Parses the front matter of the scanned post files, reusing `previous` results for files whose
 * size and mtime are unchanged. Bodies are not kept: readPostBody reads them when rendering.
 */
export async function loadPosts(config: Config, cwd: string, files: PostFile[], previous: ReadonlyMap<string, CachedPost>): Promise<LoadedPosts> {
  const changed = files.filter(({ path, size, mtimeMs }) => {
    const entry = previous.get(path);
    return !entry || entry.size !== size || entry.mtimeMs !== mtimeMs;
  });
  const fresh = new Map<string, CachedPost | { readError: Problem }>();
  const prefix = cwd.endsWith(sep) ? cwd : cwd + sep;
  // Each post is parsed as soon as it is read, so only one post's text is held at a time. (A
  // helper thread reading ahead cost more than it saved once most front matter went to
  // plain-yaml.ts: at 1,000, 10,000 and 50,000 posts, on a machine with other work running.)
  for (const { path, size, mtimeMs } of changed) {
    const shown = path.startsWith(prefix) ? path.slice(prefix.length) : relative(cwd, path) || path;
    const [text, error] = readFrontText(path);
    if (text === null) {
      const readError: Problem = { code: 'E_POST_READ', file: shown, message: `cannot read the post: ${error}`, hint: 'check that the file exists and is readable' };
      fresh.set(path, { readError });
      continue;
    }
    const result = parsePost(text, shown, config);
    fresh.set(path, { size, mtimeMs, result: result.ok ? { ok: true, meta: result.meta, warnings: result.warnings } : result });
  }
  const cache = new Map<string, CachedPost>();
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const posts: PostMeta[] = [];
  for (const { path } of files) {
    const entry = fresh.get(path) ?? previous.get(path)!;
    if ('readError' in entry) {
      problems.push(entry.readError);
      continue;
    }
    cache.set(path, entry);
    if (entry.result.ok) {
      // From the cache file, it shares what a fresh parse would (parse.ts).
      posts.push(shareAlike(entry.result.meta));
      warnings.push(...(entry.result.warnings ?? []));
    } else problems.push(...entry.result.problems);
  }
  return { posts: rejectDuplicateUrls(posts, problems), problems, warnings, cache, parsed: changed.length };
}

// Two posts at one URL would replace each other's page and share a feed id. The one dated first
// keeps it: readers and links already know it, so a new post cannot take its place. A tie goes
// to the first file by name. Two posts with one slug at different URLs (dated permalinks) are fine.
function rejectDuplicateUrls(posts: PostMeta[], problems: Problem[]): PostMeta[] {
  // URLs differing only in case are one page on a case-insensitive disk or host.
  const keys = posts.map((post) => post.url.toLowerCase());
  const owners = new Map<string, PostMeta>();
  posts.forEach((post, index) => {
    const owner = owners.get(keys[index]!);
    if (!owner || post.date < owner.date) owners.set(keys[index]!, post);
  });
  return posts.filter((post, index) => {
    const owner = owners.get(keys[index]!)!;
    if (owner === post) return true;
    problems.push({
      code: 'E_POST_SLUG',
      file: post.file,
      line: post.urlSource.line,
      field: post.urlSource.field,
      message: post.slug === owner.slug ? `slug "${post.slug}" is already used by ${owner.file}` : `its URL ${post.url} is already ${owner.file}'s`,
      hint: `both would be at ${post.url}; give this post its own address: rename the file, or set another slug (or url, or permalink) in its front matter`,
    });
    return false;
  });
}

/** Reads a post again for its body, to render it; its front matter was read when it was loaded. */
export function readPostBody(path: string, shown: string): string {
  // The file was read a moment ago (or its stamp was): an editor or git may have moved it since.
  const changed = (what: string) => new HeraldError({ code: 'E_POST_READ', file: shown, message: `the post ${what} while herald was building`, hint: 'build again: the next build reads the post as it is then' });
  let text: string;
  try {
    text = readPostText(path, false);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw changed('was removed or renamed');
    throw error;
  }
  const body = postBody(text);
  if (body === undefined) throw changed('changed');
  return body;
}
