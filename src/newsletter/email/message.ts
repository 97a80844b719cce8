import { createHash } from 'node:crypto';
import type { Config } from '../../config.js';
import type { OutgoingMessage } from '../ports.js';
import type { EmailDraft, Recipient } from './render.js';

/**
 * One recipient's own message: no list of other readers, a Message-ID made from `seed` (what the
 * message is: a post, a round, a confirmation) and the recipient, so it is unique per message and
 * the same if the very message is tried again, and with an unsubscribe link, the List-* headers.
 */
export function buildMessage(draft: EmailDraft, recipient: Recipient, config: Config, seed: string, now: Date): OutgoingMessage {
  const { unsubscribeUrl } = recipient;
  const host = new URL(config.site.url).hostname;
  const digest = createHash('sha256').update(`${seed}\0${recipient.email.toLowerCase()}`).digest('hex').slice(0, 32);
  return {
    from: config.email.from,
    replyTo: config.email.replyTo,
    to: { name: recipient.name, address: recipient.email },
    subject: draft.subject,
    date: now,
    messageId: `<${digest}@${host}>`,
    body: { draft, recipient },
    ...(unsubscribeUrl ? { list: { id: `newsletter.${host}`, name: config.site.title, unsubscribe: unsubscribeUrl } } : {}),
  };
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
