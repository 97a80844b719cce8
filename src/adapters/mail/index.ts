import type { Config } from '../../config.js';
import type { MailTransport } from '../../newsletter/ports.js';
import { dkimSigner } from './compose.js';
import { outboxTransport } from './outbox.js';
import { postmarkOptions, postmarkTransport } from './postmark.js';
import { sesOptions, sesTransport } from './ses.js';
import { smtpTransport } from './smtp.js';

/**
 * Where mail goes, from smtp.url (or HERALD_SMTP_URL): an SMTP relay (smtp://, smtps://),
 * Amazon SES (ses://REGION), Postmark's API (postmark://TOKEN@api.postmarkapp.com), or, unset,
 * the outbox folder. DKIM where herald builds the message itself (SMTP, SES, the outbox);
 * Postmark signs with its own.
 */
export function createTransport(config: Config): MailTransport {
  const signer = dkimSigner(config);
  if (!config.smtp.url) return outboxTransport(config, signer);
  const url = new URL(config.smtp.url);
  if (url.protocol === 'postmark:') return postmarkTransport(postmarkOptions(url));
  if (url.protocol === 'ses:') return sesTransport(sesOptions(url, config.smtp.rateLimit), signer);
  return smtpTransport(config, config.smtp.url, signer);
}
