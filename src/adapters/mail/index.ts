import type { Config } from '../../config.js';
import type { MailTransport } from '../../newsletter/ports.js';
import { dkimSigner } from './compose.js';
import { outboxTransport } from './outbox.js';
import { smtpTransport } from './smtp.js';

/** SMTP when a URL is configured (HERALD_SMTP_URL or smtp.url), else the outbox folder. DKIM either way. */
export function createTransport(config: Config): MailTransport {
  const signer = dkimSigner(config);
  return config.smtp.url ? smtpTransport(config, config.smtp.url, signer) : outboxTransport(config, signer);
}
