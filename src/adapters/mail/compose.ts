// A message as bytes: composed once by nodemailer, DKIM-signed by herald itself so that a key
// that cannot sign stops the send instead of letting unsigned mail out (nodemailer's own signing
// quietly skips a key it cannot use).
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import nodemailer from 'nodemailer';
import DKIM from 'nodemailer/lib/dkim';
import type { Config } from '../../config.js';
import { mailboxAddress } from '../../config.js';
import { HeraldError } from '../../errors.js';
import type { OutgoingMessage } from '../../newsletter/ports.js';
import { encodedParts } from './parts.js';

export interface Composed {
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

/** The message as nodemailer's options: what the SMTP pool sends as is, or the builder turns into bytes. */
export function mailOptions(message: OutgoingMessage) {
  return {
    from: message.from,
    replyTo: message.replyTo,
    to: message.to.name ? { name: message.to.name, address: message.to.address } : message.to.address,
    subject: message.subject,
    date: message.date,
    messageId: message.messageId,
    ...(message.returnPath ? { envelope: { from: message.returnPath, to: message.to.address } } : {}),
    ...encodedParts(message.body.draft, message.body.recipient),
    ...(message.list
      ? { list: { id: { url: message.list.id, comment: message.list.name }, unsubscribe: [[message.list.unsubscribe, ...(message.list.mailto ? [message.list.mailto] : [])]] }, headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }
      : {}),
  };
}

// nodemailer's stream transport only builds the message: From, To, List-* headers and MIME parts.
const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

export async function compose(message: OutgoingMessage): Promise<Composed> {
  const info = await builder.sendMail(mailOptions(message));
  return { envelope: { from: info.envelope.from || mailboxAddress(message.from) || '', to: info.envelope.to }, raw: info.message as Buffer };
}

// RFC 8058 makes one-click unsubscribe depend on both List-Unsubscribe headers being signed.
const SIGNED_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:' +
  'Content-ID:Content-Description:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Unsubscribe-Post:' +
  'List-Subscribe:List-Post:List-Owner:List-Archive';

export interface Signer {
  readonly domain: string;
  sign(raw: Buffer): Promise<Buffer>;
}

/**
 * The DKIM signer for `smtp.dkim`, or undefined without it. The key must be an RSA private key
 * (what nodemailer's DKIM signs with); anything else is an error naming smtp.dkim.privateKey.
 */
export function dkimSigner(config: Config): Signer | undefined {
  const dkim = config.smtp.dkim;
  if (!dkim) return undefined;
  const problem = (message: string, hint: string) =>
    new HeraldError({ code: 'E_DKIM', file: config.file, field: 'smtp.dkim.privateKey', message: `smtp.dkim.privateKey (${dkim.privateKeyFile}): ${message}`, hint });
  let pem: string;
  try {
    pem = readFileSync(dkim.privateKeyFile, 'utf8');
  } catch (error) {
    throw problem(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'point smtp.dkim.privateKey at a PEM file, relative to the config file');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    const isPublic = /-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem);
    throw problem(
      isPublic ? 'this is a public key; signing needs the private one' : 'not a PEM private key',
      isPublic ? 'the public key goes into DNS (selector._domainkey.domain); point smtp.dkim.privateKey at the private key' : 'make one with: openssl genrsa -out dkim.pem 2048',
    );
  }
  if (key.asymmetricKeyType !== 'rsa') throw problem(`a ${key.asymmetricKeyType} key; herald signs with RSA (rsa-sha256)`, 'make one with: openssl genrsa -out dkim.pem 2048');
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) throw problem(`an RSA key of ${key.asymmetricKeyDetails?.modulusLength} bits; mail providers ignore keys under 1024 bits`, 'make one of 2048 bits: openssl genrsa -out dkim.pem 2048');
  const signer = new DKIM({ domainName: dkim.domain, keySelector: dkim.selector, privateKey: pem, headerFieldNames: SIGNED_HEADERS });
  return {
    domain: dkim.domain,
    async sign(raw: Buffer): Promise<Buffer> {
      const signed = await buffer(signer.sign(raw));
      // The promise herald makes: with DKIM configured, no message leaves unsigned.
      if (!signed.subarray(0, 15).toString('latin1').startsWith('DKIM-Signature:')) {
        throw problem('the message could not be signed with this key', 'check the key file; herald sends nothing unsigned while smtp.dkim is set');
      }
      return signed;
    },
  };
}
