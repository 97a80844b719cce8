// What `herald inbound` reads on standard input: one message, as an MTA pipe or a mailbox rule
// delivers it to the bounce address. A delivery status notification (RFC 3464, or RFC 6533's
// global one), a complaint in the Abuse Reporting Format (RFC 5965) and the plain-text bounces of
// qmail, older Exim and GMX become Feedback; anything else (an out-of-office reply, spam) is 'other'.
// Anyone can mail that address anything, so this never throws: what it cannot read is 'other'.
//
// The MIME structure is read here, not with mailparser: mailparser turns an inline message/rfc822
// part (how Yahoo and AOL attach the reported message) into body text, and the Message-ID that
// matches a complaint to its message is lost with its headers. A report needs only its parts'
// headers and text, which takes little reading.

import type { Feedback } from '../newsletter/feedback.js';

export interface InboundReport {
  /**
   * What the message is. A DSN about delays only, or a feedback report that is not a complaint,
   * gives no feedback. 'unsubscribe': a reader's (or their mail provider's) answer to the mailto:
   * List-Unsubscribe, a message with the subject "unsubscribe" to the VERP address.
   */
  kind: 'dsn' | 'arf' | 'unsubscribe' | 'other';
  feedback: Feedback[];
  /** The tokens of the VERP addresses (bounces+<token>@domain) the message names, each once. */
  returnPathTokens: string[];
}

/** Header fields in order: lower-cased names, unfolded values with runs of white space made one space. */
type Fields = [name: string, value: string][];

/** A message or body part. Its body is still encoded, one character per byte (latin1), LF line ends. */
interface Part {
  fields: Fields;
  body: string;
}

interface Reading {
  kind: InboundReport['kind'];
  feedback: Feedback[];
  /** Field values besides the message's own headers that can hold the VERP address (an ARF report's Original-Mail-From). */
  returnPaths: string[];
}

/**
 * What one message reports. The caller may cut a huge message short (herald inbound reads 10 MB):
 * everything read here comes before the quoted original, the last part, and a part that was cut
 * is left out.
 */
export async function parseInbound(raw: Buffer): Promise<InboundReport> {
  // latin1 keeps one character per byte, so the structure is found before anything is decoded.
  const message = parsePart(raw.toString('latin1').replace(/\r\n?/g, '\n'));
  // An auto-reply is 'other' for being neither: its Auto-Submitted: auto-replied cannot tell, as
  // Postfix, Exim, Gmail and Exchange put the same header on their bounces.
  const reading: Reading = readReport(message) ?? readPlainBounce(message) ?? readUnsubscribe(message) ?? { kind: 'other', feedback: [], returnPaths: [] };
  const addresses = [...DELIVERY_HEADERS.flatMap((name) => values(message.fields, name)), ...reading.returnPaths];
  const returnPathTokens = [...new Set(addresses.flatMap(tokensIn))];
  // With two different tokens the message cannot say which one it is about.
  const feedback = returnPathTokens.length === 1 ? reading.feedback.map((item) => ({ ...item, returnPathToken: returnPathTokens[0] })) : reading.feedback;
  return { kind: reading.kind, feedback, returnPathTokens };
}

// ---- The mailto: List-Unsubscribe: mailto:bounces+<token>@domain?subject=unsubscribe ----

/** A message whose subject is "unsubscribe": the token of the address it was sent to names the message, and so the reader. */
function readUnsubscribe(message: Part): Reading | undefined {
  const subject = decodeWords(values(message.fields, 'subject')[0] ?? '');
  if (!/^\s*unsubscribe\s*$/i.test(subject)) return undefined;
  return { kind: 'unsubscribe', feedback: [{ kind: 'unsubscribe', permanent: false, reason: 'unsubscribed by email (List-Unsubscribe mailto:)', source: 'mailto' }], returnPaths: [] };
}

/** RFC 2047 encoded words (=?UTF-8?B?dW5zdWJzY3JpYmU=?=) as text; anything undecodable is left as it was. */
function decodeWords(value: string): string {
  return value.replace(/=\?([\w-]+)\?([BbQq])\?([^?]*)\?=/g, (word, charset: string, encoding: string, text: string) => {
    try {
      const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      return new TextDecoder(charset).decode(bytes);
    } catch {
      return word;
    }
  });
}

// ---- Reports: multipart/report with a delivery-status or feedback-report part ----

const STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const FEEDBACK_REPORT_TYPE = 'message/feedback-report';
const ORIGINAL_TYPES = new Set(['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers']);

