import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import type { Problem } from './errors.js';
import { writeFileAtomic } from './files.js';
import type { FeedRecord } from './feeds/dates.js';
import type { CachedPost } from './posts/load.js';
import type { Topic } from './posts/parse.js';
import type { PostFile } from './posts/scan.js';
import { HERALD_VERSION } from './version.js';

// Three files in the state folder. build-state.json is small and is all a no-change rebuild reads;
// build-records.json (a fingerprint per page and feed document) and post-cache.json (every post's
// parsed front matter) are read only when something changed.

export interface OutputStamp {
  size: number;
  mtimeMs: number;
}

/**
 * The stamp of an output file just written, for isIntact to check later. A file removed between
 * its write and this look (by hand, while the build ran) must not drop out of the record: it would
 * never be checked, nor made again. A stamp no file has makes the next build make it.
 */
export function writtenStamp(path: string): OutputStamp {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? { size: stat.size, mtimeMs: stat.mtimeMs } : { size: -1, mtimeMs: -1 };
}

/** Whether the file at `path` is still as `stamp` recorded it (same size and mtime). */
export function isIntact(path: string, stamp: OutputStamp | undefined): boolean {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat !== undefined && stamp !== undefined && stat.size === stamp.size && stat.mtimeMs === stamp.mtimeMs;
}

export interface PostCounts {
  published: number;
  draft: number;
  scheduled: number;
}

/** What the last build saw: all a build with nothing to do reads to find that out. */
export interface BuildCheck {
  /** Hash of every post file's path, size and mtime. */
  postsStamp: string;
  /** The feeds stay right while validFrom <= now < validUntil: no post is due to appear or vanish. */
  validFrom: number | null;
  validUntil: number | null;
  /** Output files as the last build left them. */
  outputs: Record<string, OutputStamp>;
  /** The static folders' and bundles' files as they were: unchanged, nothing is copied. */
  assetsStamp: string;
  templatesStamp: string;
  counts: PostCounts;
  problems: Problem[];
  warnings: Problem[];
}

/** What the last build made each file from: read only by a build that has something to do. */
export interface BuildRecords {
  /** Each feed document (subscription feed or archive) by its folder below output: what it was made from, what it shows, and since when. */
  feeds: Record<string, FeedRecord>;
  /** Topics that have a feed. */
  topics: Topic[];
  /** Archive pages herald wrote, with what each was made from; templatesStamp when they were. */
  pages: Record<string, string>;
  /** Files copied as they are (static folders, page bundles), with their sources' size and mtime. */
  copies: Record<string, string>;
}

export type BuildState = BuildCheck & BuildRecords;

const STATE_FILE = 'build-state.json';
const RECORDS_FILE = 'build-records.json';
const POSTS_FILE = 'post-cache.json';

// Anything that changes how a file parses or where it is shown invalidates the cache, as does what
// the page templates are given besides the posts (web.url, the postal address); so does a
// reinstall of herald itself (its files' mtime), even without a version bump.
const CODE_STAMP = statSync(fileURLToPath(import.meta.url)).mtimeMs;
function cacheKey(config: Config, cwd: string): string {
  // How posts are read (their topic keys, Liquid, times without an offset) is how each one parsed.
  const posts = { ...config.posts, ignoredTopics: [...config.posts.ignoredTopics] };
  return hash([HERALD_VERSION, CODE_STAMP, config.site, config.web.url, config.email.address, config.permalink, config.feed, config.paths, posts, cwd]);
}

export function hash(value: unknown): string {
  return createHash('sha256').update(typeof value === 'string' ? value : JSON.stringify(value)).digest('base64url');
}

/**
 * The writer's own templates as they are now, partials in sub-folders too (herald's built-in ones
 * change only with herald), and the includes of posts that run Liquid (postIncludesStamp).
 */
export function templatesStamp(config: Config): string {
  return `${folderStamp(config.paths.templates)}#${postIncludesStamp(config)}`;
}

/** The _includes folder's files as they are now, when posts run Liquid (posts.liquid): they are part of each post's text. */
export function postIncludesStamp(config: Config): string {
  return config.posts.liquid ? folderStamp(config.paths.includes) : '';
}

