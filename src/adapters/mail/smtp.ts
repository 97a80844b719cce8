import type { Socket } from 'node:net';
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
  /** The recipient an answer was about: on an LMTP server's answer for one recipient after the data. */
  recipient?: string;
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
 * TO (or over LMTP, which answers the data once for each recipient, in its answer for this one) is
 * permanent (a bounce): anything about the sender (a relay that wants a login, a blocklist,
 * a policy) would otherwise bounce the whole list. A refused login is herald's problem, not the
 * reader's: it stops the send. Everything else (4xx, timeouts, dropped connections, a refusal of
 * the message itself) is tried again later, never held against the subscriber.
 */
export function classifySmtpError(error: SmtpError): SendResult {
  const reason = (error.response ?? error.message).replace(/\s+/g, ' ').trim();
  if (error.code === 'EAUTH') {
    throw new HeraldError({ code: 'E_SEND', field: 'smtp.url', message: `the SMTP server refused herald's login: ${reason}`, hint: 'check the user and password in smtp.url or HERALD_SMTP_URL' });
  }
  // Not nodemailer's EENVELOPE as such: it is also a refusal at MAIL FROM or of DATA (a sender
  // refused with 5.1.0 would bounce every reader on the list).
  const atRcpt = (error.command ?? '').toUpperCase().startsWith('RCPT TO');
  const lmtpAnswer = error.code === 'EMESSAGE' && error.recipient !== undefined;
  const code = error.responseCode ?? 0;
  if (!(atRcpt || lmtpAnswer) || code < 500 || code > 599) return { ok: false, permanent: false, reason };
  const enhanced = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(error.response ?? '')?.[1];
  // After the data, a bare 550 is as likely about the message (a virus, a filter) as the mailbox:
  // only an enhanced code says which.
  const mailboxGone = enhanced ? MAILBOX_GONE.test(enhanced) : atRcpt && [550, 551, 553].includes(code) && !SENDER_WORDS.test(reason);
  return { ok: false, permanent: mailboxGone, reason };
}

/**
 * A pool of SMTP connections; each message is composed (and signed) here and sent as it is.
 * The connections are nodemailer's (greeting, EHLO, STARTTLS, AUTH, PIPELINING), but for the
 * writing of a message's data (OneWriteConnection); the pool is herald's: nodemailer's pool puts
 * every message through its mailer, a MIME tree and a stream pipeline even when it is handed the
 * bytes, which cost 2.7 times what the connection itself spends on a message.
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

// SMTP data (RFC 5321 4.5.2): lines end in CRLF, a line that starts with a dot gets another, and
// a line with a dot alone ends it. A message composed here has only CRLFs; dots start lines in
// most HTML emails (the stylesheet's class selectors).
const BARE_LINE_END = /\r(?!\n)|(?<!\r)\n/;
const DOT = Buffer.from('.');
const LINE_DOT = Buffer.from('\n.');
const END = Buffer.from('.\r\n');
const CRLF_END = Buffer.from('\r\n.\r\n');

/**
 * A message's bytes as they go after DATA, ending with the line that ends it: what nodemailer's
 * DataStream writes (bare CR and bare LF become CRLF, a dot starting a line is doubled), without
 * a look at every byte in JavaScript. In pieces of the message and the dots between them, to be
 * written together: nothing is copied.
 */
export function smtpData(message: Buffer): Buffer[] {
  // latin1 maps each byte to one character and back: the bytes of a UTF-8 text come through as they are.
  const text = message.toString('latin1');
  if (BARE_LINE_END.test(text)) {
    const fixed = text.replace(/\r\n|\r|\n/g, '\r\n').replace(/(^|\n)\./g, '$1..');
    return [Buffer.from(fixed, 'latin1'), fixed.endsWith('\r\n') ? END : CRLF_END];
  }
  const pieces: Buffer[] = message[0] === DOT[0] ? [DOT] : [];
  let from = 0;
  for (let at = message.indexOf(LINE_DOT); at >= 0; at = message.indexOf(LINE_DOT, at + 2)) {
    pieces.push(message.subarray(from, at + 1), DOT);
    from = at + 1;
  }
  const crlf = message.length >= 2 && message[message.length - 2] === 13 && message[message.length - 1] === 10;
  pieces.push(from ? message.subarray(from) : message, crlf ? END : CRLF_END);
  return pieces;
}

/** What of nodemailer's SMTPConnection the override below reaches (nodemailer 10's, read in its source). */
interface ConnectionInternals {
  options: SMTPConnection.Options;
  _socket: Socket;
  _responseActions: ((reply: string) => void)[];
  /** The transaction under way; `pipelined` when the server announced PIPELINING. */
  _envelope?: { pipelined?: boolean };
  /** The extensions the server announced in its EHLO answer (SMTPUTF8, PIPELINING...). */
  _supportedExtensions: string[];
  _actionSMTPStream(reply: string, callback: (error: Error | null, reply?: string) => void): void;
}

