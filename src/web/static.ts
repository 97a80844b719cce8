import { createHash } from 'node:crypto';
import { constants, realpathSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
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

// RFC 8615's /.well-known/ at the site's root is published on purpose (an ACME challenge that
// certbot's webroot mode writes there, security.txt): the one dot folder served.
const WELL_KNOWN = '.well-known';

// A segment of a path below output that is never served; `index` is its place in the path.
function hidden(segment: string, index: number): boolean {
  return segment.startsWith('.') && !(index === 0 && segment === WELL_KNOWN);
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

/** A file found for a request: its real path, the name it is served under, and the path as joined below output (symlinks unresolved). */
interface Found {
  path: string;
  name: string;
  info: Stats;
  joined: string;
  /** For a page served at its name without `.html`: the name itself, which wins once it exists. */
  shadow?: string;
  /** The index.html of the folder the request named. */
  folderIndex?: boolean;
}

function resolveFile(segments: string[], outputDir: string, rootReal: string): Found | undefined {
  let name = segments.at(-1) ?? 'index.html';
  let joined = join(outputDir, ...segments);
  let path = realInside(joined, rootReal);
  let info = statOf(path);
  // A page at a permalink without a trailing slash is written as name.html and served at the
  // name, as GitHub Pages and Netlify do.
  if (!info && name && !extname(name)) {
    const pageJoined = join(outputDir, ...segments.slice(0, -1), `${name}.html`);
    const page = realInside(pageJoined, rootReal);
    const pageInfo = statOf(page);
    if (pageInfo?.isFile()) return { path: page!, name: `${name}.html`, info: pageInfo, joined: pageJoined, shadow: joined };
  }
  const folderIndex = path !== undefined && info?.isDirectory();
  if (folderIndex) {
    name = 'index.html';
    joined = join(joined, name);
    path = realInside(join(path!, name), rootReal);
    info = statOf(path);
  }
  return path !== undefined && info?.isFile() ? { path, name, info, joined, ...(folderIndex ? { folderIndex } : {}) } : undefined;
}

// Files as last read, keyed by real path and valid while the file is the same one (device, inode,
// size, mtime, ctime): herald replaces files by rename, so a changed file is another inode, and one
// rewritten in place has a new mtime. Feeds and pages are small; a byte budget bounds the rest.
// One cache per site served, as the answers' headers are the site's.
interface CachedFile {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  lastModifiedMs: number;
  body: Buffer;
  /** The body's SHA-1: each variant's ETag is made from it (variantTag). */
  hash: string;
  /** Compressed copies by encoding, read when first asked for; no body: none fresh when last looked. */
  copies: Map<Encoding, { body?: Buffer; checkedAt: number }>;
  /** Answers as sent, by the name asked for, then by variant (answerFor): made once, not per request. */
  answers: Map<string, (Answer | undefined)[]>;
}

interface Answer {
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
  /** The headers of a 304 for this variant: no Content-Length or Content-Encoding, which describe a body. */
  notModified: Record<string, string>;
}

/**
 * Where each request target (request.url, as sent) was found, so that serving it again costs a
 * stat (at most one a turn, currentTurn), as with nginx's open_file_cache but without its minute
 * of staleness. The stat is of the
 * path as joined below output, so a symlink re-pointed, or a deploy flipping output's own link,
 * shows another file; only the very file that was read (sameFile) is answered from memory. Anything
 * else, and the request goes the whole way again: routing, hidden segments, the real path inside
 * output. Keyed by the raw target: the same target always routes to the same path.
 */
interface Route {
  found: Found;
  file: CachedFile;
  /** The event loop turn (currentTurn) in which the file was last seen to be this one. */
  checked: number;
}

// A stat holds for the rest of the event loop's turn. The requests answered in a turn were read
// from sockets that were ready when the loop woke, so each was sent before then, as was any change
// to the site its sender had seen made; the first stat of the turn comes after that wake, and sees
// the change. (A poll that returns libuv's limit of 1,024 ready handles is followed by another in
// the same turn: a request from that second poll may be answered from a stat less than one turn old.)
// Under load a turn answers several requests for the same file, and one stat does for all of them.
let turn = 0;
let turnEnding = false;

function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    setImmediate(() => {
      turn++;
      turnEnding = false;
    });
  }
  return turn;
}