/** A DSN or ARF report, known by its machine-readable part rather than report-type, which some senders get wrong. */
function readReport(message: Part): Reading | undefined {
  if (!mediaType(message.fields).startsWith('multipart/')) return undefined;
  const parts = childParts(message);
  const status = parts.find((part) => STATUS_TYPES.has(mediaType(part.fields)));
  if (status) return { kind: 'dsn', feedback: readDeliveryStatus(message, status, parts), returnPaths: [] };
  const report = parts.find((part) => mediaType(part.fields) === FEEDBACK_REPORT_TYPE);
  if (report) return readFeedbackReport(message, report, parts);
  return undefined;
}

/** A bounce for each recipient the DSN says failed; none for the rest. */
function readDeliveryStatus(message: Part, status: Part, parts: Part[]): Feedback[] {
  const messageId = messageIdOf(originalFields(parts));
  const date = field(message.fields, 'date');
  // The first block describes the message; each block with an Action is one recipient.
  const recipients = decodedText(status)
    .split(/\n[ \t]*\n/)
    .map(parseFields)
    .filter((fields) => field(fields, 'action') !== undefined);
  return recipients.flatMap((fields) => {
    // Only failed is a bounce. A delay is not: the MTA keeps trying and reports failed if it gives
    // up. delivered, relayed and expanded say no more than the 250 herald's send already recorded.
    if (field(fields, 'action')?.split(' ')[0].toLowerCase() !== 'failed') return [];
    const statusCode = /^[245]\.\d{1,3}\.\d{1,3}/.exec(field(fields, 'status') ?? '')?.[0];
    const diagnostic = field(fields, 'diagnostic-code')?.replace(/^[a-z][\w.-]*\s*;\s*/i, '') || undefined;
    return [
      defined({
        kind: 'bounce',
        // Status is required; without it, the SMTP reply in the diagnostic decides.
        permanent: statusCode ? statusCode.startsWith('5') : PERMANENT_CODE.test(diagnostic ?? ''),
        messageId,
        // Original-Recipient is the address as herald sent it; Final-Recipient may be what an
        // alias or forward made of it, or no address at all (Exim names a file it could not write).
        recipient: dsnAddress(field(fields, 'original-recipient')) ?? dsnAddress(field(fields, 'final-recipient')),
        at: isoDate(field(fields, 'last-attempt-date')) ?? isoDate(date),
        // "550 5.1.1 ..." already has the status in it; a bare diagnostic or status is given whole.
        reason: statusCode && diagnostic && !diagnostic.includes(statusCode) ? `${statusCode} ${diagnostic}` : (diagnostic ?? statusCode ?? 'failed'),
        source: 'dsn',
      }),
    ];
  });
}

// The reader marked the message as spam or as a scam. Other feedback types are not the reader's
// word: auth-failure is a DMARC failure report, virus a scanner's, not-spam the opposite.
const COMPLAINT_TYPES = new Set(['abuse', 'fraud']);

function readFeedbackReport(message: Part, report: Part, parts: Part[]): Reading {
  const fields = parseFields(decodedText(report));
  const feedbackType = field(fields, 'feedback-type')?.toLowerCase() ?? '';
  const original = originalFields(parts);
  const returnPaths = values(fields, 'original-mail-from');
  if (!COMPLAINT_TYPES.has(feedbackType)) return { kind: 'arf', feedback: [], returnPaths };
  const complaint = defined({
    kind: 'complaint',
    permanent: false,
    messageId: messageIdOf(original),
    recipient: reportedAddress(field(fields, 'original-rcpt-to')) ?? reportedAddress(original && field(original, 'to')),
    // The report's date is when the reader complained; Arrival-Date is when the message arrived.
    at: isoDate(field(message.fields, 'date')) ?? isoDate(field(fields, 'arrival-date')),
    reason: feedbackType,
    source: 'arf',
  });
  return { kind: 'arf', feedback: [complaint], returnPaths };
}

/** The headers of the message the report is about, from the part that quotes it whole or its headers only. */
function originalFields(parts: Part[]): Fields | undefined {
  const original = parts.find((part) => ORIGINAL_TYPES.has(mediaType(part.fields)));
  return original && parsePart(decodedText(original)).fields;
}

// Not a pipe, a file or a placeholder: Exim names "|/usr/bin/procmail ... ann@example.org".
const ADDRESS = /^[^\s@]+@[^\s@]+$/;