// Every file below a folder by name, size and mtime; '' when there is no folder.
function folderStamp(dir: string): string {
  let names: string[];
  try {
    names = (readdirSync(dir, { recursive: true }) as string[]).sort();
  } catch {
    return '';
  }
  return names
    .map((name) => {
      const stat = statSync(join(dir, name), { throwIfNoEntry: false });
      return stat?.isFile() ? `${name}:${stat.size}:${stat.mtimeMs}` : '';
    })
    .join('|');
}

export function stampOfPosts(files: PostFile[]): string {
  let text = '';
  for (const file of files) text += `${file.path}\0${file.size}\0${file.mtimeMs}\n`;
  return hash(text);
}

// A missing, unreadable or outdated cache reads as empty: the build just does the full work.
function readKeyed<T>(config: Config, cwd: string, name: string): T | undefined {
  try {
    const file = JSON.parse(readFileSync(join(config.paths.state, name), 'utf8')) as { key: string; value: T };
    return file.key === cacheKey(config, cwd) ? file.value : undefined;
  } catch {
    return undefined;
  }
}

function writeKeyed(config: Config, cwd: string, name: string, value: unknown): Promise<void> {
  // A build is often what makes the state folder, which will also hold the secret and the ledger.
  return writeFileAtomic(join(config.paths.state, name), jsonPieces({ key: cacheKey(config, cwd), value }), { durable: false, mode: 0o600, dirMode: 0o700 });
}

const JSON_PIECE = 64 * 1024;

/**
 * JSON.stringify(value)'s text in pieces of about 64 KB, made as they are written, so a large
 * site's state is never one string in memory, nor its bytes: at 50,000 posts the post cache is
 * 29 MB, and writing it as one string was the peak of a whole build's memory. Arrays and objects
 * are taken apart `depth` levels down (the file's wrapper, the map, its entries); below that,
 * JSON.stringify.
 */
export function* jsonPieces(value: unknown, depth = 3): Generator<string, void, undefined> {
  let text = '';
  // Taken apart: plain arrays and objects. A date, a boxed string or anything with toJSON is
  // written by JSON.stringify, as it would be inside JSON.stringify.
  const isContainer = (item: unknown): item is object =>
    item !== null && typeof item === 'object' && typeof (item as { toJSON?: unknown }).toJSON !== 'function' && !(item instanceof String || item instanceof Number || item instanceof Boolean);
  function* walk(item: object, depth: number): Generator<string, void, undefined> {
    const isArray = Array.isArray(item);
    text += isArray ? '[' : '{';
    let first = true;
    for (const [key, entry] of isArray ? item.entries() : Object.entries(item)) {
      const whole = depth === 1 || !isContainer(entry);
      const json = whole ? JSON.stringify(entry) : undefined;
      // What JSON.stringify leaves out of an object (undefined, a function), and writes as null in an array.
      if (whole && json === undefined && !isArray) continue;
      text += first ? '' : ',';
      first = false;
      if (!isArray) text += `${JSON.stringify(key)}:`;
      if (whole) text += json ?? 'null';
      else yield* walk(entry as object, depth - 1);
      if (text.length >= JSON_PIECE) {
        yield text;
        text = '';
      }
    }
    text += isArray ? ']' : '}';
  }
  if (depth > 0 && isContainer(value)) yield* walk(value, depth);
  else text += JSON.stringify(value) ?? '';
  yield text;
}

export function readBuildState(config: Config, cwd: string): BuildCheck | undefined {
  return readKeyed<BuildCheck>(config, cwd, STATE_FILE);
}

export function readBuildRecords(config: Config, cwd: string): BuildRecords | undefined {
  return readKeyed<BuildRecords>(config, cwd, RECORDS_FILE);
}

// The records first: a build killed between the two leaves the check of the build before, which
// no longer matches what is on disk, so the next build does the work again.
export async function writeBuildState(config: Config, cwd: string, { feeds, topics, pages, copies, ...check }: BuildState): Promise<void> {
  await writeKeyed(config, cwd, RECORDS_FILE, { feeds, topics, pages, copies } satisfies BuildRecords);
  await writeKeyed(config, cwd, STATE_FILE, check satisfies BuildCheck);
}

export function readPostCache(config: Config, cwd: string): Map<string, CachedPost> {
  return new Map(readKeyed<[string, CachedPost][]>(config, cwd, POSTS_FILE) ?? []);
}

export function writePostCache(config: Config, cwd: string, posts: Map<string, CachedPost>): Promise<void> {
  return writeKeyed(config, cwd, POSTS_FILE, [...posts]);
}
