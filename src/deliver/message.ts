import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { personalise, type EmailDraft } from '../email/render.js';
import type { Message } from './transport.js';

export interface Addressee {
  name: string;
  email: string;
  unsubscribeUrl: string;
}

/** One recipient's own message: no list of other readers, a Message-ID unique per job and recipient. */
export function buildMessage(draft: EmailDraft, to: Addressee, config: Config, jobKey: string, now: Date): Message {
  const email = personalise(draft, { name: to.name, email: to.email, unsubscribeUrl: to.unsubscribeUrl });
  const host = new URL(config.site.url).hostname;
  const digest = createHash('sha256').update(`${jobKey}\0${to.email.toLowerCase()}`).digest('hex').slice(0, 32);
  return {
    from: config.email.from,
    replyTo: config.email.replyTo,
    to: to.name ? { name: to.name, address: to.email } : to.email,
    subject: email.subject,
    date: now,
    messageId: `<${digest}@${host}>`,
    html: email.html,
    text: email.text,
    list: { id: { url: `newsletter.${host}`, comment: config.site.title }, unsubscribe: to.unsubscribeUrl },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}
