// A message's text and HTML parts, encoded once per draft and personalised per recipient.
//
// A post goes to thousands of readers with the same words: only the name, the address and the
// links differ. Quoted-printable lets an encoded text be cut anywhere with a soft line break
// ("=" at the end of a line, which decoders join without a trace), so each stretch of the draft
// between two fields is encoded once, and a reader's message is those stretches with their own
// values, encoded alone, between soft breaks. nodemailer encodes (its qp module); compose.ts
// puts the headers and boundaries around these parts.
import { encode, wrap } from 'nodemailer/lib/qp';
import { draftSegments, fieldValue, type EmailDraft, type Field, type Recipient } from '../../newsletter/email/render.js';
import { escapeHtml } from '../../text.js';

interface EncodedPart {
  head: Buffer;
  /** Encoded stretches of the draft, as bytes, and the names of the fields between them. */
  pieces: (Buffer | { field: Field })[];
  escape: (value: string) => string;
}

const SOFT_BREAK = Buffer.from('=\r\n');

// 75, not 76: a stretch's last line gets the soft break's "=" after it, and 76 is the limit.
const LINE = 75;

function encodePart(text: string, type: 'text/plain' | 'text/html', escape: (value: string) => string): EncodedPart {
  const crlf = text.replace(/\r?\n/g, '\r\n');
  return {
    head: Buffer.from(`Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`),
    pieces: draftSegments(crlf).map((piece) => (typeof piece === 'string' ? Buffer.from(wrap(encode(piece), LINE)) : piece)),
    escape,
  };
}

/**
 * A reader's value as encoded lines. Its line breaks are CRLF, as the draft's are (quoted-printable
 * knows no other), and a line it starts with "-" has it encoded: the value is the reader's own
 * (an address can be "--" and the message's boundary, seen in an earlier message), and a line
 * starting with the boundary would end the part there.
 */
function encodeValue(value: string): Buffer {
  return Buffer.from(wrap(encode(value.replace(/\r\n?|\n/g, '\r\n')), LINE - 2).replace(/^-/gm, '=2D'));
}

// Bytes, not text: the stretches made once are copied into each message as they are, where
// joining them as text had every message's 10 KB encoded to UTF-8 again (a tenth of a send's CPU).
function personal(part: EncodedPart, recipient: Recipient, into: Buffer[]): void {
  into.push(part.head);
  let first = true;
  for (const piece of part.pieces) {
    const encoded = Buffer.isBuffer(piece) ? piece : encodeValue(part.escape(fieldValue(recipient, piece.field)));
    if (!encoded.length) continue;
    if (!first) into.push(SOFT_BREAK);
    into.push(encoded);
    first = false;
  }
}

const prepared = new WeakMap<EmailDraft, { text: EncodedPart; html: EncodedPart }>();

/** The two parts of one reader's message, each with its own headers, encoded, as pieces of bytes in order. */
export function encodedParts(draft: EmailDraft, recipient: Recipient): { text: Buffer[]; html: Buffer[] } {
  let parts = prepared.get(draft);
  if (!parts) prepared.set(draft, (parts = { text: encodePart(draft.text, 'text/plain', (value) => value), html: encodePart(draft.html, 'text/html', escapeHtml) }));
  const text: Buffer[] = [];
  const html: Buffer[] = [];
  personal(parts.text, recipient, text);
  personal(parts.html, recipient, html);
  return { text, html };
}
