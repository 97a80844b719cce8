// What mail providers POST to herald's webhooks, checked for authenticity and turned into
// Feedback: Amazon SES through SNS (signed by AWS), Postmark, and herald's own generic webhook
// (signed with a shared secret). Only parsing and checking happens here; the core decides what a
// bounce or complaint changes (feedback in newsletter).

import { createHmac, createVerify, timingSafeEqual, X509Certificate } from 'node:crypto';
import { bareMessageId } from '../newsletter/email/message.js';
import type { Feedback } from '../newsletter/feedback.js';

/** The call is not authentic or not understood; the server answers 400 and logs the message. */
export class WebhookRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRefused';
  }
}

// ---- Amazon SNS ----

export type SnsType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  type: SnsType;
  message: string;
  /** For a SubscriptionConfirmation: GET it to confirm. Already checked to be https on an SNS host. */
  subscribeUrl?: string;
  topicArn: string;
}

export interface SnsOptions {
  /** GETs the signing certificate (PEM); only ever called with an https URL on an SNS host. */
  fetchCertificate: (url: string) => Promise<string>;
  now?: () => Date;
}

// The fields each type signs, in the order AWS concatenates them ("Verifying the signatures of
// Amazon SNS messages"); an optional one (Subject) is left out when absent.
const SIGNED_FIELDS: Record<SnsType, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};
const ALGORITHMS = new Map([
  ['1', 'RSA-SHA1'],
  ['2', 'RSA-SHA256'],
]);
// A region's name (us-east-1, us-gov-west-1, cn-north-1), not any word: sns.s3.amazonaws.com
// would be an S3 bucket named "sns", which anyone could own.
const SNS_HOST = /^sns\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?$/;
// SNS retries an HTTP/S delivery for an hour at most (a hard limit of delivery policies), so an
// older message is a replay.
const MAX_AGE_MS = 60 * 60 * 1000;
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * The SNS message in `body` (the parsed JSON, or the text: SNS posts it as text/plain), once its
 * signature is checked against AWS's certificate. Everything that needs no network (fields,
 * certificate URL, age) is checked before the certificate is fetched, so a forged call costs
 * nothing and cannot make herald fetch from a host of the caller's choosing.
 */
export async function verifySnsMessage(body: unknown, { fetchCertificate, now = () => new Date() }: SnsOptions): Promise<SnsMessage> {
  const fields = record(typeof body === 'string' ? parseJson(body, 'SNS message') : body, 'SNS message');
  const type = fields.Type;
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation') {
    throw new WebhookRefused(`not an SNS message: Type is ${JSON.stringify(type)}`);
  }
  const algorithm = ALGORITHMS.get(requiredText(fields, 'SignatureVersion', 'SNS message'));
  if (!algorithm) throw new WebhookRefused(`SNS SignatureVersion ${JSON.stringify(fields.SignatureVersion)} is not supported (only 1 and 2)`);
  const certificateUrl = requiredText(fields, 'SigningCertURL', 'SNS message');
  if (!isSnsUrl(certificateUrl, '.pem')) throw new WebhookRefused(`SNS SigningCertURL ${certificateUrl} is not an https .pem on an SNS host`);
  const subscribeUrl = type === 'Notification' ? undefined : requiredText(fields, 'SubscribeURL', 'SNS message');
  if (subscribeUrl !== undefined && !isSnsUrl(subscribeUrl)) throw new WebhookRefused(`SNS SubscribeURL ${subscribeUrl} is not https on an SNS host`);
  const moment = now().getTime();
  checkFresh(requiredText(fields, 'Timestamp', 'SNS message'), moment);

  const signed = stringToSign(fields, SIGNED_FIELDS[type]);
  const signature = requiredText(fields, 'Signature', 'SNS message');

  const certificate = await signingCertificate(certificateUrl, fetchCertificate);
  if (!(Date.parse(certificate.validFrom) <= moment && moment <= Date.parse(certificate.validTo))) {
    throw new WebhookRefused(`SNS signing certificate ${certificateUrl} is not valid now (${certificate.validFrom} to ${certificate.validTo})`);
  }
  if (!signatureMatches(algorithm, signed, certificate, signature)) throw new WebhookRefused(`SNS message ${String(fields.MessageId)}: the signature does not match`);
  return {
    type,
    message: requiredText(fields, 'Message', 'SNS message'),
    ...(subscribeUrl !== undefined ? { subscribeUrl } : {}),
    topicArn: requiredText(fields, 'TopicArn', 'SNS message'),
  };
}

