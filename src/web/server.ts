import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { Config } from '../config.js';
import type { Newsletter } from '../newsletter/newsletter.js';
import { escapeHtml } from '../text.js';
import { page, pageShell } from './pages.js';
import { confirmRoute, HttpError, subscribeRoute, unsubscribeRoute, type RouteContext } from './routes.js';

export interface WebOptions {
  config: Config;
  cwd: string;
  newsletter: Newsletter;
  /** POST /subscribe requests one client may make per minute. */
  postsPerMinute?: number;
  log?: (line: string) => void;
}

const BODY_LIMIT = 16 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  '.xml': 'application/xml; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
};
// Feed files get the types feed readers look for.
const FEED_TYPES: Record<string, string> = {
  'rss.xml': 'application/rss+xml; charset=utf-8',
  'atom.xml': 'application/atom+xml; charset=utf-8',
  'feed.json': 'application/feed+json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** herald's web side: the built site and feeds from the output folder, and the unsubscribe page. */
export function createWebServer(options: WebOptions): Server {
  const { config } = options;
  // Rendered now, so a broken partial stops herald start with its file and line, not a page later.
  const shell = pageShell(config, options.cwd);
  const postsByAddress = new Map<string, number[]>();
  const rateLimited = (address: string) => {
    const now = Date.now();
    const recent = (postsByAddress.get(address) ?? []).filter((at) => now - at < 60_000);
    recent.push(now);
    postsByAddress.set(address, recent);
    return recent.length > (options.postsPerMinute ?? 20);
  };

  const send = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    response.end(response.req.method === 'HEAD' ? undefined : body);
  };

  const routes: RouteContext = {
    config,
    newsletter: options.newsletter,
    shell,
    send,
    readBody,
    allowSubscribe: (request) => !rateLimited(request.socket.remoteAddress ?? ''),
    log: options.log,
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://herald.invalid');
    const method = request.method ?? 'GET';
    if (url.pathname === '/unsubscribe') return unsubscribeRoute(routes, request, response, url);
    if (url.pathname === '/subscribe') return subscribeRoute(routes, request, response);
    if (url.pathname === '/confirm') return confirmRoute(routes, request, response, url);
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'This address only answers GET.');
    return serveFile(request, response, url.pathname, config);
  };

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) options.log?.(`error serving ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}`);
      if (response.headersSent) return response.destroy();
      const message = error instanceof HttpError ? error.message : 'Something went wrong on our side.';
      send(response, status, page(shell, status === 404 ? 'Not found' : 'Sorry', `<p>${escapeHtml(message)}</p>`));
    });
  });
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > BODY_LIMIT) return reject(new HttpError(413, 'The request is too large.'));
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new HttpError(413, 'The request is too large.'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

// Files as last read, keyed by path and valid while size and mtime hold: herald replaces files by
// rename, so a changed file always has a new mtime. Small and bounded: feeds and pages are few.
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

async function serveFile(request: IncomingMessage, response: ServerResponse, pathname: string, config: Config): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, 'That address is not valid.');
  }
  if (decoded.includes('\0')) throw new HttpError(400, 'That address is not valid.');
  const root = config.paths.output;
  let path = normalize(join(root, decoded));
  if (path !== root && !path.startsWith(root + sep)) throw new HttpError(404, 'There is nothing here.');
  let info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) {
    path = join(path, 'index.html');
    info = await stat(path).catch(() => undefined);
  }
  if (!info?.isFile()) throw new HttpError(404, 'There is nothing here.');
  const { body, etag } = await cachedFile(path, info.size, info.mtimeMs);
  const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Type': FEED_TYPES[path.slice(path.lastIndexOf(sep) + 1)] ?? CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
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
