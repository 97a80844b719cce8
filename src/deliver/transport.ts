import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type Mail } from 'nodemailer';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import { writeFileAtomic } from '../files.js';

export type Message = Mail.Options;

/** How a message leaves herald. The sender uses only this; SMTP, the outbox and a dry run all fit. */
export interface Transport {
  /** Where messages go, for the log: "smtp://host:port" or "outbox/". */
  readonly description: string;
  send(message: Message): Promise<void>;
  close(): void;
}

// RFC 8058 makes one-click unsubscribe depend on both List-Unsubscribe headers being signed.
const DKIM_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:' +
  'Content-ID:Content-Description:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Unsubscribe-Post:' +
  'List-Subscribe:List-Post:List-Owner:List-Archive';

function dkimOptions(config: Config) {
  const dkim = config.smtp.dkim;
  if (!dkim) return undefined;
  let privateKey: string;
  try {
    privateKey = readFileSync(dkim.privateKeyFile, 'utf8');
  } catch (error) {
    throw new HeraldError({
      code: 'E_CONFIG',
      field: 'smtp.dkim.privateKey',
      file: dkim.privateKeyFile,
      message: `cannot read the DKIM private key: ${(error as NodeJS.ErrnoException).code}`,
      hint: 'point smtp.dkim.privateKey at a PEM file, relative to the config file',
    });
  }
  return { domainName: dkim.domain, keySelector: dkim.selector, privateKey, headerFieldNames: DKIM_HEADERS };
}

/** SMTP when a URL is configured (HERALD_SMTP_URL or smtp.url), else the outbox folder. */
export function createTransport(config: Config): Transport {
  const dkim = dkimOptions(config);
  if (config.smtp.url) {
    const url = new URL(config.smtp.url);
    const pool = nodemailer.createTransport({
      pool: true,
      url: config.smtp.url,
      maxConnections: config.smtp.maxConnections,
      maxMessages: Infinity,
      ...(config.smtp.rateLimit ? { rateLimit: config.smtp.rateLimit, rateDelta: 1000 } : {}),
      dkim,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
    } as Parameters<typeof nodemailer.createTransport>[0]);
    return {
      description: `${url.protocol}//${url.host}`,
      send: async (message) => {
        await pool.sendMail(message);
      },
      close: () => pool.close(),
    };
  }
  // The embedded default: each message becomes an .eml file, exactly as it would be sent.
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix', dkim });
  let sequence = 0;
  return {
    description: `${config.paths.outbox}/`,
    send: async (message) => {
      const info = await stream.sendMail(message);
      const to = info.envelope.to.join(',').replace(/[^\w.@-]+/g, '_');
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(++sequence).padStart(6, '0')}-${to}.eml`;
      await writeFileAtomic(join(config.paths.outbox, name), info.message as Buffer, { durable: false });
    },
    close: () => stream.close(),
  };
}