/** Each field as "Key\nvalue\n"; every one but Subject must be there. */
function stringToSign(fields: Record<string, unknown>, keys: readonly string[]): string {
  return keys
    .filter((key) => key !== 'Subject' || text(fields, 'Subject') !== undefined)
    .map((key) => `${key}\n${requiredText(fields, key, 'SNS message')}\n`)
    .join('');
}

function signatureMatches(algorithm: string, signed: string, certificate: X509Certificate, signature: string): boolean {
  try {
    return createVerify(algorithm).update(signed, 'utf8').verify(certificate.publicKey, signature, 'base64');
  } catch {
    // A key of a kind the algorithm cannot use: no match either.
    return false;
  }
}

function isSnsUrl(value: string, extension = ''): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.port === '' && SNS_HOST.test(url.hostname) && url.pathname.endsWith(extension);
}

function checkFresh(timestamp: string, now: number): void {
  const age = now - Date.parse(timestamp);
  if (Number.isNaN(age)) throw new WebhookRefused(`SNS Timestamp ${JSON.stringify(timestamp)} is not a date`);
  if (age > MAX_AGE_MS) throw new WebhookRefused(`SNS message from ${timestamp} is more than an hour old (a replay?)`);
  if (age < -MAX_CLOCK_SKEW_MS) throw new WebhookRefused(`SNS message from ${timestamp} is more than 5 minutes in the future`);
}

// A few certificates by URL: AWS signs with one per region at a time, so a burst of notifications
// fetches it once. Promises are kept, so concurrent messages share one fetch; a failed fetch is
// forgotten, to be tried again with the next message.
const CERTIFICATE_CACHE_SIZE = 20;
const certificates = new Map<string, Promise<X509Certificate>>();

