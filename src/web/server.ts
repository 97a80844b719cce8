import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { Transport } from '../deliver/transport.js';
import { confirmUrl, verifyConfirmToken, verifyToken } from '../email/unsubscribe.js';
import { findSubscriber, parseTopicList, validEmail } from '../subscribers/model.js';
import { updateSubscribers } from '../subscribers/store.js';
import { escapeHtml } from '../text.js';
import { HttpError, SECURITY_HEADERS } from './http.js';
import { page, pageShell, type PageShell } from './pages.js';
import { clientAddress, createRateLimiter, limitKey, trustedProxies } from './rate-limit.js';
import { serveStatic } from './static.js';

export interface WebOptions {
  config: Config;
  cwd: string;
  secret: string;
  /** Sends confirmation emails. */
  transport: Transport;
  now?: () => Date;
  /** POST requests one address may make per minute. */
  postsPerMinute?: number;
  log?: (line: string) => void;
}

const BODY_LIMIT = 16 * 1024;

/** herald's web side: the built site and feeds from the output folder, and the unsubscribe page. */
export function createWebServer(options: WebOptions): Server {
  const { config } = options;
  // Rendered now, so a broken partial stops herald start with its file and line, not a page later.
  const shell = pageShell(config, options.cwd);
  const limiter = createRateLimiter({ limit: options.postsPerMinute ?? 20, windowMs: 60_000, maxKeys: 10_000 });
  const trusted = trustedProxies(config.web.trustProxy);

  const send = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    response.end(response.req.method === 'HEAD' ? undefined : body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://herald.invalid');
    const method = request.method ?? 'GET';
    // Here, for the request's X-Forwarded-For (believed only from config.web.trustProxy).
    const rateLimited = (socketAddress: string) => !limiter.take(limitKey(clientAddress(socketAddress, request.headers['x-forwarded-for'], trusted)));
    if (url.pathname === '/unsubscribe') {
      const token = url.searchParams.get('token') ?? '';
      const email = verifyToken('unsubscribe', token, options.secret);
      if (!email) throw new HttpError(400, 'This unsubscribe link is not valid. Use the link from the newest email you got.');
      if (method === 'GET' || method === 'HEAD') {
        const action = `/unsubscribe?token=${encodeURIComponent(token)}`;
        return send(response, 200, page(shell, 'Unsubscribe', `<p>Stop sending ${escapeHtml(config.site.title)} to <strong>${escapeHtml(email)}</strong>?</p><form method="post" action="${escapeHtml(action)}"><button type="submit">Unsubscribe</button></form>`));
      }
      if (method !== 'POST') throw new HttpError(405, 'Use GET or POST.');
      if (rateLimited(request.socket.remoteAddress ?? '')) throw new HttpError(429, 'Too many requests. Try again in a minute.');
      await readBody(request);
      await unsubscribe(options, email);
      options.log?.(`unsubscribed ${email}`);
      return send(response, 200, page(shell, 'Unsubscribed', `<p><strong>${escapeHtml(email)}</strong> will get no more emails from ${escapeHtml(config.site.title)}.</p>`));
    }
    if (url.pathname === '/subscribe') {
      if (method === 'GET' || method === 'HEAD') return send(response, 200, page(shell, 'Subscribe', subscribeForm(config)));
      if (method !== 'POST') throw new HttpError(405, 'Use GET or POST.');
      if (rateLimited(request.socket.remoteAddress ?? '')) throw new HttpError(429, 'Too many requests. Try again in a minute.');
      const form = new URLSearchParams(await readBody(request));
      const email = (form.get('email') ?? '').trim();
      if (!validEmail(email)) {
        return send(response, 400, page(shell, 'Subscribe', `<p>“${escapeHtml(email)}” is not an email address. Please check it.</p>${subscribeForm(config, email)}`));
      }
      await subscribe(options, shell, email, (form.get('name') ?? '').trim().slice(0, 200), parseTopicList(form.get('topics') ?? '').slice(0, 20));
      // The same answer whether the address was new or known: nobody learns who subscribes.
      return send(response, 200, page(shell, 'Check your inbox', `<p>If <strong>${escapeHtml(email)}</strong> can subscribe, a message with a confirmation link is on its way. The link works for seven days.</p>`));
    }
    if (url.pathname === '/confirm') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Use GET.');
      const verdict = verifyConfirmToken(url.searchParams.get('token') ?? '', options.secret, options.now?.() ?? new Date());
      if (verdict === 'invalid') throw new HttpError(400, 'This confirmation link is not valid.');
      if (verdict === 'expired') throw new HttpError(400, 'This confirmation link has expired: subscribe again to get a new one.');
      await confirm(options, verdict.email);
      options.log?.(`confirmed ${verdict.email}`);
      return send(response, 200, page(shell, 'You are subscribed', `<p>New posts from ${escapeHtml(config.site.title)} will come to <strong>${escapeHtml(verdict.email)}</strong>.</p>`));
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'This address only answers GET.');
    return serveStatic(request, response, url.pathname, config.paths.output);
  };

  const server = createServer(TIMEOUTS, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) options.log?.(`error serving ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}`);
      if (response.headersSent) return response.destroy();
      const message = error instanceof HttpError ? error.message : 'Something went wrong on our side.';
      send(response, status, page(shell, status === 404 ? 'Not found' : 'Sorry', `<p>${escapeHtml(message)}</p>`));
    });
  });
  // Past the cap, new connections are closed at once: a flood cannot exhaust file descriptors.
  server.maxConnections = config.web.maxConnections;
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
export function closeServer(server: Server, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    // Called with an error when the server was not listening: closed either way.
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function subscribeForm(config: Config, email = ''): string {
  return `<form method="post" action="/subscribe">
<label>Email <input type="email" name="email" required value="${escapeHtml(email)}"></label>
<label>Name (optional) <input type="text" name="name" maxlength="200"></label>
<label>Topics (optional, comma-separated; empty means every post) <input type="text" name="topics"></label>
<button type="submit">Subscribe to ${escapeHtml(config.site.title)}</button>
</form>`;
}

/**
 * A new address, or one that left, becomes pending and is sent a confirmation link; an active or
 * bounced one is left as it is (a bounced address cannot receive the link anyway).
 */
async function subscribe(options: WebOptions, shell: PageShell, email: string, name: string, topics: string[]): Promise<void> {
  const now = options.now?.() ?? new Date();
  const at = now.toISOString();
  const shouldConfirm = await updateSubscribers(options.config, options.cwd, (list) => {
    const existing = findSubscriber(list, email);
    if (!existing) {
      list.rows.push({ ok: true, subscriber: { email, name, status: 'pending', topics, created_at: at, updated_at: at, extra: {} } });
      return true;
    }
    if (existing.status === 'pending' || existing.status === 'unsubscribed') {
      existing.status = 'pending';
      if (name) existing.name = name;
      existing.topics = topics;
      existing.updated_at = at;
      return true;
    }
    return false;
  });
  if (!shouldConfirm) return;
  const { config } = options;
  const link = confirmUrl(config, email, options.secret, now);
  await options.transport.send({
    from: config.email.from,
    to: email,
    subject: `Confirm your subscription to ${config.site.title}`,
    text: `Someone, hopefully you, asked to get ${config.site.title} by email at this address.\n\nConfirm here (the link works for seven days):\n${link}\n\nIf it was not you, ignore this message: nothing will be sent.\n`,
    html: page(shell, 'Confirm your subscription', `<p>Someone, hopefully you, asked to get ${escapeHtml(config.site.title)} by email at this address.</p><p><a href="${escapeHtml(link)}">Confirm your subscription</a> (the link works for seven days).</p><p>If it was not you, ignore this message: nothing will be sent.</p>`),
  });
  options.log?.(`confirmation sent to ${email}`);
}

async function confirm(options: WebOptions, email: string): Promise<void> {
  const at = (options.now?.() ?? new Date()).toISOString();
  await updateSubscribers(options.config, options.cwd, (list) => {
    const subscriber = findSubscriber(list, email);
    if (subscriber?.status !== 'pending') return;
    subscriber.status = 'active';
    subscriber.updated_at = at;
  });
}

async function unsubscribe(options: WebOptions, email: string): Promise<void> {
  const at = (options.now?.() ?? new Date()).toISOString();
  await updateSubscribers(options.config, options.cwd, (list) => {
    const subscriber = findSubscriber(list, email);
    if (!subscriber || subscriber.status === 'unsubscribed') return;
    subscriber.status = 'unsubscribed';
    subscriber.updated_at = at;
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
