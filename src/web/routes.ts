// The newsletter's web routes: parse the request, call the core, answer. The rules (who may
// become what, when a confirmation goes out) are the core's; these only speak HTTP.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { Newsletter } from '../newsletter/newsletter.js';
import { cleanText, parseTopicList } from '../newsletter/subscriber.js';
import { parseAddress, type Outcome } from '../newsletter/subscriptions.js';
import { rawToken } from '../newsletter/tokens.js';
import { escapeHtml } from '../text.js';
import { HttpError, methodNotAllowed } from './http.js';
import type { SubscribeQueue } from './subscribe-queue.js';
import { page, type PageShell } from './pages.js';

export interface RouteContext {
  config: Config;
  newsletter: Newsletter;
  shell: PageShell;
  /** Answers with one of herald's small pages. */
  send: (response: ServerResponse, status: number, body: string) => void;
  readBody: (request: IncomingMessage) => Promise<string>;
  /** True when this client may make another subscribe request now (and counts it). */
  allowSubscribe: (request: IncomingMessage) => boolean;
  /** Where subscribe requests wait to be handled, after the answer. */
  subscriptions: SubscribeQueue;
  log?: (line: string) => void;
}

/** The methods of the pages with a form, which post back to themselves. */
const FORM_METHODS = ['GET', 'HEAD', 'POST'];

const BAD_UNSUBSCRIBE = 'This unsubscribe link is not valid. Use the link from the newest email you got.';

/**
 * GET: a page with one button. POST: the button, or the RFC 8058 one-click request a mail
 * provider sends; never refused for rate (providers send them in bursts, often from one
 * address), answered 200 and in effect at once.
 */
export async function unsubscribeRoute(context: RouteContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const { config, newsletter, shell } = context;
  const method = request.method ?? 'GET';
  const token = rawToken(url.search);
  if (method === 'GET' || method === 'HEAD') {
    const address = await newsletter.unsubscribeTarget(token);
    if (!address) throw new HttpError(400, BAD_UNSUBSCRIBE);
    const action = `unsubscribe?token=${encodeURIComponent(token)}`;
    return context.send(
      response,
      200,
      page(shell, 'Unsubscribe', `<p>Stop sending ${escapeHtml(config.site.title)} to <strong>${escapeHtml(address.email)}</strong>?</p><form method="post" action="${escapeHtml(action)}"><button type="submit">Unsubscribe</button></form>`),
    );
  }
  if (method !== 'POST') throw methodNotAllowed(FORM_METHODS);
  await context.readBody(request);
  const { outcome, email } = await newsletter.unsubscribe(token);
  if (outcome === 'invalid') throw new HttpError(400, BAD_UNSUBSCRIBE);
  if (outcome === 'unsubscribed') context.log?.(`unsubscribed ${email}`);
  context.send(response, 200, page(shell, 'Unsubscribed', `<p><strong>${escapeHtml(email ?? '')}</strong> will get no more emails from ${escapeHtml(config.site.title)}.</p>`));
}

/**
 * The form, and what it sends. The answer is the same for every valid address, new or known, and
 * is given before anything is looked up or sent, so neither its words nor its timing tell who
 * subscribes; the request itself is handled after (subscribe-queue.ts).
 */
export async function subscribeRoute(context: RouteContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { config, shell } = context;
  const method = request.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return context.send(response, 200, page(shell, 'Subscribe', subscribeForm(config)));
  if (method !== 'POST') throw methodNotAllowed(FORM_METHODS);
  if (!context.allowSubscribe(request)) throw new HttpError(429, 'Too many requests. Try again in a minute.');
  const form = new URLSearchParams(await context.readBody(request));
  const given = form.get('email') ?? '';
  const address = parseAddress(given);
  if (!address) {
    const shown = cleanText(given, 320);
    return context.send(response, 400, page(shell, 'Subscribe', `<p>“${escapeHtml(shown)}” is not an email address. Please check it.</p>${subscribeForm(config, shown)}`));
  }
  context.send(
    response,
    200,
    page(shell, 'Check your inbox', `<p>If <strong>${escapeHtml(address.email)}</strong> can subscribe, a message with a confirmation link is on its way. The link works for seven days.</p>`),
  );
  context.subscriptions.add({ address, name: cleanText(form.get('name') ?? '', 200), topics: parseTopicList(form.get('topics') ?? '').slice(0, 20) });
}

