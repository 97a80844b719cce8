import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { writeFileAtomic } from '../../files.js';
import type { MailTransport } from '../../newsletter/ports.js';
import { compose, type Signer } from './compose.js';

/**
 * The embedded default: each message becomes an .eml file in the outbox folder, exactly as it
 * would be sent (signed too, with DKIM set). The files carry live unsubscribe links: mode 0600.
 */
export function outboxTransport(config: Config, signer: Signer | undefined): MailTransport {
  const folder = config.paths.outbox;
  let sequence = 0;
  return {
    description: `${folder}/`,
    async send(message) {
      const { envelope, raw } = compose(message);
      const bytes = signer ? await signer.sign(raw) : raw;
      const to = envelope.to.join(',').replace(/[^\w.@-]+/g, '_');
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(++sequence).padStart(6, '0')}-${randomBytes(3).toString('hex')}-${to}.eml`;
      await writeFileAtomic(join(folder, name), bytes, { durable: false, mode: 0o600, dirMode: 0o700 });
      return { ok: true };
    },
    async close() {},
  };
}
