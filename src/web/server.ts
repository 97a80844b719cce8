import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Newsletter } from '../newsletter/newsletter.js';
import { escapeHtml } from '../text.js';
import { feedSecurityHeaders, HttpError, methodNotAllowed, securityHeaders } from './http.js';
import { page, pageShell } from './pages.js';
import { clientAddress, createRateLimiter, limitKey, trustedProxies } from './rate-limit.js';
import { subscribeQueue, type SubscribeQueue } from './subscribe-queue.js';
import { confirmRoute, subscribeRoute, unsubscribeRoute, type RouteContext } from './routes.js';
import { feedTypes, serveKnown, serveStatic, type StaticSite } from './static.js';
import { fetchFromAws, webhookRoute, type WebhookContext } from './webhooks.js';

export interface WebOptions {
  config: Config;
  cwd: string;
  newsletter: Newsletter;
  log?: (line: string) => void;
  /** How SNS certificates and subscription confirmations are fetched (tests serve their own). */
  fetchFromAws?: (url: string) => Promise<string>;
}

const BODY_LIMIT = 16 * 1024;

/** herald's web side: the built site and feeds from the output folder, and the unsubscribe page. */
export function createWebServer(options: WebOptions): Server {
  const { config } = options;
  // Rendered now, so a broken partial stops herald start with its file and line, not a page later.
  const shell = pageShell(config, options.cwd);
  const limiter = createRateLimiter({ limit: config.web.subscribeLimit, windowMs: 60_000, maxKeys: 10_000 });
  const trusted = trustedProxies(config.web.trustProxy);

  const security = securityHeaders(config.site.url, config.web.url);
  const subscriptions = subscribeQueue(options.newsletter, options.log);
  const files: StaticSite = { outputDir: config.paths.output, headers: security, feedTypes: feedTypes(config.feed.paths), feedHeaders: feedSecurityHeaders(config.site.url, config.web.url) };
  const send = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { ...security, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    response.end(response.req.method === 'HEAD' ? undefined : body);
  };

  const routes: RouteContext = {
    config,
    newsletter: options.newsletter,
    shell,
    send,
    readBody,
    // X-Forwarded-For is believed only from config.web.trustProxy; refused requests do not count.
    allowSubscribe: (request) => limiter.take(limitKey(clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], trusted))),
    subscriptions,
    log: options.log,
  };

  const webhooks: WebhookContext = { ...routes, readRaw, fetchFromAws: options.fetchFromAws ?? fetchFromAws };

  const postTurn = onePerTurn();
  const sitePath = pathBelow(new URL(config.site.url).pathname);
  // The forms and the links in emails: web.url's path, which is site.url's unless web.url is set.
  const webPath = pathBelow(new URL(config.web.url).pathname);
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    // Appended, not resolved: a path starting with // (//rss.xml) would be read as a host name. A
    // target in absolute form (GET http://host/rss.xml, as sent to a proxy) is taken as it is:
    // RFC 9112 3.2.2 has servers accept it.
    const target = request.url ?? '/';
    const url = /^https?:\/\//i.test(target) ? new URL(target) : new URL(`http://herald.invalid${target.startsWith('/') ? '' : '/'}${target}`);
    const method = request.method ?? 'GET';
    if (method === 'POST') await postTurn();
    const route = webPath(url.pathname);
    if (route === '/unsubscribe') return unsubscribeRoute(routes, request, response, url);
    if (route === '/subscribe') return subscribeRoute(routes, request, response);
    if (route === '/confirm') return confirmRoute(routes, request, response, url);
    if (route.startsWith('/webhooks/')) return webhookRoute(webhooks, route.slice('/webhooks/'.length), request, response);
    const pathname = sitePath(url.pathname);
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    return serveStatic(request, response, pathname, files);
  };

  const fail = (request: IncomingMessage, response: ServerResponse, error: unknown) => {
    if (error instanceof ClientGone) return response.destroy();
    const status = error instanceof HttpError ? error.status : 500;
    if (status === 500) options.log?.(`error serving ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}`);
    if (response.headersSent) return response.destroy();
    const message = error instanceof HttpError ? error.message : 'Something went wrong on our side.';
    // After a body too large the connection is not reused: the client may still be sending it.
    const headers = error instanceof HttpError ? error.headers : {};
    send(response, status, page(shell, status === 404 ? 'Not found' : 'Sorry', `<p>${escapeHtml(message)}</p>`), status === 413 ? { ...headers, Connection: 'close' } : headers);
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    try {
      // A file served before and unchanged since is answered before any routing: most requests.
      if ((request.method === 'GET' || request.method === 'HEAD') && serveKnown(request, response, files)) return;
    } catch (error) {
      return fail(request, response, error);
    }
    handle(request, response).catch((error: unknown) => fail(request, response, error));
  };
  const server = createServer(TIMEOUTS, onRequest);
  // Node would tell every such client to go on at once; readRaw does when it reads the body.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    waitingToContinue.set(request, response);
    onRequest(request, response);
  });
  // Past the cap, new connections are closed at once: a flood cannot exhaust file descriptors.
  server.maxConnections = config.web.maxConnections;
  queues.set(server, subscriptions);
  return server;
}