interface SiteCache {
  files: Map<string, CachedFile>;
  routes: Map<string, Route>;
  bytes: number;
}

const CACHE_BYTES = 64 << 20;
const CACHE_ROUTES = 4096;
const CACHE_FILE_BYTES = 1 << 20;
// Longer targets (made-up query strings) are served as usual, just not remembered.
const CACHE_TARGET_LENGTH = 512;

const siteCaches = new WeakMap<StaticSite, SiteCache>();

function siteCache(site: StaticSite): SiteCache {
  let cache = siteCaches.get(site);
  if (!cache) siteCaches.set(site, (cache = { files: new Map(), routes: new Map(), bytes: 0 }));
  return cache;
}

function sameFile(info: Stats, file: CachedFile): boolean {
  return info.ino === file.ino && info.dev === file.dev && info.size === file.size && info.mtimeMs === file.mtimeMs && info.ctimeMs === file.ctimeMs;
}

function knownRoute(cache: SiteCache, target: string): Route | undefined {
  const route = cache.routes.get(target);
  if (!route) return undefined;
  const now = currentTurn();
  if (route.checked === now) return route;
  const info = statOf(route.found.joined);
  if (!info || !sameFile(info, route.file)) return undefined;
  if (route.found.shadow !== undefined && statOf(route.found.shadow)) return undefined;
  route.checked = now;
  return route;
}

function remember(cache: SiteCache, target: string | undefined, route: Route): void {
  if (target === undefined || target.length > CACHE_TARGET_LENGTH || cache.files.get(route.found.path) !== route.file) return;
  if (cache.routes.size >= CACHE_ROUTES) cache.routes.clear();
  cache.routes.set(target, route);
}

/**
 * The file `pathname` names below output: 404 if there is none to serve. A folder named without
 * its trailing slash is a redirect to the name with it (as nginx and static hosts answer), so
 * the relative links of its index.html resolve inside it; a file named with one is not found.
 */
function findFile(site: StaticSite, pathname: string, target: string): Found {
  const { outputDir } = site;
  const segments = staticSegments(pathname);
  const root = realRoot(outputDir, false);
  let found = root === undefined ? undefined : resolveFile(segments, outputDir, root);
  if (!found) {
    const fresh = realRoot(outputDir, true);
    if (fresh !== undefined && fresh !== root) found = resolveFile(segments, outputDir, fresh);
  }
  if (!found) throw new HttpError(404, NOT_FOUND);
  const slashed = pathname.endsWith('/');
  if (found.folderIndex && !slashed) {
    // Relative to the address asked for, its last segment and a slash: never another host, however
    // the target was written (//docs, /\docs, http://elsewhere/docs).
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    let last = path.slice(path.lastIndexOf('/') + 1);
    try {
      last = decodeURIComponent(last);
    } catch {
      // Sent encoded as it was.
    }
    throw new HttpError(301, 'This page has moved.', { Location: `${encodeURIComponent(last)}/${query < 0 ? '' : target.slice(query)}` });
  }
  if (slashed && segments.length && !found.folderIndex && found.shadow === undefined) throw new HttpError(404, NOT_FOUND);
  return found;
}