/**
 * nodemailer's connection, with the message written in one socket write, dots stuffed by
 * smtpData: its DataStream looks at every byte in JavaScript and writes the message and the final
 * dot apart, through a stream pipeline, about a sixth of what a message cost herald's CPU. Handed
 * a Buffer, send() writes it to the stream _createSendStream returns and ends it; that is all
 * this replaces. Should a later nodemailer no longer call it, its own DataStream does the same
 * (and `afterData` is not called: the pool then hands the connection on at the server's answer).
 */
class OneWriteConnection extends SMTPConnection {
  /**
   * Called once this message's data is written, in the same write; with `pipelined` (the server
   * announced PIPELINING) the next message's envelope may join it. Without, RFC 5321 has the
   * client wait for the answer first, and servers that enforce it drop those that do not.
   */
  afterData: ((pipelined: boolean) => void) | undefined;

  _createSendStream(callback: (error: Error | null, reply?: string) => void): { outByteCount: number; write(chunk: Buffer): void; end(): void } {
    const self = this as unknown as ConnectionInternals;
    // LMTP answers once per recipient: nodemailer's own stream and handlers.
    if (self.options.lmtp) return (SMTPConnection.prototype as unknown as { _createSendStream: OneWriteConnection['_createSendStream'] })._createSendStream.call(this, callback);
    self._responseActions.push((reply) => self._actionSMTPStream(reply, callback));
    const chunks: Buffer[] = [];
    const after = this.afterData;
    this.afterData = undefined;
    return {
      outByteCount: 0,
      write: (chunk) => void chunks.push(chunk),
      end() {
        const data = smtpData(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        self._socket.cork();
        for (const piece of data) {
          this.outByteCount += piece.length;
          self._socket.write(piece);
        }
        after?.(self._envelope?.pipelined === true);
        self._socket.uncork();
      },
    };
  }
}

interface Connection {
  smtp: OneWriteConnection;
  sent: number;
  closed: boolean;
  idleTimer?: NodeJS.Timeout;
  /** Fails the messages whose answer has not come, should the connection end under them. */
  unanswered: Set<(error: unknown) => void>;
}

// nodemailer's pool closes a connection idle this long; servers hang up on idle ones anyway.
const IDLE_MS = 4 * 60_000;
// How nodemailer says a connection ended under a message (its errors.isTransientError, 421 aside).
const DROPPED = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT']);

const connectionClosed = () => Object.assign(new Error('the SMTP server closed the connection'), { code: 'ECONNECTION' });

/** A message waiting for a connection: started on one as soon as it is free. */
interface Waiting {
  start: (connection: Connection) => void;
  fail: (error: unknown) => void;
}

/**
 * Up to `size` connections, opened as they are needed. A connection takes its next message as
 * soon as the one before is written, not answered: with PIPELINING (RFC 2920 lets the message's
 * data lead a group of commands) the next MAIL, RCPT and DATA go in the same write as the data
 * before them, so a message costs one round trip to the server and one write instead of two.
 * Each message is still settled by the server's own answer to it.
 */
class SmtpPool {
  private readonly idle: Connection[] = [];
  /** Sends waiting for a connection, first come first served. */
  private readonly waiting: Waiting[] = [];
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
    let reused = false;
    try {
      await this.onNextConnection((connection) => {
        reused = connection.sent > 0;
        return this.transfer(connection, envelope, raw);
      });
    } catch (error) {
      // A connection the server dropped while it sat idle fails the next message without an
      // answer: that one goes again on a new connection, as nodemailer's pool does.
      if (reused && DROPPED.has((error as SmtpError).code ?? '') && !(error as SmtpError).responseCode) await this.onNextConnection((connection) => this.transfer(connection, envelope, raw));
      else throw error;
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) this.quit(connection);
    for (const waiter of this.waiting.splice(0)) waiter.fail(Object.assign(new Error('the mail transport was closed'), { code: 'ECONNECTION' }));
  }

  /** Messages start at most rateLimit a second, evenly spaced. */
  private async pace(): Promise<void> {
    if (!this.rateLimit) return;
    const now = performance.now();
    const start = Math.max(now, this.nextSlot);
    this.nextSlot = start + 1000 / this.rateLimit;
    if (start > now) await new Promise((resolve) => setTimeout(resolve, start - now));
  }