// A slow client (one byte a minute) holds a connection, and a place under maxConnections, only
// this long. Node checks these every connectionsCheckingInterval, 30 s unless told otherwise.
const TIMEOUTS = {
  headersTimeout: 15_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
};

/**
 * Stops accepting, closes idle keep-alive connections at once, lets requests in progress finish
 * for graceMs, then destroys what is still open: a client holding an unfinished request must not
 * keep herald from stopping.
 */
export async function closeServer(server: Server, graceMs = 3000): Promise<void> {
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    // Called with an error when the server was not listening: closed either way.
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
  // Subscribes answered already are handled, within what is left of the grace.
  const left = Math.max(0, graceMs - (Date.now() - started));
  await Promise.race([queues.get(server)?.drained(), new Promise((resolve) => setTimeout(resolve, left).unref())]);
}

const queues = new WeakMap<Server, SubscribeQueue>();

/**
 * A request's path as seen from the site's root. A site.url with a path (a Jekyll baseurl, a
 * GitHub Pages project site: https://ada.github.io/blog/) puts every link, the unsubscribe links in
 * emails included, below that path; herald serves them there, and at the root too, for a proxy
 * that takes the path off before passing the request on.
 */
function pathBelow(base: string): (pathname: string) => string {
  if (base === '/') return (pathname) => pathname;
  const bare = base.replace(/\/$/, '');
  return (pathname) => (pathname === bare ? '/' : pathname.startsWith(base) ? pathname.slice(bare.length) : pathname);
}

/**
 * A gate that lets one waiter through per turn of the event loop. A burst of form posts (50
 * readers subscribing at once, a mail provider's one-click unsubscribes) arrives in one turn;
 * answered in that turn they would hold off, for their whole length, the feed requests that came
 * with them. One per turn, the requests that arrive meanwhile are served in between.
 */
function onePerTurn(): () => Promise<void> {
  const waiting: (() => void)[] = [];
  const next = () => {
    waiting.shift()!();
    if (waiting.length) setImmediate(next);
  };
  return () =>
    new Promise<void>((resolve) => {
      if (waiting.push(resolve) === 1) setImmediate(next);
    });
}

/** The client went away in the middle of its request: nobody to answer, nothing to log. */
class ClientGone extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  return (await readRaw(request, BODY_LIMIT)).toString('utf8');
}

function readRaw(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      lingerOnClose(request.socket);
      return new HttpError(413, 'The request is too large.');
    };
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) return reject(tooLarge());
    // Told to go on only now, with a body within the limit: one too large is then never sent.
    waitingToContinue.get(request)?.writeContinue();
    waitingToContinue.delete(request);
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // The rest is read and dropped: a client whose sending stalled might never read the 413.
      request.off('data', collect);
      request.on('data', () => {});
      reject(tooLarge());
    };
    request.on('data', collect);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', () => reject(new ClientGone()));
    request.on('aborted', () => reject(new ClientGone()));
  });
}

/** Requests sent with Expect: 100-continue, whose body comes once readRaw asks for it. */
const waitingToContinue = new WeakMap<IncomingMessage, ServerResponse>();

const LINGER_MS = 5000;

/**
 * Makes the close after this connection's answer (a 413, sent with Connection: close) a lingering
 * one, as nginx's lingering_close: the answer goes out, then the write side closes (FIN) and what
 * the client still sends is read and dropped until it closes its side or LINGER_MS pass. Closed
 * at once, the kernel would answer the rest of the body with a reset, and a reset throws away the
 * answer the client has not read yet: it would see a broken connection instead of the 413. Node
 * calls destroySoon to close a connection after an answer that ends it (server.test.ts's 413 test
 * fails if a Node release stops doing so).
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
  };
}