/** "rfc822; ann@example.org" (or "utf-8; ..." in a global DSN) as ann@example.org, if it is an address. */
function dsnAddress(value: string | undefined): string | undefined {
  const address = value?.slice(value.indexOf(';') + 1).trim().replace(/^<(.*)>$/, '$1');
  return address && ADDRESS.test(address) ? address : undefined;
}

/**
 * The recipient a complaint names, unless redacted: providers that hide it write a placeholder
 * ("redacted", "redacted@example.net"), which would not match the message's recipient and so
 * lose a complaint the Message-ID alone would have matched.
 */
function reportedAddress(value: string | undefined): string | undefined {
  const address = (/<([^<>]*)>/.exec(value ?? '')?.[1] ?? value)?.trim();
  return address && ADDRESS.test(address) && !/redacted/i.test(address) ? address : undefined;
}

// ---- Plain-text bounces: qmail, Exim before it sent DSNs, and GMX ----

interface PlainBounceFormat {
  intro: RegExp;
  /** A line that starts a recipient's entry; the lines after it, up to the next, say why. */
  recipient: RegExp;
}

const PLAIN_BOUNCE_FORMATS: PlainBounceFormat[] = [
  // Hi. This is the qmail-send program at ... / <ann@example.org>: / what went wrong
  { intro: /^Hi\. This is the qmail-send program/m, recipient: /^<([^<>\s@]+@[^<>\s]+)>:(.*)$/ },
  // A message that you sent could not be delivered ... / the address alone on its line / why.
  // Exim indents the address by two; GMX, web.de and 1&1, in Exim's words, may quote it or put
  // it in <>. Exim's delay warning ("has not yet been delivered") does not match.
  { intro: /^A message that you sent could not be delivered to /m, recipient: /^ {0,2}["<]?([^\s"<>@]+@[^\s"<>:]+)[">]?:?\s*$/ },
];

// Where the bounce quotes the original message, whose headers follow.
const QUOTED_ORIGINAL =
  /^-{3,} ?(?:Below this line is a copy of the message|Enclosed are the original headers of the message|This is a copy of the message, including all the headers|The header of the original message is following)\b.*\n+/m;