function signingCertificate(url: string, fetchCertificate: SnsOptions['fetchCertificate']): Promise<X509Certificate> {
  const cached = certificates.get(url);
  if (cached) return cached;
  // Started in a then(), so a fetcher that throws at once is handled like one that rejects.
  const loading = Promise.resolve()
    .then(() => fetchCertificate(url))
    .then(
      (pem) => parseCertificate(pem, url),
      (error: unknown) => {
        throw new WebhookRefused(`could not fetch the SNS signing certificate ${url}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  certificates.set(url, loading);
  if (certificates.size > CERTIFICATE_CACHE_SIZE) certificates.delete(certificates.keys().next().value!);
  loading.catch(() => {
    if (certificates.get(url) === loading) certificates.delete(url);
  });
  return loading;
}

function parseCertificate(pem: string, url: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new WebhookRefused(`SNS signing certificate ${url} is not a PEM certificate`);
  }
}

// ---- Amazon SES (the Message of an SNS notification) ----

/**
 * Feedback in an SES notification (`notificationType`) or published event (`eventType`): one per
 * recipient of a Bounce, Complaint or Delivery; nothing for other types (Send, Open, Reject, ...).
 */
export function sesFeedback(message: string): Feedback[] {
  const event = record(parseJson(message, 'SES notification'), 'SES notification');
  const type = event.notificationType ?? event.eventType;
  if (typeof type !== 'string') throw new WebhookRefused('not an SES notification: no notificationType or eventType');
  if (type !== 'Bounce' && type !== 'Complaint' && type !== 'Delivery') return [];

  const mail = record(event.mail, 'SES mail');
  const providerId = requiredText(mail, 'messageId', 'SES mail');
  // The Message-ID header as sent, unless it is only SES' own id (as when herald set none).
  const header = text(isRecord(mail.commonHeaders) ? mail.commonHeaders : {}, 'messageId');
  const messageId = header === undefined ? undefined : bareMessageId(header);
  const about = { providerId, ...(messageId !== undefined && messageId !== providerId ? { messageId } : {}), source: 'ses' };

  if (type === 'Bounce') {
    const bounce = record(event.bounce, 'SES bounce');
    const bounceType = requiredText(bounce, 'bounceType', 'SES bounce');
    const at = atTime(text(bounce, 'timestamp'));
    return records(bounce, 'bouncedRecipients', 'SES bounce').map((recipient) => ({
      kind: 'bounce',
      // Undetermined: SES could not tell from the report; not reason enough to drop an address.
      permanent: bounceType === 'Permanent',
      recipient: requiredText(recipient, 'emailAddress', 'SES bounced recipient'),
      ...at,
      reason: text(recipient, 'diagnosticCode') ?? text(recipient, 'status') ?? `${bounceType} bounce (${text(bounce, 'bounceSubType') ?? 'no detail'})`,
      ...about,
    }));
  }
  if (type === 'Complaint') {
    const complaint = record(event.complaint, 'SES complaint');
    const at = atTime(text(complaint, 'timestamp'));
    const reason = text(complaint, 'complaintFeedbackType') ?? 'complaint';
    return records(complaint, 'complainedRecipients', 'SES complaint').map((recipient) => ({
      kind: 'complaint',
      permanent: false,
      recipient: requiredText(recipient, 'emailAddress', 'SES complained recipient'),
      ...at,
      reason,
      ...about,
    }));
  }
  const delivery = record(event.delivery, 'SES delivery');
  const at = atTime(text(delivery, 'timestamp'));
  const reason = text(delivery, 'smtpResponse') ?? 'delivered';
  return texts(delivery, 'recipients', 'SES delivery').map((recipient) => ({ kind: 'delivery', permanent: false, recipient, ...at, reason, ...about }));
}

// ---- Postmark ----

type Verdict = Pick<Feedback, 'kind' | 'permanent'>;
const HARD: Verdict = { kind: 'bounce', permanent: true };
const SOFT: Verdict = { kind: 'bounce', permanent: false };
const COMPLAINT: Verdict = { kind: 'complaint', permanent: false };

// Postmark's bounce types (Bounce API, "Bounce types") by what they say about the mailbox. Hard
// only where the address itself is bad; soft where the message did not get through this time or
// was filtered (SpamNotification: "delivered, but blocked by the user or classified as spam",
// which is not the reader's complaint; Postmark does not deactivate the address for it). Types
// that are not about delivery to the reader are left out, so give nothing: Subscribe,
// Unsubscribe, AddressChange, OpenRelayTest, VirusNotification, ChallengeVerification,
// ManuallyDeactivated, Unconfirmed, SMTPApiError, InboundError, TemplateRenderingFailed.
const POSTMARK_BOUNCE_TYPES = new Map<string, Verdict>([
  ['HardBounce', HARD],
  ['BadEmailAddress', HARD],
  ['SoftBounce', SOFT],
  ['Transient', SOFT],
  ['DnsError', SOFT],
  ['AutoResponder', SOFT],
  ['Blocked', SOFT],
  ['DMARCPolicy', SOFT],
  ['SpamNotification', SOFT],
  ['Unknown', SOFT],
  ['SpamComplaint', COMPLAINT],
]);

// What a broadcast stream sends instead of Bounce and SpamComplaint records (Postmark has those
// for transactional streams only): the address was put on the stream's suppression list.
// ManualSuppression (the reader unsubscribed through Postmark, or the account or Postmark
// suppressed the address) is neither a bounce nor a complaint.
const POSTMARK_SUPPRESSIONS = new Map<string, Verdict>([
  ['HardBounce', HARD],
  ['SpamComplaint', COMPLAINT],
]);

/** Feedback in one Postmark webhook call; nothing for records that are none (Open, Click, ...). */
export function postmarkFeedback(body: unknown): Feedback[] {
  const event = record(body, 'Postmark webhook');
  const recordType = requiredText(event, 'RecordType', 'Postmark webhook');
  const providerId = text(event, 'MessageID');
  const about = { ...(providerId !== undefined ? { providerId } : {}), source: 'postmark' };

  switch (recordType) {
    case 'Bounce':
    case 'SpamComplaint': {
      const type = requiredText(event, 'Type', `Postmark ${recordType}`);
      const verdict = POSTMARK_BOUNCE_TYPES.get(type);
      if (!verdict) return [];
      return [{
        ...verdict,
        recipient: requiredText(event, 'Email', `Postmark ${recordType}`),
        ...atTime(text(event, 'BouncedAt')),
        reason: text(event, 'Details') ?? text(event, 'Description') ?? type,
        ...about,
      }];
    }
    case 'Delivery':
      return [{
        kind: 'delivery',
        permanent: false,
        recipient: requiredText(event, 'Recipient', 'Postmark Delivery'),
        ...atTime(text(event, 'DeliveredAt')),
        reason: text(event, 'Details') ?? 'delivered',
        ...about,
      }];
    case 'SubscriptionChange': {
      const reason = event.SuppressSending === true ? text(event, 'SuppressionReason') : undefined;
      const verdict = reason && POSTMARK_SUPPRESSIONS.get(reason);
      if (!verdict) return [];
      return [{ ...verdict, recipient: requiredText(event, 'Recipient', 'Postmark SubscriptionChange'), ...atTime(text(event, 'ChangedAt')), reason: `suppressed by Postmark: ${reason}`, ...about }];
    }
    default:
      return [];
  }
}

// ---- herald's generic webhook ----

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * The events of a POST to /webhooks/bounce, signed in X-Herald-Signature: "sha256=" and the hex
 * HMAC-SHA256 of the raw body with the shared secret. The body is `{ "events": [...] }` or a
 * single event.
 */
export function genericFeedback(raw: Buffer, signatureHeader: string | undefined, secret: string): Feedback[] {
  // An empty key is a signature anyone can make.
  if (!secret) throw new WebhookRefused('the generic webhook has no secret configured, so no call can be trusted');
  const given = SIGNATURE.exec(signatureHeader?.trim() ?? '');
  if (!given) throw new WebhookRefused('X-Herald-Signature is missing or not "sha256=" and 64 hex digits');
  const expected = createHmac('sha256', secret).update(raw).digest();
  if (!timingSafeEqual(Buffer.from(given[1], 'hex'), expected)) throw new WebhookRefused('X-Herald-Signature does not match the body (wrong secret, or the body was changed)');

  const body = parseJson(raw.toString('utf8'), 'webhook body');
  const events = isRecord(body) && 'events' in body ? body.events : [body];
  if (!Array.isArray(events)) throw new WebhookRefused('webhook body: "events" is not a list');
  return events.map((value, index) => genericEvent(record(value, `webhook event ${index}`), `webhook event ${index}`));
}

function genericEvent(event: Record<string, unknown>, where: string): Feedback {
  const { type: kind, permanent = false } = event;
  if (kind !== 'bounce' && kind !== 'complaint' && kind !== 'delivery') throw new WebhookRefused(`${where}: type ${JSON.stringify(kind)} is not bounce, complaint or delivery`);
  if (typeof permanent !== 'boolean') throw new WebhookRefused(`${where}: permanent is not true or false`);
  const providerId = optionalText(event, 'providerId', where);
  const messageId = optionalText(event, 'messageId', where);
  return {
    kind,
    permanent,
    recipient: requiredText(event, 'recipient', where),
    ...(providerId !== undefined ? { providerId } : {}),
    ...(messageId !== undefined ? { messageId: bareMessageId(messageId) } : {}),
    ...atTime(optionalText(event, 'at', where)),
    reason: optionalText(event, 'reason', where) ?? kind,
    source: 'webhook',
  };
}

// ---- reading JSON that anyone may have written ----

/** JSON from anyone: a refusal (400) naming `what` when it is not. */
export function parseJson(source: string, what: string): unknown {
  try {
    return JSON.parse(source);
  } catch {
    throw new WebhookRefused(`${what} is not JSON`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new WebhookRefused(`${what} is not a JSON object`);
  return value;
}

/** A non-empty string field, else undefined: providers send "" and null for "none". */
function text(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function requiredText(fields: Record<string, unknown>, key: string, what: string): string {
  const value = text(fields, key);
  if (value === undefined) throw new WebhookRefused(`${what}: ${key} is missing`);
  return value;
}

/** Absent is fine; anything but a string is a mistake worth saying. */
function optionalText(fields: Record<string, unknown>, key: string, what: string): string | undefined {
  if (fields[key] !== undefined && typeof fields[key] !== 'string') throw new WebhookRefused(`${what}: ${key} is not a string`);
  return text(fields, key);
}

function records(fields: Record<string, unknown>, key: string, what: string): Record<string, unknown>[] {
  const list = fields[key];
  if (!Array.isArray(list) || list.length === 0) throw new WebhookRefused(`${what}: ${key} is missing or empty`);
  return list.map((item) => record(item, `${what}: an entry of ${key}`));
}

function texts(fields: Record<string, unknown>, key: string, what: string): string[] {
  const list = fields[key];
  if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) {
    throw new WebhookRefused(`${what}: ${key} is not a list of addresses`);
  }
  return list;
}

/** The time as the report gives it (ISO 8601 from every provider here); applyFeedback reads it. */
function atTime(value: string | undefined): { at?: string } {
  return value === undefined ? {} : { at: value };
}
