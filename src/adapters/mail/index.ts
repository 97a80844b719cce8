import type { Config } from '../../config.js';
import type { MailTransport } from '../../newsletter/ports.js';
import { dkimSigner } from './compose.js';
import { outboxTransport } from './outbox.js';
import { postmarkOptions, postmarkTransport, type PostmarkOptions } from './postmark.js';
import { sesOptions, sesTransport, type SesOptions } from './ses.js';
import { smtpTransport } from './smtp.js';

/**
 * Where mail goes, from smtp.url (or HERALD_SMTP_URL): an SMTP relay (smtp://, smtps://),
 * Amazon SES (ses://REGION), Postmark's API (postmark://TOKEN@api.postmarkapp.com), or, unset,
 * the outbox folder. DKIM where herald builds the message itself (SMTP, SES, the outbox);
 * Postmark signs with its own.
 */
export function createTransport(config: Config): MailTransport {
  const target = mailTarget(config);
  const signer = dkimSigner(config);
  if (target.kind === 'postmark') return postmarkTransport(target.options);
  if (target.kind === 'ses') return sesTransport(target.options, signer);
  return target.kind === 'smtp' ? smtpTransport(config, target.url, signer) : outboxTransport(config, signer);
}

type MailTarget = { kind: 'outbox' } | { kind: 'smtp'; url: string } | { kind: 'postmark'; options: PostmarkOptions } | { kind: 'ses'; options: SesOptions };

/**
 * What smtp.url names, read and checked (a postmark:// URL without its token, an ses:// one with
 * half its credentials are errors naming smtp.url), without making anything: what `herald check`
 * asks, without loading a provider's SDK or opening a pool.
 */
export function mailTarget(config: Config): MailTarget {
  if (!config.smtp.url) return { kind: 'outbox' };
  const url = new URL(config.smtp.url);
  if (url.protocol === 'postmark:') return { kind: 'postmark', options: postmarkOptions(url) };
  if (url.protocol === 'ses:') return { kind: 'ses', options: sesOptions(url, config.smtp.rateLimit) };
  return { kind: 'smtp', url: config.smtp.url };
}