// An SMTP reply code 5xx ("550 ", "550-") or an enhanced status 5.x.x (qmail's "#5.1.1").
const PERMANENT_CODE = /(?:^|\s)5\d\d(?:[\s-]|$)|(?:^|[\s#(])5\.\d{1,3}\.\d{1,3}\b/;

/** A bounce per address in a plain-text bounce: permanent only with a 5xx code, since the text says "permanent" even of a timeout. */
function readPlainBounce(message: Part): Reading | undefined {
  if (mediaType(message.fields) !== 'text/plain') return undefined;
  const text = decodedText(message);
  const format = PLAIN_BOUNCE_FORMATS.find(({ intro }) => intro.test(text));
  if (!format) return undefined;
  const introAt = text.search(format.intro);
  // The recipients are listed up to a "---" line, so they are whole only once that line arrived.
  const sectionEnd = text.slice(introAt).search(/^---/m);
  if (sectionEnd === -1) return undefined;
  const section = text.slice(introAt, introAt + sectionEnd);
  const quoted = QUOTED_ORIGINAL.exec(text);
  const messageId = quoted ? messageIdOf(parsePart(text.slice(quoted.index + quoted[0].length)).fields) : undefined;
  const at = isoDate(field(message.fields, 'date'));
  const entries: { recipient: string; lines: string[] }[] = [];
  for (const line of section.split('\n')) {
    const start = format.recipient.exec(line);
    // qmail may go on after the address's colon; Exim's pattern has nothing after the address.
    if (start) entries.push({ recipient: start[1], lines: [start[2] ?? ''] });
    else entries.at(-1)?.lines.push(line);
  }
  const feedback = entries.map(({ recipient, lines }) => {
    const reason = lines.join(' ').replace(/\s+/g, ' ').trim() || 'failed';
    return defined({ kind: 'bounce', permanent: PERMANENT_CODE.test(reason), messageId, recipient, at, reason, source: 'dsn' });
  });
  return { kind: 'dsn', feedback, returnPaths: [] };
}

// ---- Return paths ----

// Where an MTA writes the address a message was delivered to: the envelope recipient, which for
// a bounce or an auto-reply is the return path herald sent with.
const DELIVERY_HEADERS = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'original-recipient', 'to'];

// A local part with a tag after a +: bounces+<token>@example.com. It must start where a word
// does, or a long run of letters without a + would be scanned again from each of them.
const TAGGED_ADDRESS = /(?<![^\s<>(),;:"'])[^\s<>(),;:"'@+]+\+([A-Za-z0-9._-]+)@/g;

function tokensIn(value: string): string[] {
  return [...value.matchAll(TAGGED_ADDRESS)].map((match) => match[1]);
}

// ---- MIME, as little as a report needs ----

function parsePart(text: string): Part {
  const end = text.startsWith('\n') ? 0 : text.indexOf('\n\n');
  if (end === -1) return { fields: parseFields(text), body: '' };
  return { fields: parseFields(text.slice(0, end)), body: text.slice(end === 0 ? 1 : end + 2) };
}

/** Header fields, unfolded; lines that are not fields (an mbox "From " line, junk) are skipped. */
function parseFields(head: string): Fields {
  const fields: Fields = [];
  for (const line of head.split('\n')) {
    const last = fields.at(-1);
    if (/^[ \t]/.test(line)) {
      if (last) last[1] += ` ${line}`;
      continue;
    }
    const match = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    if (match) fields.push([match[1].toLowerCase(), match[2]]);
  }
  return fields.map(([name, value]) => [name, value.replace(/\s+/g, ' ').trim()]);
}

function field(fields: Fields, name: string): string | undefined {
  return fields.find(([key]) => key === name)?.[1];
}

function values(fields: Fields, name: string): string[] {
  return fields.filter(([key]) => key === name).map(([, value]) => value);
}

/** A Content-Type's type and subtype, lower-cased; text/plain when there is none. */
function mediaType(fields: Fields): string {
  return (field(fields, 'content-type') ?? 'text/plain').split(';')[0].trim().toLowerCase();
}

/** A multipart's boundary. Split at ";" and "=" as they come: RFC 2046 allows no ";" in a boundary. */
function boundaryOf(fields: Fields): string | undefined {
  for (const parameter of (field(fields, 'content-type') ?? '').split(';').slice(1)) {
    const [name, ...value] = parameter.split('=');
    if (name.trim().toLowerCase() === 'boundary') return value.join('=').trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/**
 * The parts of a multipart body. A part counts once the delimiter after it shows it is whole: of
 * a message cut short, the part that was cut is left out rather than read for what it never said.
 */
function childParts(part: Part): Part[] {
  const boundary = boundaryOf(part.fields);
  if (!boundary) return [];
  const delimiter = `--${boundary}`;
  const bodies: string[][] = [];
  let current: string[] | undefined;
  for (const line of part.body.split('\n')) {
    const after = line.startsWith(delimiter) ? line.slice(delimiter.length).trimEnd() : undefined;
    if (after !== '' && after !== '--') {
      current?.push(line);
      continue;
    }
    if (current) bodies.push(current);
    if (after === '--') break;
    current = [];
  }
  return bodies.map((lines) => parsePart(lines.join('\n')));
}

/**
 * A part's body without its transfer encoding, read as UTF-8: report fields are ASCII, or UTF-8
 * in a global DSN, and what herald takes from a bounce's text (addresses, SMTP replies) is ASCII.
 */
function decodedText(part: Part): string {
  const encoding = field(part.fields, 'content-transfer-encoding')?.toLowerCase();
  const body = encoding === 'quoted-printable' ? part.body.replace(/=[ \t]*\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : part.body;
  return Buffer.from(body, encoding === 'base64' ? 'base64' : 'latin1')
    .toString('utf8')
    .replace(/\r\n?/g, '\n');
}

/**
 * The Message-ID in headers, without its angle brackets: how herald keeps and looks it up. One
 * that is not whole (cut short with the message) is none, so it cannot match another message.
 */
function messageIdOf(fields: Fields | undefined): string | undefined {
  const value = (fields && field(fields, 'message-id')) ?? '';
  const id = /<([^<>\s]+)>/.exec(value)?.[1] ?? value;
  return /^[^<>\s@]+@[^<>\s@]+$/.test(id) ? id : undefined;
}

/** An RFC 5322 date as ISO 8601; anything else (Date() would read "5" as 2001) is no date. */
function isoDate(value: string | undefined): string | undefined {
  if (!value || !/\d{1,2} [A-Za-z]{3} \d{4} \d{1,2}:\d{2}/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Feedback without the fields a report left out, so no key holds undefined. */
function defined(feedback: Feedback): Feedback {
  return Object.fromEntries(Object.entries(feedback).filter(([, value]) => value !== undefined)) as unknown as Feedback;
}
