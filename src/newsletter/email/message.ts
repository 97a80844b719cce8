import { createHash } from 'node:crypto';
import type { Config } from '../../config.js';
import type { OutgoingMessage } from '../ports.js';

/**
 * One recipient's own message: no list of other readers, and a Message-ID made from `seed` (what
 * the message is: a post, a round, a confirmation) and the recipient, so it is unique per message
 * and the same if the very message is tried again.
 */
export function buildMessage(
  content: { subject: string; html: string; text: string },
  to: { name: string; email: string },
  config: Config,
  seed: string,
  now: Date,
  unsubscribeUrl?: string,
): OutgoingMessage {
  const host = new URL(config.site.url).hostname;
  const digest = createHash('sha256').update(`${seed}\0${to.email.toLowerCase()}`).digest('hex').slice(0, 32);
  return {
    from: config.email.from,
    replyTo: config.email.replyTo,
    to: { name: to.name, address: to.email },
    subject: content.subject,
    date: now,
    messageId: `<${digest}@${host}>`,
    html: content.html,
    text: content.text,
    ...(unsubscribeUrl ? { list: { id: `newsletter.${host}`, name: config.site.title, unsubscribe: unsubscribeUrl } } : {}),
  };
}
