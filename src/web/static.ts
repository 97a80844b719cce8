import { createHash } from 'node:crypto';
import { constants, realpathSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { lookup } from 'mime-types';
import { COMPRESSIBLE, ENCODINGS } from '../output.js';
import { HttpError } from './http.js';

type Encoding = (typeof ENCODINGS)[number]['encoding'];

/** What serving a site's output folder needs: where it is, the headers of every answer, and the feeds' file names. */
export interface StaticSite {
  outputDir: string;
  headers: Record<string, string>;
  /** File name -> content type, for the feeds (readers look for their own types). */
  feedTypes: Record<string, string>;
  /** The headers of RSS and Atom answers, in place of `headers`: a browser shows them through the feed stylesheet (feedSecurityHeaders). */
  feedHeaders: Record<string, string>;
}

const RSS_TYPE = 'application/rss+xml; charset=utf-8';
const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
/** RSS and Atom as a browser opening them gets them (wantsPage). */
const PAGE_TYPE = 'application/xml; charset=utf-8';

/** The feeds' names (feed.paths) with the types feed readers look for. */
export function feedTypes(paths: { rss: string; atom: string; json: string }): Record<string, string> {
  const name = (path: string) => path.split('/').pop()!;
  return {
    [name(paths.rss)]: RSS_TYPE,
    [name(paths.atom)]: ATOM_TYPE,
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
// One cache per site served, as the answers' headers are the site's.
interface CachedFile {
  size: number;
  mtimeMs: number;
  lastModifiedMs: number;
  body: Buffer;
  /** The body's SHA-1: each variant's ETag is made from it (variantTag). */
  hash: string;
  /** Compressed copies by encoding, read when first asked for; no body: none fresh when last looked. */
  copies: Map<Encoding, { body?: Buffer; checkedAt: number }>;
  /** Answers as sent, by the name asked for and the variant (answerFor): made once, not per request. */
  answers: Map<string, Answer>;
}

interface Answer {
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
  /** The headers of a 304 for this variant: no Content-Length or Content-Encoding, which describe a body. */
  notModified: Record<string, string>;
}

const fileCaches = new WeakMap<StaticSite, Map<string, CachedFile>>();

async function cachedFile(site: StaticSite, path: string, size: number, mtimeMs: number): Promise<CachedFile> {
  let cache = fileCaches.get(site);
  if (!cache) fileCaches.set(site, (cache = new Map()));
  const known = cache.get(path);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known;
  // Stat and bytes of one open file: a build replacing it meanwhile cannot pair new bytes with the
  // old mtime, against which the copies' freshness is judged.
  const read = await readOpen(path, 0);
  if (!read) throw new HttpError(404, NOT_FOUND);
  const { body, info } = read;
  const entry: CachedFile = {
    size: info.size,
    mtimeMs: info.mtimeMs,
    // HTTP dates have whole seconds.
    lastModifiedMs: Math.floor(info.mtimeMs / 1000) * 1000,
    body,
    hash: createHash('sha1').update(body).digest('base64url'),
    copies: new Map(),
    answers: new Map(),
  };
  if (cache.size >= 512) cache.clear();
  if (body.length <= 1 << 20) cache.set(path, entry);
  return entry;
}

async function readOpen(path: string, flags: number): Promise<{ body: Buffer; info: Stats } | undefined> {
  const file = await open(path, constants.O_RDONLY | flags).catch(() => undefined);
  if (!file) return undefined;
  try {
    const info = await file.stat();
    return info.isFile() ? { body: await file.readFile(), info } : undefined;
  } finally {
    await file.close();
  }
}

// A copy missing or stale is looked for again after this long: a build that only remakes the
// copies (of a site built before herald made them) leaves the file, and so its cache entry, as it was.
const COPY_RECHECK_MS = 2000;

/**
 * The compressed copy writeOutput made beside the file (`rss.xml.br`), when it is fresh: no older
 * than the file (copiesFresh's rule) and the file still the entry's once the copy is read, so a
 * build in between never pairs one version's copy with another's ETag. Not followed if it is a
 * symlink: the file's real path was checked to be inside output, its copy's was not.
 */
async function loadCopy(path: string, entry: CachedFile, encoding: Encoding, suffix: string): Promise<Buffer | undefined> {
  const read = await readOpen(path + suffix, constants.O_NOFOLLOW ?? 0);
  const now = statOf(path);
  const fresh = read !== undefined && read.info.mtimeMs >= entry.mtimeMs && now?.size === entry.size && now.mtimeMs === entry.mtimeMs;
  entry.copies.set(encoding, { body: fresh ? read.body : undefined, checkedAt: Date.now() });
  return fresh ? read.body : undefined;
}

const SUFFIXES = new Map(ENCODINGS.map(({ encoding, suffix }) => [encoding, suffix]));

/** The best encoding among `encodings` (best first) with a fresh copy, or none: then the file is sent as it is. */
async function chooseCopy(path: string, entry: CachedFile, encodings: readonly Encoding[]): Promise<Encoding | undefined> {
  for (const encoding of encodings) {
    const known = entry.copies.get(encoding);
    if (known?.body) return encoding;
    if (known && Date.now() - known.checkedAt < COPY_RECHECK_MS) continue;
    if (await loadCopy(path, entry, encoding, SUFFIXES.get(encoding)!)) return encoding;
  }
  return undefined;
}

/**
 * The encodings of ENCODINGS a client takes, best first, from its Accept-Encoding (RFC 9110
 * 12.5.3): q-values, `*` for any coding it does not name, `x-gzip` for gzip; ties go to ENCODINGS'
 * order (brotli is smaller). One the client ranks below identity is left out. No header: none, as
 * every server does (a client that says nothing may decode nothing).
 */
export function acceptedEncodings(header: string | undefined): readonly Encoding[] {
  if (!header) return [];
  const known = acceptedCache.get(header);
  if (known) return known;
  const weights = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim() === 'x-gzip' ? 'gzip' : name.trim();
    if (coding) weights.set(coding, qValue(params));
  }
  const any = weights.get('*') ?? 0;
  // An identity the header does not name is what is left when nothing else is taken.
  const identity = weights.get('identity') ?? 0;
  const accepted = ENCODINGS.map(({ encoding }) => ({ encoding, q: weights.get(encoding) ?? any }))
    .filter(({ q }) => q > 0 && q >= identity)
    .sort((a, b) => b.q - a.q)
    .map(({ encoding }) => encoding);
  // Clients send a handful of distinct headers; a bound keeps made-up ones from filling memory.
  if (acceptedCache.size >= 256) acceptedCache.clear();
  if (header.length <= 256) acceptedCache.set(header, accepted);
  return accepted;
}

const acceptedCache = new Map<string, readonly Encoding[]>();

// A malformed weight counts as 0: nothing is sent in a coding the client may not have asked for.
function qValue(params: string[]): number {
  for (const param of params) {
    const [key = '', value = ''] = param.split('=');
    if (key.trim() !== 'q') continue;
    return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value.trim()) ? Number(value) : 0;
  }
  return 1;
}

/**
 * Whether a feed request comes from a browser opening the feed, which then gets it as
 * application/xml: Chromium shows application/rss+xml and application/atom+xml as plain text and
 * applies no stylesheet, while as application/xml it shows the page the stylesheet makes. A browser
 * navigating asks for text/html and names no feed type; a feed reader names its types or takes
 * anything (often without naming text/html), and keeps getting them.
 */
function wantsPage(accept: string | undefined, feedType: string): boolean {
  if (!accept?.includes('text/html')) return false;
  const own = feedType.split(';')[0]!;
  let html = false;
  for (const part of accept.toLowerCase().split(',')) {
    const [range = '', ...params] = part.split(';');
    if (qValue(params) <= 0) continue;
    const type = range.trim();
    if (type === own) return false;
    if (type === 'text/html') html = true;
  }
  return html;
}

/**
 * A variant's ETag: the same bytes compressed, or shown to a browser under another type, are another
 * representation, and caches tell stored ones apart by their ETags (RFC 9111 4.3.4).
 */
function variantTag(hash: string, asPage: boolean, encoding: Encoding | undefined): string {
  return `"${hash}${asPage ? '-xml' : ''}${encoding ? `-${encoding}` : ''}"`;
}

/** The answer of one variant of a file, under the name asked for (a symlink's, not its target's). */
function answerFor(file: CachedFile, site: StaticSite, name: string, asPage: boolean, encoding: Encoding | undefined): Answer {
  const key = `${asPage ? 'page' : 'file'} ${encoding ?? 'identity'} ${name}`;
  const known = file.answers.get(key);
  if (known) return known;
  const styled = site.feedTypes[name] === RSS_TYPE || site.feedTypes[name] === ATOM_TYPE;
  const etag = variantTag(file.hash, asPage, encoding);
  const notModified: Record<string, string> = {
    ...(styled ? site.feedHeaders : site.headers),
    'Content-Type': asPage ? PAGE_TYPE : contentType(name, site.feedTypes),
    ETag: etag,
    'Last-Modified': new Date(file.lastModifiedMs).toUTCString(),
    'Cache-Control': 'public, max-age=300',
  };
  if (COMPRESSIBLE.test(name)) notModified.Vary = styled ? 'Accept, Accept-Encoding' : 'Accept-Encoding';
  const body = encoding ? file.copies.get(encoding)!.body! : file.body;
  const headers = { ...notModified, ...(encoding ? { 'Content-Encoding': encoding } : {}), 'Content-Length': String(body.length) };
  const answer = { body, etag, headers, notModified };
  // A name reached by many symlinks cannot grow the map without bound.
  if (file.answers.size < 16) file.answers.set(key, answer);
  return answer;
}

/** The first of `tags` that If-None-Match names (weakly, RFC 9110 13.1.2), or for `*` the first. */
function matchedTag(ifNoneMatch: string, tags: string[]): string | undefined {
  const named = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (named.includes('*')) return tags[0];
  return tags.find((tag) => named.includes(tag));
}

/**
 * Answers a GET or HEAD for `pathname` from `outputDir`, with ETag, Last-Modified and 304s, and a
 * compressed copy the client takes when the build made one. Throws HttpError 400 for an address
 * that cannot be decoded, 404 for anything not servable.
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
  const file = await cachedFile(site, path, info.size, info.mtimeMs);
  const feedType = site.feedTypes[name];
  const asPage = (feedType === RSS_TYPE || feedType === ATOM_TYPE) && wantsPage(request.headers.accept, feedType);
  const encoding = COMPRESSIBLE.test(name) ? await chooseCopy(path, file, acceptedEncodings(request.headers['accept-encoding'])) : undefined;
  const answer = answerFor(file, site, name, asPage, encoding);
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch) {
    // A cache holding the uncompressed variant may ask with its ETag while taking br: its copy is
    // current, and the 304 names the variant it holds.
    const plain = encoding && answerFor(file, site, name, asPage, undefined);
    const held = matchedTag(ifNoneMatch, plain ? [answer.etag, plain.etag] : [answer.etag]);
    if (held !== undefined) return notModified(response, held === answer.etag ? answer : plain!);
  } else {
    const ifModifiedSince = request.headers['if-modified-since'];
    if (ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= file.lastModifiedMs) return notModified(response, answer);
  }
  response.writeHead(200, answer.headers);
  response.end(request.method === 'HEAD' ? undefined : answer.body);
}

function notModified(response: ServerResponse, answer: Answer): void {
  response.writeHead(304, answer.notModified);
  response.end();
}
