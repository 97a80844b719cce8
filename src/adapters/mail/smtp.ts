import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';
import { HeraldError } from '../../errors.js';
import type { MailTransport, SendResult } from '../../newsletter/ports.js';
import { compose, mailOptions, type Signer } from './compose.js';

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

// Enhanced status codes (RFC 3463) that say the mailbox itself is gone: bad address (5.1.x, but
// 5.1.7 and 5.1.8, the sender's address) and a disabled mailbox (5.2.1). A full mailbox (5.2.2)
// may empty; policy, spam and relaying refusals (5.7.x) and the rest are about the sender.
const MAILBOX_GONE = /^5\.(1\.(?!7\b|8\b)\d{1,3}|2\.1)$/;
// A 5xx without an enhanced code: 550, 551 and 553 name the mailbox, unless the text says the
// refusal is about the sender (a relay that wants a login, a blocklist, a policy).
const SENDER_WORDS = /relay|spam|block|black ?list|policy|reputation|authenticat|not permitted|access denied|rate|too many/i;

/**
 * What an SMTP failure means for the recipient. Only the server refusing this very mailbox at RCPT
 * TO is permanent (a bounce): anything about the sender (a relay that wants a login, a blocklist,
 * a policy) would otherwise bounce the whole list. A refused login is herald's problem, not the
 * reader's: it stops the send. Everything else (4xx, timeouts, dropped connections, a refusal of
 * the message itself) is tried again later, never held against the subscriber.
 */
export function classifySmtpError(error: SmtpError): SendResult {
  const reason = (error.response ?? error.message).replace(/\s+/g, ' ').trim();
  if (error.code === 'EAUTH') {
    throw new HeraldError({ code: 'E_SEND', field: 'smtp.url', message: `the SMTP server refused herald's login: ${reason}`, hint: 'check the user and password in smtp.url or HERALD_SMTP_URL' });
  }
  const atRecipient = (error.command ?? '').toUpperCase().startsWith('RCPT TO') || error.code === 'EENVELOPE';
  const code = error.responseCode ?? 0;
  if (!atRecipient || code < 500 || code > 599) return { ok: false, permanent: false, reason };
  const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(error.response ?? '')?.[1];
  const mailboxGone = enhanced ? MAILBOX_GONE.test(enhanced) : [550, 551, 553].includes(code) && !SENDER_WORDS.test(reason);
  return { ok: false, permanent: mailboxGone, reason };
}

/** A pool of SMTP connections; each message is composed (and signed) here and sent as it is. */
export function smtpTransport(config: Config, url: string, signer: Signer | undefined): MailTransport {
  const where = new URL(url);
  const pool = nodemailer.createTransport({
    pool: true,
    url,
    // The EHLO name: smtp.name, or the sending domain (never nodemailer's IP literal). A ?name= on
    // the URL, which nodemailer has always read, still wins.
    name: where.searchParams.get('name') ?? config.smtp.name,
    maxConnections: config.smtp.maxConnections,
    maxMessages: Infinity,
    ...(config.smtp.rateLimit ? { rateLimit: config.smtp.rateLimit, rateDelta: 1000 } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    description: `${where.protocol}//${where.host}`,
    async send(message) {
      // Signed, the message is built here so the signature can be checked before it leaves;
      // unsigned, the pool builds it as it streams it, as nodemailer always does.
      const signed = signer && (await compose(message));
      try {
        if (signed) await pool.sendMail({ envelope: signed.envelope, raw: await signer.sign(signed.raw) });
        else await pool.sendMail(mailOptions(message));
        // A relay's answer carries no id of its own worth keeping: a bounce that comes back later
        // quotes the Message-ID, or comes to the VERP return path that carries it (the core keeps it).
        return { ok: true };
      } catch (error) {
        return classifySmtpError(error as SmtpError);
      }
    },
    async close() {
      pool.close();
    },
  };
}
