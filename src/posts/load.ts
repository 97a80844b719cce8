import { Worker } from 'node:worker_threads';
import { relative, sep } from 'node:path';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { parsePost, type PostMeta } from './parse.js';
import { readFrontMatters, readPostText, type ReadResult } from './read.js';
import type { PostFile } from './scan.js';

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
  const parse = ([path, text, error]: ReadResult, { size, mtimeMs }: PostFile) => {
    const shown = path.startsWith(prefix) ? path.slice(prefix.length) : relative(cwd, path) || path;
    if (text === null) {
      const readError: Problem = { code: 'E_POST_READ', file: shown, message: `cannot read the post: ${error}`, hint: 'check that the file exists and is readable' };
      fresh.set(path, { readError });
      return;
    }
    const result = parsePost(text, shown, config);
    fresh.set(path, { size, mtimeMs, result: result.ok ? { ok: true, meta: result.meta, warnings: result.warnings } : result });
  };
  const paths = changed.map((file) => file.path);
  let index = 0;
  for await (const batch of CAN_READ_AHEAD && paths.length >= READ_AHEAD_THRESHOLD ? readAhead(paths) : [readFrontMatters(paths)]) {
    for (const read of batch) parse(read, changed[index++]!);
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
      posts.push(entry.result.meta);
      warnings.push(...(entry.result.warnings ?? []));
    } else problems.push(...entry.result.problems);
  }
  return { posts: rejectDuplicateUrls(posts, problems), problems, warnings, cache, parsed: changed.length };
}

// Reading thousands of small files is mostly system calls. A helper thread reads ahead, in order,
// while this thread parses, so the two overlap on separate cores. Only the built herald
// (dist/read-worker.js) has the thread: run from TypeScript source, a worker could not load it.
const READ_AHEAD_THRESHOLD = 1000;
const CAN_READ_AHEAD = !import.meta.url.endsWith('.ts');

async function* readAhead(paths: string[]): AsyncGenerator<ReadResult[]> {
  const worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: paths });
  const batches: ReadResult[][] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let received = 0;
  worker.on('message', (batch: ReadResult[]) => {
    batches.push(batch);
    wake?.();
  });
  worker.on('error', (error) => {
    failure = error;
    wake?.();
  });
  try {
    while (received < paths.length) {
      if (!batches.length && !failure) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const batch = batches.shift() ?? [];
      received += batch.length;
      yield batch;
    }
  } finally {
    await worker.terminate();
  }
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

/** Reads a post again for its body, for the few posts that are rendered into feeds. */
export function readPostBody(path: string, config: Config, shown: string): string {
  const result = parsePost(readPostText(path, false), shown, config);
  if (!result.ok) throw new Error(`${shown} changed while herald was reading it`);
  return result.body();
}