const CONFIRM_PAGES: Partial<Record<Outcome, [title: string, body: (email: string, site: string) => string]>> = {
  confirmed: ['You are subscribed', (email, site) => `<p>New posts from ${site} will come to <strong>${email}</strong>.</p>`],
  already: ['You are subscribed', (email, site) => `<p><strong>${email}</strong> already gets ${site}.</p>`],
  gone: ['Not on the list', (email) => `<p><strong>${email}</strong> is no longer on the list, so this link cannot confirm it. <a href="subscribe">Subscribe again</a> to get a new link.</p>`],
  left: ['You unsubscribed', (email) => `<p><strong>${email}</strong> unsubscribed after this link was sent, so it no longer subscribes you. <a href="subscribe">Subscribe again</a> if you changed your mind.</p>`],
  blocked: ['Cannot subscribe', (email) => `<p>Mail to <strong>${email}</strong> bounced or was reported as spam, so nothing is sent to it any more. Write to the editor if this is a mistake.</p>`],
};

/**
 * GET shows a page with a button and changes nothing (link scanners follow links); only its POST
 * confirms. The page shows the name and topics on record, which a stranger may have typed: the
 * owner of the mailbox, the one holding the link, can correct them before confirming.
 */
export async function confirmRoute(context: RouteContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const { config, newsletter, shell } = context;
  const method = request.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    const token = rawToken(url.search);
    const target = await newsletter.confirmTarget(token);
    if (target === 'invalid') throw new HttpError(400, 'This confirmation link is not valid.');
    if (target === 'expired') throw new HttpError(400, 'This confirmation link has expired: subscribe again to get a new one.');
    return context.send(
      response,
      200,
      page(
        shell,
        'Confirm your subscription',
        `<p>Send ${escapeHtml(config.site.title)} to <strong>${escapeHtml(target.email)}</strong>?</p>
<form method="post" action="confirm"><input type="hidden" name="token" value="${escapeHtml(token)}">
<label>Name (optional) <input type="text" name="name" maxlength="200" value="${escapeHtml(target.name)}"></label>
<label>Topics (optional, comma-separated; empty means every post) <input type="text" name="topics" value="${escapeHtml(target.topics.join(', '))}"></label>
<button type="submit">Confirm</button></form>`,
      ),
    );
  }
  if (method !== 'POST') throw methodNotAllowed(FORM_METHODS);
  const sent = await context.readBody(request);
  const form = new URLSearchParams(sent);
  const token = form.has('token') ? rawToken(sent) : rawToken(url.search);
  const fields = {
    ...(form.has('name') ? { name: cleanText(form.get('name') ?? '', 200) } : {}),
    ...(form.has('topics') ? { topics: parseTopicList(form.get('topics') ?? '').slice(0, 20) } : {}),
  };
  const { outcome, email = '' } = await newsletter.confirm(token, fields);
  if (outcome === 'invalid') throw new HttpError(400, 'This confirmation link is not valid.');
  if (outcome === 'expired') throw new HttpError(400, 'This confirmation link has expired: subscribe again to get a new one.');
  if (outcome === 'confirmed') context.log?.(`confirmed ${email}`);
  const [title, body] = CONFIRM_PAGES[outcome] ?? CONFIRM_PAGES.already!;
  context.send(response, 200, page(shell, title, body(escapeHtml(email), escapeHtml(config.site.title))));
}

function subscribeForm(config: Config, email = ''): string {
  return `<form method="post" action="subscribe">
<label>Email <input type="email" name="email" required value="${escapeHtml(email)}"></label>
<label>Name (optional) <input type="text" name="name" maxlength="200"></label>
<label>Topics (optional, comma-separated; empty means every post) <input type="text" name="topics"></label>
<button type="submit">Subscribe to ${escapeHtml(config.site.title)}</button>
</form>`;
}