  /**
   * `work` on an idle connection, a new one, or the first to be handed on: then synchronously,
   * inside the write of the message before it.
   */
  private onNextConnection(work: (connection: Connection) => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const start = (connection: Connection) => void work(connection).then(resolve, reject);
      const connection = this.idle.pop();
      if (connection) {
        clearTimeout(connection.idleTimer);
        return start(connection);
      }
      if (this.open < this.size) {
        this.open++;
        return void this.connect().then(start, reject);
      }
      this.waiting.push({ start, fail: reject });
    });
  }

  /** Back to the pool, or to the first send waiting for one. */
  private release(connection: Connection): void {
    if (connection.closed) return;
    if (this.closed) return this.quit(connection);
    const waiter = this.waiting.shift();
    if (waiter) return waiter.start(connection);
    connection.idleTimer = setTimeout(() => this.quit(connection), IDLE_MS).unref();
    this.idle.push(connection);
  }

  /**
   * A connection is gone: its place goes to a send waiting for one, on a new connection. With
   * `error` (it ended under them), the messages still waiting for their answer fail with it.
   */
  private gone(connection: Connection, error?: unknown): void {
    if (error) for (const fail of connection.unanswered) fail(error);
    if (connection.closed) return;
    connection.closed = true;
    clearTimeout(connection.idleTimer);
    this.open--;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    const waiter = this.waiting.shift();
    if (waiter && !this.closed) {
      this.open++;
      this.connect().then(waiter.start, waiter.fail);
    }
  }

  private quit(connection: Connection): void {
    connection.smtp.quit();
    this.gone(connection);
  }

  private connect(): Promise<Connection> {
    const smtp = new OneWriteConnection(this.options);
    const connection: Connection = { smtp, sent: 0, closed: false, unanswered: new Set() };
    return new Promise((resolve, reject) => {
      let ready = false;
      const fail = (error: unknown) => {
        smtp.close();
        this.gone(connection);
        reject(error);
      };
      const ended = (error: unknown) => (ready ? this.gone(connection, error) : fail(error));
      // Before it is ready, an error fails the send that opened it; after, nodemailer hands it to
      // the last message sent, and the pool to those sent before it whose answer has not come.
      smtp.on('error', ended);
      // An end before it was ready may come before the error that says why (a refused connection).
      smtp.once('end', () => (ready ? ended(connectionClosed()) : setImmediate(() => fail(connectionClosed()))));
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
    // An address outside ASCII (jörg@example.com) needs a server that announced SMTPUTF8; RFC 6531
    // 3.4 has the client refuse it to any other, where nodemailer would send it as it is. Refused
    // as the server would refuse it at RCPT TO: the reader's address cannot go this way.
    const notAscii = /[^\x00-\x7f]/;
    if (notAscii.test(envelope.from + envelope.to.join('')) && !(connection.smtp as unknown as ConnectionInternals)._supportedExtensions.includes('SMTPUTF8')) {
      this.release(connection);
      // The sender's own address (5.1.7) is herald's to fix, not the reader's: not a bounce.
      const whose = notAscii.test(envelope.from) ? { command: 'MAIL FROM', status: '5.1.7', what: 'the sender address' } : { command: 'RCPT TO', status: '5.1.3', what: 'the address' };
      const response = `553 ${whose.status} ${whose.what} is not in ASCII, and this SMTP server does not take such addresses (it did not announce SMTPUTF8)`;
      return Promise.reject(Object.assign(new Error(response), { code: 'EENVELOPE', command: whose.command, responseCode: 553, response }));
    }
    return new Promise((resolve, reject) => {
      let handedOn = false;
      const handOn = () => {
        handedOn = true;
        this.release(connection);
      };
      const settled = (error: unknown) => {
        connection.unanswered.delete(settled);
        if (error) reject(error);
        else resolve();
      };
      connection.unanswered.add(settled);
      connection.smtp.afterData = (pipelined) => {
        if (pipelined) handOn();
      };
      connection.smtp.send(envelope, raw, (sendError, info) => {
        // An LMTP server answers the data once for each recipient, and nodemailer reports a
        // recipient refused there as a success, with the refusal beside it: a message has one.
        const error = sendError ?? info?.rejectedErrors?.[0];
        if (!error) {
          connection.sent++;
          if (!handedOn) handOn();
          return settled(undefined);
        }
        settled(error);
        const refusal = error as SmtpError;
        if (refusal.responseCode === 421 || !(refusal.code === 'EENVELOPE' || refusal.code === 'EMESSAGE')) {
          // The message sent after this one, if any, fails as on a dropped connection.
          connection.smtp.close();
          this.gone(connection, connectionClosed());
        } else if (!handedOn && !connection.closed) {
          // The server refused this message, not the connection: the session is reset (needed when
          // refused before its data, harmless after) and kept. A message refused after its data
          // whose connection was handed on already needs neither.
          connection.smtp.afterData = undefined;
          connection.smtp.reset((failed) => (failed ? this.quit(connection) : this.release(connection)));
        }
      });
    });
  }
}
