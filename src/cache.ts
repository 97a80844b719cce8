import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { writeFileAtomic } from './files.js';
import type { CachedPost } from './posts/load.js';
import type { Topic } from './posts/parse.js';
import { HERALD_VERSION } from './version.js';

export interface OutputStamp {
  size: number;
  mtimeMs: number;
}

/** What the last build saw and wrote, so the next one can skip what did not change. */
export interface BuildCache {
  posts: Map<string, CachedPost>;
  /** Hash of everything the feeds were made from. */
  feedsFingerprint: string;
  /** Topics that have a feed. */
  topics: Topic[];
  /** Output files as the last build left them. */
  outputs: Record<string, OutputStamp>;
}

interface CacheFile {
  key: string;
  posts: [string, CachedPost][];
  feedsFingerprint: string;
  topics: Topic[];
  outputs: Record<string, OutputStamp>;
}

const CACHE_FILE = 'build-cache.json';

export function emptyCache(): BuildCache {
  return { posts: new Map(), feedsFingerprint: '', topics: [], outputs: {} };
}

// Anything that changes how a file parses or where it is shown invalidates every entry; so does
// a reinstall of herald itself (its files' mtime), even without a version bump.
const CODE_STAMP = statSync(fileURLToPath(import.meta.url)).mtimeMs;
function cacheKey(config: Config, cwd: string): string {
  return hash([HERALD_VERSION, CODE_STAMP, config.site, config.permalink, config.feed, config.paths, cwd]);
}

export function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url');
}

/** A missing, unreadable or outdated cache is an empty one: the build just does the full work. */
export function readBuildCache(config: Config, cwd: string): BuildCache {
  try {
    const file = JSON.parse(readFileSync(join(config.paths.state, CACHE_FILE), 'utf8')) as CacheFile;
    if (file.key !== cacheKey(config, cwd)) return emptyCache();
    return { posts: new Map(file.posts), feedsFingerprint: file.feedsFingerprint, topics: file.topics, outputs: file.outputs };
  } catch {
    return emptyCache();
  }
}

export async function writeBuildCache(config: Config, cwd: string, cache: BuildCache): Promise<void> {
  const file: CacheFile = {
    key: cacheKey(config, cwd),
    posts: [...cache.posts],
    feedsFingerprint: cache.feedsFingerprint,
    topics: cache.topics,
    outputs: cache.outputs,
  };
  await writeFileAtomic(join(config.paths.state, CACHE_FILE), JSON.stringify(file));
}
