import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Received {
  to: string[];
  /** The name the client gave in EHLO or HELO. */
  greeting: string;
  raw: string;
  mail: ParsedMail;
}

export interface Sink {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback. `reply` may refuse a recipient: return an Error with a
 * responseCode (4xx: try later, 5xx: refused for good), or undefined to accept.
 */
export async function startSmtpSink(options: { reply?: (to: string, attempt: number) => (Error & { responseCode?: number }) | undefined; dropFirst?: number; parse?: boolean; delayMs?: number; hideSmtpUtf8?: boolean } = {}): Promise<Sink> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  let drops = options.dropFirst ?? 0;
  const serverOptions: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    hideSMTPUTF8: options.hideSmtpUtf8 ?? false,
    logger: false,
    onConnect(session, callback) {
      if (drops > 0) {
        drops--;
        // Hang up on the client, as an overloaded or restarting server does.
        setImmediate(() => (session as unknown as { _socket?: { destroy(): void } })._socket?.destroy());
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      const count = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, count);
      callback(options.reply?.(address.address, count));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        received.push({ to, greeting: session.hostNameAppearsAs, raw, mail: options.parse === false ? (undefined as unknown as ParsedMail) : await simpleParser(raw) });
        if (options.delayMs) setTimeout(callback, options.delayMs);
        else callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // Clients that are killed or hung up on reset their connections: expected here, not a failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}