async function cachedFile(cache: SiteCache, { path, info }: Found): Promise<CachedFile> {
  const known = cache.files.get(path);
  if (known && sameFile(info, known)) return known;
  // Stat and bytes of one open file: a build replacing it meanwhile cannot pair new bytes with the
  // old mtime, against which the copies' freshness is judged.
  const read = await readOpen(path, 0);
  if (!read) throw new HttpError(404, NOT_FOUND);
  const { body, info: opened } = read;
  const entry: CachedFile = {
    dev: opened.dev,
    ino: opened.ino,
    size: opened.size,
    mtimeMs: opened.mtimeMs,
    ctimeMs: opened.ctimeMs,
    // HTTP dates have whole seconds.
    lastModifiedMs: Math.floor(opened.mtimeMs / 1000) * 1000,
    body,
    hash: createHash('sha1').update(body).digest('base64url'),
    copies: new Map(),
    answers: new Map(),
  };
  if (body.length > CACHE_FILE_BYTES) return entry;
  // Emptied whole when full: simpler than an LRU, and a site's hot files are back after a request each.
  if (cache.bytes + body.length > CACHE_BYTES) clearCache(cache);
  const replaced = cache.files.get(path);
  if (replaced) cache.bytes -= cachedBytes(replaced);
  cache.files.set(path, entry);
  cache.bytes += body.length;
  return entry;
}

function cachedBytes(file: CachedFile): number {
  let bytes = file.body.length;
  for (const copy of file.copies.values()) bytes += copy.body?.length ?? 0;
  return bytes;
}

