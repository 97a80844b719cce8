import { createHash } from 'node:crypto';
import { realpathSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { lookup } from 'mime-types';
import { HttpError } from './http.js';

/** What serving a site's output folder needs: where it is, the headers of every answer, and the feeds' file names. */
export interface StaticSite {
  outputDir: string;
  headers: Record<string, string>;
  /** File name -> content type, for the feeds (readers look for their own types). */
  feedTypes: Record<string, string>;
}

/** The feeds' names (feed.paths) with the types feed readers look for. */
export function feedTypes(paths: { rss: string; atom: string; json: string }): Record<string, string> {
  const name = (path: string) => path.split('/').pop()!;
  return {
    [name(paths.rss)]: 'application/rss+xml; charset=utf-8',
    [name(paths.atom)]: 'application/atom+xml; charset=utf-8',
    [name(paths.json)]: 'application/feed+json; charset=utf-8',
  };
}

function contentType(name: string, feeds: Record<string, string>): string {
  const type = feeds[name] ?? lookup(name);
  if (!type) return 'application/octet-stream';
  return /^text\/|\/(json|xml|javascript)$|\+xml$/.test(type) ? `${type}; charset=utf-8` : type;
}

const NOT_FOUND = 'There is nothing here.';

/**
 * The path segments a URL path names below the output folder. Decoded before splitting, so an
 * encoded slash or dot (`..%2f`, `%2egit`) is judged like the plain one. A segment starting with
 * `.` is never served: `..` would climb out, and dot folders are where private things live
 * (`.git`, `.env`, herald's own `.herald`) if someone builds into a folder that holds them.
 */
export function staticSegments(pathname: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, 'That address is not valid.');
  }
  if (decoded.includes('\0')) throw new HttpError(400, 'That address is not valid.');
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some(hidden)) throw new HttpError(404, NOT_FOUND);
  return segments;
}

function hidden(segment: string): boolean {
  return segment.startsWith('.');
}

// The real path must still be below the real output folder, and not in a hidden folder there: a
// symlink may point anywhere, and following one out of output would serve whatever it names.
// Looked up synchronously: for a local output folder these answer from the kernel's caches in
// microseconds, less than a trip through libuv's thread pool and a promise, which made up most of
// the cost of a 304.
function realInside(path: string, rootReal: string): string | undefined {
  const real = realPath(path);
  if (real === undefined) return undefined;
  const below = relative(rootReal, real);
  if (below === '') return real;
  return below.split(sep).some(hidden) ? undefined : real;
}

// The output folder's real path, remembered: asking for it on every request costs one more trip
// to the file system each time. When a lookup fails it is asked again, so an output folder moved
// or relinked since (a deploy that flips a symlink) is followed.
const realRoots = new Map<string, string>();

function realRoot(outputDir: string, fresh: boolean): string | undefined {
  const known = realRoots.get(outputDir);
  if (known !== undefined && !fresh) return known;
  const real = realPath(outputDir);
  if (real === undefined) realRoots.delete(outputDir);
  else realRoots.set(outputDir, real);
  return real;
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

const STAT_OPTIONS = { throwIfNoEntry: false } as const;
const statOf = (path: string | undefined): Stats | undefined => {
  if (path === undefined) return undefined;
  try {
    return statSync(path, STAT_OPTIONS);
  } catch {
    return undefined;
  }
};

function resolveFile(segments: string[], outputDir: string, rootReal: string): { path: string; name: string; info: Stats } | undefined {
  let name = segments.at(-1) ?? 'index.html';
  let path = realInside(join(outputDir, ...segments), rootReal);
  let info = statOf(path);
  // A page at a permalink without a trailing slash is written as name.html and served at the
  // name, as GitHub Pages and Netlify do.
  if (!info && name && !extname(name)) {
    const page = realInside(join(outputDir, ...segments.slice(0, -1), `${name}.html`), rootReal);
    const pageInfo = statOf(page);
    if (pageInfo?.isFile()) return { path: page!, name: `${name}.html`, info: pageInfo };
  }
  if (path !== undefined && info?.isDirectory()) {
    name = 'index.html';
    path = realInside(join(path, name), rootReal);
    info = statOf(path);
  }
  return path !== undefined && info?.isFile() ? { path, name, info } : undefined;
}

// Files as last read, keyed by real path and valid while size and mtime hold: herald replaces
// files by rename, so a changed file always has a new mtime. Small and bounded: feeds and pages are few.
const fileCache = new Map<string, { size: number; mtimeMs: number; body: Buffer; etag: string }>();

async function cachedFile(path: string, size: number, mtimeMs: number): Promise<{ body: Buffer; etag: string }> {
  const known = fileCache.get(path);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known;
  const body = await readFile(path);
  const entry = { size, mtimeMs, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
  if (fileCache.size >= 512) fileCache.clear();
  if (body.length <= 1 << 20) fileCache.set(path, entry);
  return entry;
}

/**
 * Answers a GET or HEAD for `pathname` from `outputDir`, with ETag, Last-Modified and 304s. Throws
 * HttpError 400 for an address that cannot be decoded, 404 for anything not servable.
 */
export async function serveStatic(request: IncomingMessage, response: ServerResponse, pathname: string, site: StaticSite): Promise<void> {
  const { outputDir } = site;
  const segments = staticSegments(pathname);
  const known = realRoot(outputDir, false);
  let found = known === undefined ? undefined : resolveFile(segments, outputDir, known);
  if (!found) {
    const fresh = realRoot(outputDir, true);
    if (fresh !== undefined && fresh !== known) found = resolveFile(segments, outputDir, fresh);
  }
  if (!found) throw new HttpError(404, NOT_FOUND);
  const { path, name, info } = found;
  const { body, etag } = await cachedFile(path, info.size, info.mtimeMs);
  const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
  const headers = {
    ...site.headers,
    // By the name asked for, not the symlink's target: that is the name the reader sees.
    'Content-Type': contentType(name, site.feedTypes),
    ETag: etag,
    'Last-Modified': lastModified.toUTCString(),
    'Cache-Control': 'public, max-age=300',
  };
  const ifNoneMatch = request.headers['if-none-match'];
  const ifModifiedSince = request.headers['if-modified-since'];
  const notModified = ifNoneMatch
    ? ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === `W/${etag}`)
    : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= lastModified.getTime();
  if (notModified) {
    response.writeHead(304, headers);
    return void response.end();
  }
  response.writeHead(200, { ...headers, 'Content-Length': String(body.length) });
  response.end(request.method === 'HEAD' ? undefined : body);
}
