import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import wellKnown from 'nodemailer/lib/well-known';
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

/**
 * A pool of SMTP connections; each message is composed (and signed) here and sent as it is.
 * The connections are nodemailer's (greeting, EHLO, STARTTLS, AUTH, PIPELINING, dot-stuffing);
 * the pool is herald's: nodemailer's pool puts every message through its mailer, a MIME tree
 * and a stream pipeline even when it is handed the bytes, which cost 2.7 times what the
 * connection itself spends on a message.
 */
export function smtpTransport(config: Config, url: string, signer: Signer | undefined): MailTransport {
  const where = new URL(url);
  const fromUrl = parseConnectionUrl(url);
  const service = typeof fromUrl.service === 'string' ? wellKnown(fromUrl.service) : false;
  const { auth, ...options } = {
    ...fromUrl,
    ...(service || {}),
    // The EHLO name: smtp.name, or the sending domain (never nodemailer's IP literal). A ?name= on
    // the URL, which nodemailer has always read, still wins.
    name: where.searchParams.get('name') ?? config.smtp.name,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  } as SMTPConnection.Options & { auth?: { user: string; pass: string } };
  const pool = new SmtpPool(options, auth?.user || auth?.pass ? { user: auth.user, credentials: { user: auth.user || '', pass: auth.pass } } : undefined, config.smtp.maxConnections, config.smtp.rateLimit);
  return {
    description: `${where.protocol}//${where.host}`,
    async send(message) {
      const { envelope, raw } = compose(message);
      // A key that cannot sign throws (compose.ts): nothing more is sent, signed or not.
      const bytes = signer ? await signer.sign(raw) : raw;
      try {
        await pool.send(envelope, bytes);
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

interface Connection {
  smtp: SMTPConnection;
  sent: number;
  closed: boolean;
  idleTimer?: NodeJS.Timeout;
}

// nodemailer's pool closes a connection idle this long; servers hang up on idle ones anyway.
const IDLE_MS = 4 * 60_000;
// How nodemailer says a connection ended under a message (its errors.isTransientError, 421 aside).
const DROPPED = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT']);

/** Up to `size` connections, each sending one message at a time, opened as they are needed. */
class SmtpPool {
  private readonly idle: Connection[] = [];
  /** Sends waiting for a connection, first come first served. */
  private readonly waiting: { resolve: (connection: Connection) => void; reject: (error: unknown) => void }[] = [];
  private open = 0;
  private closed = false;
  /** When the next message may start, with smtp.rateLimit. */
  private nextSlot = 0;

  constructor(
    private readonly options: SMTPConnection.Options,
    private readonly auth: SMTPConnection.AuthenticationType | undefined,
    private readonly size: number,
    private readonly rateLimit: number | undefined,
  ) {}

  async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<void> {
    await this.pace();
    const connection = await this.take();
    try {
      await this.transfer(connection, envelope, raw);
    } catch (error) {
      // A connection the server dropped while it sat idle fails the next message without an
      // answer: that one goes again on a new connection, as nodemailer's pool does.
      if (connection.sent > 0 && DROPPED.has((error as SmtpError).code ?? '') && !(error as SmtpError).responseCode) await this.transfer(await this.take(), envelope, raw);
      else throw error;
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) this.quit(connection);
    for (const waiter of this.waiting.splice(0)) waiter.reject(Object.assign(new Error('the mail transport was closed'), { code: 'ECONNECTION' }));
  }

  /** Messages start at most rateLimit a second, evenly spaced. */
  private async pace(): Promise<void> {
    if (!this.rateLimit) return;
    const now = performance.now();
    const start = Math.max(now, this.nextSlot);
    this.nextSlot = start + 1000 / this.rateLimit;
    if (start > now) await new Promise((resolve) => setTimeout(resolve, start - now));
  }

  private take(): Promise<Connection> {
    const connection = this.idle.pop();
    if (connection) {
      clearTimeout(connection.idleTimer);
      return Promise.resolve(connection);
    }
    if (this.open < this.size) {
      this.open++;
      return this.connect();
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Back to the pool, or to the first send waiting for one. */
  private release(connection: Connection): void {
    if (connection.closed) return;
    if (this.closed) return this.quit(connection);
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve(connection);
    connection.idleTimer = setTimeout(() => this.quit(connection), IDLE_MS).unref();
    this.idle.push(connection);
  }

  /** A connection is gone: its place goes to a send waiting for one, on a new connection. */
  private gone(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    clearTimeout(connection.idleTimer);
    this.open--;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    const waiter = this.waiting.shift();
    if (waiter && !this.closed) {
      this.open++;
      this.connect().then(waiter.resolve, waiter.reject);
    }
  }

  private quit(connection: Connection): void {
    connection.smtp.quit();
    this.gone(connection);
  }

  private connect(): Promise<Connection> {
    const smtp = new SMTPConnection(this.options);
    const connection: Connection = { smtp, sent: 0, closed: false };
    return new Promise((resolve, reject) => {
      let ready = false;
      const fail = (error: unknown) => {
        smtp.close();
        this.gone(connection);
        reject(error);
      };
      // Before it is ready, an error fails the send that opened it; after, the send in flight
      // gets it from send() itself, and an idle connection just leaves the pool.
      smtp.on('error', (error) => (ready ? this.gone(connection) : fail(error)));
      // An end before it was ready may come before the error that says why (a refused connection).
      const ended = () => fail(Object.assign(new Error('the SMTP server closed the connection'), { code: 'ECONNECTION' }));
      smtp.once('end', () => (ready ? this.gone(connection) : setImmediate(ended)));
      smtp.connect((error) => {
        if (error) return fail(error);
        if (!this.auth || !smtp.allowsAuth) {
          ready = true;
          return resolve(connection);
        }
        smtp.login(this.auth, (refused) => {
          if (refused) return fail(refused);
          ready = true;
          resolve(connection);
        });
      });
    });
  }

  private transfer(connection: Connection, envelope: { from: string; to: string[] }, raw: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      connection.smtp.send(envelope, raw, (error) => {
        if (!error) {
          connection.sent++;
          this.release(connection);
          return resolve();
        }
        const refusal = error as SmtpError;
        // The server refused this message, not the connection: the session is reset and kept.
        if ((refusal.code === 'EENVELOPE' || refusal.code === 'EMESSAGE') && refusal.responseCode !== 421 && !connection.closed) {
          connection.smtp.reset((failed) => (failed ? this.quit(connection) : this.release(connection)));
        } else {
          connection.smtp.close();
          this.gone(connection);
        }
        reject(error);
      });
    });
  }
}