function clearCache(cache: SiteCache): void {
  cache.files.clear();
  cache.routes.clear();
  cache.bytes = 0;
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
async function loadCopy(cache: SiteCache, path: string, entry: CachedFile, encoding: Encoding, suffix: string): Promise<Buffer | undefined> {
  const read = await readOpen(path + suffix, constants.O_NOFOLLOW ?? 0);
  const now = statOf(path);
  const fresh = read !== undefined && read.info.mtimeMs >= entry.mtimeMs && now !== undefined && sameFile(now, entry) && decodesTo(read.body, encoding, entry.body);
  const body = fresh ? read.body : undefined;
  const old = entry.copies.get(encoding)?.body;
  entry.copies.set(encoding, { body, checkedAt: Date.now() });
  if (cache.files.get(path) === entry) cache.bytes += (body?.length ?? 0) - (old?.length ?? 0);
  return body;
}

const SUFFIXES = new Map(ENCODINGS.map(({ encoding, suffix }) => [encoding, suffix]));

// Large files whose copy was decoded and compared, by both stamps: a copy is served only once it
// was found to hold its file's bytes. Past LARGEST_CHECKED a file is sent as it is. The check under
// way is shared: a burst of first requests for a new version reads the file into memory once, not
// once per request.
const checkedCopies = new Map<string, Promise<boolean>>();
const LARGEST_CHECKED = 64 << 20;

function copyHolds(file: FileHandle, info: Stats, copy: FileHandle, copyInfo: Stats, encoding: Encoding): Promise<boolean> {
  if (info.size > LARGEST_CHECKED) return Promise.resolve(false);
  const key = [info.dev, info.ino, info.size, info.mtimeMs, info.ctimeMs, copyInfo.ino, copyInfo.size, copyInfo.mtimeMs, copyInfo.ctimeMs].join(':');
  let holds = checkedCopies.get(key);
  if (holds === undefined) {
    holds = (async () => {
      const [body, compressed] = [Buffer.alloc(info.size), Buffer.alloc(copyInfo.size)];
      await file.read(body, 0, info.size, 0);
      await copy.read(compressed, 0, copyInfo.size, 0);
      return decodesTo(compressed, encoding, body);
    })().catch(() => false);
    if (checkedCopies.size >= 1024) checkedCopies.clear();
    checkedCopies.set(key, holds);
  }
  return holds;
}

/**
 * Whether a copy holds the very bytes of its file, looked at once per version of a file kept in
 * memory: a copy is judged fresh by its mtime, but a file put back with its old mtime (cp -p,
 * rsync -a, tar), a writer's own x.html.gz beside their x.html, or two builds writing at once can
 * leave a copy as new as its file with other bytes, which would be sent under the file's ETag.
 */
function decodesTo(copy: Buffer, encoding: Encoding, body: Buffer): boolean {
  // One byte more than the file, so a copy of something longer (or a bomb) stops there.
  const options = { maxOutputLength: body.length + 1 };
  try {
    return (encoding === 'br' ? brotliDecompressSync(copy, options) : gunzipSync(copy, options)).equals(body);
  } catch {
    return false;
  }
}

/**
 * The best encoding among `encodings` (best first) with a fresh copy in memory, or none (the file
 * is sent as it is); or, when a better one must first be looked for on disk, which.
 */
function knownCopy(entry: CachedFile, encodings: readonly Encoding[]): Encoding | undefined | { look: Encoding } {
  for (const encoding of encodings) {
    const known = entry.copies.get(encoding);
    if (known?.body) return encoding;
    if (!known || Date.now() - known.checkedAt >= COPY_RECHECK_MS) return { look: encoding };
  }
  return undefined;
}

/** knownCopy, looking on disk for the copies it asks for. */
async function chooseCopy(cache: SiteCache, path: string, entry: CachedFile, encodings: readonly Encoding[]): Promise<Encoding | undefined> {
  for (;;) {
    const known = knownCopy(entry, encodings);
    if (typeof known !== 'object') return known;
    // Marks the copy as looked at, found or not: the next round goes past it.
    await loadCopy(cache, path, entry, known.look, SUFFIXES.get(known.look)!);
  }
}

const NO_ENCODINGS: readonly Encoding[] = [];

function encodingsFor(name: string, request: IncomingMessage): readonly Encoding[] {
  return COMPRESSIBLE.test(name) ? acceptedEncodings(request.headers['accept-encoding']) : NO_ENCODINGS;
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
  let variants = file.answers.get(name);
  // A name reached by many symlinks cannot grow the map without bound.
  if (!variants && file.answers.size < 16) file.answers.set(name, (variants = []));
  const variant = (asPage ? VARIANTS_PER_TYPE : 0) + (encoding ? ENCODING_INDEX.get(encoding)! + 1 : 0);
  const known = variants?.[variant];
  if (known) return known;
  const etag = variantTag(file.hash, asPage, encoding);
  const notModified = variantHeaders(site, name, asPage, etag, file.lastModifiedMs);
  const body = encoding ? file.copies.get(encoding)!.body! : file.body;
  const headers = { ...notModified, ...(encoding ? { 'Content-Encoding': encoding } : {}), 'Content-Length': String(body.length) };
  const answer = { body, etag, headers, notModified };
  if (variants) variants[variant] = answer;
  return answer;
}

function isStyledFeed(site: StaticSite, name: string): boolean {
  return site.feedTypes[name] === RSS_TYPE || site.feedTypes[name] === ATOM_TYPE;
}

/** Whether this answer is an RSS or Atom feed sent to a browser as a page (wantsPage). */
function feedAsPage(site: StaticSite, name: string, request: IncomingMessage): boolean {
  return isStyledFeed(site, name) && wantsPage(request.headers.accept, site.feedTypes[name]!);
}

/**
 * The headers of one variant of a file, as a 304 carries them. Vary names what the answer depends
 * on: the client's Accept for an RSS or Atom feed (a browser gets it as a page), its
 * Accept-Encoding for a file that may have compressed copies.
 */
function variantHeaders(site: StaticSite, name: string, asPage: boolean, etag: string, lastModifiedMs: number): Record<string, string> {
  const styled = isStyledFeed(site, name);
  const vary = [...(styled ? ['Accept'] : []), ...(COMPRESSIBLE.test(name) ? ['Accept-Encoding'] : [])].join(', ');
  return {
    ...(styled ? site.feedHeaders : site.headers),
    'Content-Type': asPage ? PAGE_TYPE : contentType(name, site.feedTypes),
    ETag: etag,
    'Last-Modified': new Date(lastModifiedMs).toUTCString(),
    'Cache-Control': 'public, max-age=300',
    ...(vary ? { Vary: vary } : {}),
  };
}

// Variants of a name: as it is or as a page (asPage), each uncompressed or in one of ENCODINGS.
const ENCODING_INDEX = new Map(ENCODINGS.map(({ encoding }, index) => [encoding, index]));
const VARIANTS_PER_TYPE = ENCODINGS.length + 1;

/** The first of `tags` that If-None-Match names (weakly, RFC 9110 13.1.2), or for `*` the first. */
function matchedTag(ifNoneMatch: string, tags: string[]): string | undefined {
  const named = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (named.includes('*')) return tags[0];
  return tags.find((tag) => named.includes(tag));
}

/**
 * Answers a GET or HEAD for `pathname` from `outputDir`, with ETag, Last-Modified and 304s, and a
 * compressed copy the client takes when the build made one. Throws HttpError 400 for an address
 * that cannot be decoded, 404 for anything not servable. `pathname` is what request.url names
 * (serveKnown answers the same target again from what this found).
 */
export async function serveStatic(request: IncomingMessage, response: ServerResponse, pathname: string, site: StaticSite): Promise<void> {
  const cache = siteCache(site);
  const found = findFile(site, pathname, request.url ?? pathname);
  if (found.info.size > CACHE_FILE_BYTES) return streamFile(request, response, site, found);
  // Not trusted for the rest of this turn: it was found before the awaits, perhaps in an earlier one.
  const route: Route = { found, file: await cachedFile(cache, found), checked: -1 };
  const encoding = await chooseCopy(cache, route.found.path, route.file, encodingsFor(route.found.name, request));
  remember(cache, request.url, route);
  respond(request, response, site, route, encoding);
}

/**
 * A file too large to keep in memory (a podcast's audio, a PDF), streamed from disk as the client
 * reads it, with its fresh compressed copy if the client takes one. Its ETag is made from what
 * stat says of the file sent (inode, size, mtime), as nginx's is, not from its bytes: reading a
 * file of hundreds of MB whole for each request, a HEAD or a 304 included, held it in memory once
 * per client reading it slowly.
 */
async function streamFile(request: IncomingMessage, response: ServerResponse, site: StaticSite, { path, name }: Found): Promise<void> {
  let file = await open(path, constants.O_RDONLY).catch(() => undefined);
  if (!file) throw new HttpError(404, NOT_FOUND);
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new HttpError(404, NOT_FOUND);
    let sent = info;
    let encoding: Encoding | undefined;
    // A range is of the file's own bytes (a player seeking in an episode): no compressed copy then.
    for (const each of request.headers.range ? NO_ENCODINGS : encodingsFor(name, request)) {
      const copy = await open(path + SUFFIXES.get(each)!, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)).catch(() => undefined);
      const copyInfo = await copy?.stat();
      // copiesFresh's rule (a copy older than its file is stale), and its bytes decoded once per version of the two.
      if (copy && copyInfo?.isFile() && copyInfo.mtimeMs >= info.mtimeMs && (await copyHolds(file, info, copy, copyInfo, each))) {
        await file.close();
        [file, sent, encoding] = [copy, copyInfo, each];
        break;
      }
      await copy?.close();
    }
    const asPage = feedAsPage(site, name, request);
    const etag = variantTag(`${sent.ino.toString(36)}-${sent.size.toString(36)}-${Math.round(sent.mtimeMs).toString(36)}`, asPage, encoding);
    const lastModifiedMs = Math.floor(info.mtimeMs / 1000) * 1000;
    const headers = variantHeaders(site, name, asPage, etag, lastModifiedMs);
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch ? matchedTag(ifNoneMatch, [etag]) !== undefined : modifiedSince(request) >= lastModifiedMs) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    const range = encoding ? undefined : byteRange(request, sent.size, etag, headers['Last-Modified']!);
    if (range === 'unsatisfiable') {
      response.writeHead(416, { ...site.headers, 'Content-Range': `bytes */${sent.size}`, 'Content-Length': '0' });
      response.end();
      return;
    }
    const [start, end] = range ?? [0, sent.size - 1];
    const length = end - start + 1;
    const ranged = range ? { 'Content-Range': `bytes ${start}-${end}/${sent.size}` } : {};
    response.writeHead(range ? 206 : 200, { ...headers, 'Accept-Ranges': 'bytes', ...(encoding ? { 'Content-Encoding': encoding } : {}), ...ranged, 'Content-Length': String(length) });
    if (request.method === 'HEAD' || length === 0) {
      response.end();
      return;
    }
    // The bytes sent are the length stat gave: a file grown meanwhile is cut there, and one cut
    // short ends the connection, which a client then knows for an incomplete answer.
    const stream = file.createReadStream({ start, end, autoClose: false });
    const streamed = await pipeline(stream, response, { end: false }).then(
      () => stream.bytesRead === length,
      () => false,
    );
    if (streamed) response.end();
    else response.destroy();
  } finally {
    await file.close();
  }
}

