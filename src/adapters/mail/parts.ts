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
  head: string;
  /** Encoded stretches of the draft, and the names of the fields between them. */
  pieces: (string | { field: Field })[];
  escape: (value: string) => string;
}

// 75, not 76: a stretch's last line gets the soft break's "=" after it, and 76 is the limit.
const LINE = 75;

function encodePart(text: string, type: 'text/plain' | 'text/html', escape: (value: string) => string): EncodedPart {
  const crlf = text.replace(/\r?\n/g, '\r\n');
  return {
    head: `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`,
    pieces: draftSegments(crlf).map((piece) => (typeof piece === 'string' ? wrap(encode(piece), LINE) : piece)),
    escape,
  };
}

function personal(part: EncodedPart, recipient: Recipient): string {
  let out = part.head;
  let first = true;
  for (const piece of part.pieces) {
    const encoded = typeof piece === 'string' ? piece : wrap(encode(part.escape(fieldValue(recipient, piece.field))), LINE);
    if (!encoded) continue;
    out += first ? encoded : `=\r\n${encoded}`;
    first = false;
  }
  return out;
}

const prepared = new WeakMap<EmailDraft, { text: EncodedPart; html: EncodedPart }>();

/** The two parts of one reader's message, each with its own headers, encoded. */
export function encodedParts(draft: EmailDraft, recipient: Recipient): { text: string; html: string } {
  let parts = prepared.get(draft);
  if (!parts) prepared.set(draft, (parts = { text: encodePart(draft.text, 'text/plain', (value) => value), html: encodePart(draft.html, 'text/html', escapeHtml) }));
  return { text: personal(parts.text, recipient), html: personal(parts.html, recipient) };
}
