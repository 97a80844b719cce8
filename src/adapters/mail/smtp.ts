import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';
import { HeraldError } from '../../errors.js';
import type { MailTransport, SendResult } from '../../newsletter/ports.js';
import { compose, type Signer } from './compose.js';

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

/**
 * What an SMTP failure means for the recipient. Only a 5xx answer to RCPT TO, the server refusing
 * this very address, is permanent (a bounce). A refused login is herald's problem, not the
 * reader's: it stops the send. Everything else (4xx, timeouts, dropped connections, a 5xx to the
 * message itself) is tried again later, never held against the subscriber.
 */
export function classifySmtpError(error: SmtpError): SendResult {
  const reason = (error.response ?? error.message).replace(/\s+/g, ' ').trim();
  if (error.code === 'EAUTH') {
    throw new HeraldError({ code: 'E_SEND', field: 'smtp.url', message: `the SMTP server refused herald's login: ${reason}`, hint: 'check the user and password in smtp.url or HERALD_SMTP_URL' });
  }
  const recipientRefused = (error.command ?? '').toUpperCase().startsWith('RCPT TO') || error.code === 'EENVELOPE';
  return { ok: false, permanent: recipientRefused && (error.responseCode ?? 0) >= 500, reason };
}

/** A pool of SMTP connections; each message is composed (and signed) here and sent as it is. */
export function smtpTransport(config: Config, url: string, signer: Signer | undefined): MailTransport {
  const pool = nodemailer.createTransport({
    pool: true,
    url,
    maxConnections: config.smtp.maxConnections,
    maxMessages: Infinity,
    ...(config.smtp.rateLimit ? { rateLimit: config.smtp.rateLimit, rateDelta: 1000 } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const where = new URL(url);
  return {
    description: `${where.protocol}//${where.host}`,
    async send(message) {
      const { envelope, raw } = await compose(message);
      const bytes = signer ? await signer.sign(raw) : raw;
      try {
        await pool.sendMail({ envelope, raw: bytes });
        // The Message-ID is what a bounce report (DSN) quotes back.
        return { ok: true, providerId: message.messageId };
      } catch (error) {
        return classifySmtpError(error as SmtpError);
      }
    },
    async close() {
      pool.close();
    },
  };
}