/**
 * Answers a GET or HEAD at once when serveStatic answered the same request target before, its file
 * is still the one read then (one stat) and the copy the client takes is in memory: no routing,
 * decoding or path checks, which found that file then and would find it again. False when it sent
 * nothing: the request goes the usual way.
 */
export function serveKnown(request: IncomingMessage, response: ServerResponse, site: StaticSite): boolean {
  const route = request.url === undefined ? undefined : knownRoute(siteCache(site), request.url);
  if (!route) return false;
  const encoding = knownCopy(route.file, encodingsFor(route.found.name, request));
  if (typeof encoding === 'object') return false;
  respond(request, response, site, route, encoding);
  return true;
}

function respond(request: IncomingMessage, response: ServerResponse, site: StaticSite, { found: { name }, file }: Route, encoding: Encoding | undefined): void {
  const asPage = feedAsPage(site, name, request);
  const answer = answerFor(file, site, name, asPage, encoding);
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch) {
    // What a client sends back most of the time: the one ETag it was given.
    if (ifNoneMatch === answer.etag) return notModified(response, answer);
    // A cache holding the uncompressed variant may ask with its ETag while taking br: its copy is
    // current, and the 304 names the variant it holds.
    const plain = encoding && answerFor(file, site, name, asPage, undefined);
    const held = matchedTag(ifNoneMatch, plain ? [answer.etag, plain.etag] : [answer.etag]);
    if (held !== undefined) return notModified(response, held === answer.etag ? answer : plain!);
  } else if (modifiedSince(request) >= file.lastModifiedMs) return notModified(response, answer);
  response.writeHead(200, answer.headers);
  response.end(request.method === 'HEAD' ? undefined : answer.body);
}

