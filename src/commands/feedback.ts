// What comes back after sending, by hand or from an MTA: `herald inbound` reads one bounce or
// complaint message on standard input; `herald webhooks` prints the addresses and keys to give
// mail providers. The core matches and decides (Newsletter.feedback); these only read and print.
import { withApp, type CommandContext } from './context.js';

// An MTA pipe hands over one message; anything much larger is not a bounce worth reading whole.
const INBOUND_LIMIT = 10 * 1024 * 1024;

/** sysexits' EX_TEMPFAIL: the one code (with EX_OSERR) Postfix and Exim take as "keep it and try again". */
export const EX_TEMPFAIL = 75;

/** The first `limit` bytes of a stream; the rest is read and dropped, so the writer is not left blocked. */
async function readUpTo(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    if (size >= limit) continue;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    chunks.push(bytes.subarray(0, limit - size));
    size += bytes.length;
  }
  return Buffer.concat(chunks);
}

/**
 * Reads one message (a DSN, an ARF complaint, or anything else sent to the bounce address) and
 * applies what it reports. Exits 0 whatever the message was, so the MTA does not bounce the
 * bounce; 75 (EX_TEMPFAIL) when herald itself cannot work (its config, its database), so the MTA
 * keeps the message and tries again (the CLI maps any error of this command to it).
 */
export async function inboundCommand(context: CommandContext, stdin: NodeJS.ReadableStream): Promise<number> {
  const { io } = context;
  const raw = await readUpTo(stdin, INBOUND_LIMIT);
  const { parseInbound } = await import('../adapters/inbound.js');
  const report = await parseInbound(raw);
  if (!report.feedback.length) {
    io.out(`inbound: ${report.kind === 'other' ? 'not a bounce or complaint report' : `a ${report.kind} report with nothing to apply`}; nothing changed`);
    return 0;
  }
  return withApp(context, async (app) => {
    for (const result of await app.newsletter.feedback(report.feedback)) {
      const { feedback } = result;
      const about = result.email ?? feedback.recipient ?? 'an unknown recipient';
      if (result.result === 'unmatched') io.out(`inbound: ${feedback.kind} for ${about}: names no message herald sent; nothing changed`);
      else if (result.result === 'repeated') io.out(`inbound: ${feedback.kind} for ${about}: already recorded`);
      else io.out(`inbound: ${feedback.kind} for ${about}: ${result.outcome} (${feedback.reason})`);
    }
    return 0;
  });
}

/** The webhook addresses and keys, for the mail provider's console. */
export async function webhooksCommand(context: CommandContext): Promise<number> {
  const { config, io } = context;
  return withApp(context, async (app) => {
    const url = (path: string, credentials = '') => {
      const address = new URL(path, config.web.url);
      if (credentials) [address.username, address.password] = credentials.split(':') as [string, string];
      return address.href;
    };
    io.out(`Amazon SES (an SNS topic's HTTPS subscription): ${url('webhooks/ses')}`);
    io.out(`Postmark (bounce, spam complaint and delivery webhooks): ${url('webhooks/postmark', `postmark:${app.newsletter.webhookKey('postmark')}`)}`);
    io.out(`anything else: POST ${url('webhooks/bounce')} with the header X-Herald-Signature: sha256=<HMAC-SHA256 of the body, hex> keyed with ${app.newsletter.webhookKey('bounce')}`);
    if (!config.web.url.startsWith('https:')) io.err(`warning: ${config.web.url} is not https: providers send these over the internet; serve herald start behind https`);
    return 0;
  });
}
