// A message as bytes, made from parts built once per draft: nodemailer's composer built a tree of
// MIME nodes, random boundaries and streams for every reader, 17% of a send's CPU. The bytes are
// those nodemailer wrote (its own header encoders and folding; test/adapters/compose.test.ts
// compares the two). DKIM-signed by herald
// itself so that a key that cannot sign stops the send instead of letting unsigned mail out
// (nodemailer's own signing quietly skips a key it cannot use).
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import DKIM from 'nodemailer/lib/dkim';
import { encodeWord, foldLines, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import type { Config } from '../../config.js';
import { mailboxAddress } from '../../config.js';
import { HeraldError } from '../../errors.js';
import type { OutgoingMessage } from '../../newsletter/ports.js';
import { encodedParts } from './parts.js';

export interface Composed {
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

// Encodes header values and envelope addresses as nodemailer does (RFC 2047 words, punycode);
// its own headers are never used.
const encoder = new MimeNode();
const field = (key: string, value: Parameters<MimeNode['encodeHeaderValue']>[1]) => foldLines(`${key}: ${encoder.encodeHeaderValue(key, value)}`, 76);

/** What is the same in every reader's message of one draft: the header lines around theirs, and the boundary. */
interface Frame {
  /** Up to To: List-Unsubscribe-Post and From. */
  head: string;
  /** Between To and Message-ID: Reply-To and Subject. */
  middle: string;
  /** Between Date and List-Unsubscribe: List-ID. */
  list: string;
  /** MIME-Version, Content-Type, and the first boundary line. */
  tail: string;
  /** The boundary line between the text and the HTML part, and the closing one. */
  between: Buffer;
  close: Buffer;
}

const frames = new Map<string, Frame>();

function frameOf(message: OutgoingMessage): Frame {
  const { list } = message;
  const key = [message.from, message.replyTo ?? '', message.subject, list ? `${list.id}\0${list.name}` : ''].join('\0');
  let frame = frames.get(key);
  if (frame) return frame;
  // One boundary per draft serves every reader: it only has to be absent from the parts, and the
  // post was written before its random part was drawn (a reader's own values reach only their
  // own message).
  const boundary = `--_NmP-${randomBytes(8).toString('hex')}-Part_1`;
  const comment = list ? list.name.replace(/\r?\n|\r/g, ' ') : '';
  frame = {
    head: `${list ? 'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n' : ''}${field('From', message.from)}\r\n`,
    middle: `${message.replyTo ? `${field('Reply-To', message.replyTo)}\r\n` : ''}${field('Subject', message.subject)}\r\n`,
    list: list ? `${foldLines(`List-ID: ${isPlainText(comment) && !comment.includes('\x7f') ? quoteString(comment) : encodeWord(comment)} <${list.id}>`)}\r\n` : '',
    tail: `MIME-Version: 1.0\r\n${field('Content-Type', `multipart/alternative; boundary="${boundary}"`)}\r\n\r\n--${boundary}\r\n`,
    between: Buffer.from(`\r\n--${boundary}\r\n`),
    close: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
  // A pass has a few drafts (digests: one per set of posts); keep memory bounded all the same.
  if (frames.size >= 64) frames.clear();
  frames.set(key, frame);
  return frame;
}

// An address nodemailer's envelope parsing gives back as it is: a dot-atom, and a domain of
// lowercase ASCII labels, no A-label, ending in letters (a number would read as an IPv4 address).
// Parsing one cost a tenth of a message's CPU; test/adapters/compose.test.ts compares the two.
const PLAIN_ADDRESS = /^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*@(?!xn--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.(?!xn--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,63}$/;
const senders = new Map<string, string>();

/** The envelope's sender for a From or a return path, as nodemailer writes it. */
function envelopeSender(from: string): string {
  if (PLAIN_ADDRESS.test(from)) return from;
  let sender = senders.get(from);
  if (sender === undefined) {
    sender = encoder.setEnvelope({ from, to: [] }).getEnvelope().from || '';
    if (senders.size >= 64) senders.clear();
    senders.set(from, sender);
  }
  return sender;
}

/** The envelope's recipients for a reader's address, as nodemailer writes them. */
export function envelopeRecipients(address: string): string[] {
  return PLAIN_ADDRESS.test(address) ? [address] : encoder.setEnvelope({ to: address }).getEnvelope().to;
}

/** One reader's message: the draft's frame and parts, with this reader's headers and values. */
export function compose(message: OutgoingMessage): Composed {
  const frame = frameOf(message);
  const { list } = message;
  const parts = encodedParts(message.body.draft, message.body.recipient);
  const to = message.to.name ? { name: message.to.name, address: message.to.address } : message.to.address;
  const unsubscribe = list ? `${foldLines(`List-Unsubscribe: ${[list.unsubscribe, list.mailto].filter(Boolean).map((url) => `<${url}>`).join(', ')}`)}\r\n` : '';
  const head = `${frame.head}${field('To', to)}\r\n${frame.middle}${field('Message-ID', message.messageId)}\r\n${field('Date', message.date)}\r\n${frame.list}${unsubscribe}${frame.tail}`;
  const raw = Buffer.concat([Buffer.from(head), ...parts.text, frame.between, ...parts.html, frame.close]);
  return { envelope: { from: envelopeSender(message.returnPath ?? message.from) || mailboxAddress(message.from) || '', to: envelopeRecipients(message.to.address) }, raw };
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