/**
 * The one byte range a request asks for (RFC 9110 14.2: bytes=start-end, start-, or -suffix), as
 * [first, last]; undefined to send the whole file (no Range, several ranges, an If-Range naming
 * another version, a header herald does not read); 'unsatisfiable' when it starts past the end.
 */
function byteRange(request: IncomingMessage, size: number, etag: string, lastModified: string): [number, number] | 'unsatisfiable' | undefined {
  const header = request.headers.range;
  if (!header || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined;
  const given = request.headers['if-range'];
  const ifRange = typeof given === 'string' ? given.trim() : undefined;
  if (ifRange !== undefined && ifRange !== etag && ifRange !== lastModified) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.replace(/\s+/g, ''));
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  return end < start ? undefined : [start, end];
}

// An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, or the obsolete RFC 850 and asctime forms.
const HTTP_DATE = /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** If-Modified-Since as a time, or NaN when absent or not an HTTP-date, which RFC 9110 13.1.3 has ignored. */
function modifiedSince(request: IncomingMessage): number {
  const value = request.headers['if-modified-since']?.trim();
  return value !== undefined && HTTP_DATE.test(value) ? Date.parse(value.endsWith('GMT') ? value : `${value} GMT`) : NaN;
}

function notModified(response: ServerResponse, answer: Answer): void {
  response.writeHead(304, answer.notModified);
  response.end();
}
