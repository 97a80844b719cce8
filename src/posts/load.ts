import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
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
    fresh.set(path, { size, mtimeMs, result: result.ok ? { ok: true, meta: result.meta } : result });
  };
  const paths = changed.map((file) => file.path);
  let index = 0;
  for await (const batch of paths.length >= READ_AHEAD_THRESHOLD ? readAhead(paths) : readHere(paths)) {
    for (const read of batch) parse(read, changed[index++]!);
  }
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

type ReadResult = [path: string, text: string | null, error?: string];

function* readHere(paths: string[]): Generator<ReadResult[]> {
  yield paths.map((path): ReadResult => {
    try {
      return [path, readText(path)];
    } catch (error) {
      return [path, null, (error as NodeJS.ErrnoException).code ?? (error as Error).message];
    }
  });
}

// Reading thousands of small files is mostly system calls. A helper thread reads ahead, in order,
// while this thread parses, so the two overlap on separate cores. It is plain CommonJS with no
// imports of herald's own, so it starts in milliseconds and needs no bundling.
const READ_AHEAD_THRESHOLD = 1000;
const READER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
let batch = [];
for (const path of workerData) {
  try { batch.push([path, readFileSync(path, 'utf8')]); }
  catch (error) { batch.push([path, null, error.code || error.message]); }
  if (batch.length === 100) { parentPort.postMessage(batch); batch = []; }
}
parentPort.postMessage(batch);
`;

async function* readAhead(paths: string[]): AsyncGenerator<ReadResult[]> {
  const worker = new Worker(READER_SOURCE, { eval: true, workerData: paths });
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
      if (!batches.length) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      const batch = batches.shift() ?? [];
      received += batch.length;
      yield batch;
    }
  } finally {
    await worker.terminate();
  }
}

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
  return result.body();
}
