import { createHmac } from 'node:crypto';
import { RETURN_TOKEN_LENGTH, type Config } from '../../config.js';
import type { OutgoingMessage } from '../ports.js';
import type { EmailDraft, Recipient } from './render.js';

/**
 * One recipient's own message: no list of other readers, a Message-ID made from `seed` (what the
 * message is: a post, a round, a confirmation) and the recipient, so it is unique per message and
 * the same if the very message is tried again, and with an unsubscribe link, the List-* headers.
 *
 * The Message-ID's digest is an HMAC with the newsletter's secret: it is how a bounce or a
 * complaint that comes back (quoting it, or sent to the VERP return path that carries it) is
 * matched to the message, and nobody without the secret can make one up to bounce a reader.
 */
export function buildMessage(draft: EmailDraft, recipient: Recipient, config: Config, seed: string, now: Date, secret: string): OutgoingMessage {
  const { unsubscribeUrl } = recipient;
  const host = new URL(config.site.url).hostname;
  const digest = createHmac('sha256', secret).update(`message\0${seed}\0${recipient.email.toLowerCase()}`).digest('hex').slice(0, RETURN_TOKEN_LENGTH);
  const bounces = config.email.bounces && returnPath(config.email.bounces, digest);
  return {
    from: config.email.from,
    replyTo: config.email.replyTo,
    to: { name: recipient.name, address: recipient.email },
    subject: draft.subject,
    date: now,
    messageId: `<${digest}@${host}>`,
    ...(bounces ? { returnPath: bounces } : {}),
    body: { draft, recipient },
    // With a bounce address herald reads, the mailto: one too: some providers only use that.
    ...(unsubscribeUrl ? { list: { id: `newsletter.${host}`, name: config.site.title, unsubscribe: unsubscribeUrl, ...(bounces ? { mailto: `mailto:${bounces}?subject=unsubscribe` } : {}) } } : {}),
  };
}

/** bounces@example.com and a message's token: bounces+<token>@example.com (VERP). */
function returnPath(base: string, token: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+${token}${base.slice(at)}`;
}

/** <id@host> as id@host: how a Message-ID is kept and looked up (reports quote it either way). */
export function bareMessageId(messageId: string): string {
  return messageId.trim().replace(/^<|>$/g, '');
}

const TOKEN = new RegExp(`^[0-9a-f]{${RETURN_TOKEN_LENGTH}}$`);

/**
 * A message's token: the digest of a Message-ID herald wrote (<token@host>, whatever the host was
 * then), or a VERP token as it is; undefined for anything that is not one of herald's.
 */
export function messageToken(value: string): string | undefined {
  const token = bareMessageId(value).split('@')[0]!.toLowerCase();
  return TOKEN.test(token) ? token : undefined;
}

/**
 * Why one-click unsubscribe (RFC 8058: the mail provider POSTs to the List-Unsubscribe URL) cannot
 * work, if it cannot: passes have run but no herald start has ever answered at web.url, which is
 * site.url unless set. A static host answers that POST with 404 or 405, and Gmail and Yahoo then
 * treat the list as one without an unsubscribe.
 */
export function oneClickProblem(config: Config, facts: { baseline?: string; servedAt?: string }): string | undefined {
  if (!facts.baseline || facts.servedAt || config.web.url !== config.site.url) return undefined;
  return (
    `one-click unsubscribe cannot work: emails point at ${config.web.url}unsubscribe, but no herald start has served this newsletter ` +
    '(its passes ran from herald run), and a static host answers that POST with 404 or 405; ' +
    `run herald start where ${config.site.url} is served, or set web.url to the address of a running herald start`
  );
}
