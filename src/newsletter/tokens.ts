import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import { addressKey } from './subscriber.js';

/** A signing key shorter than this is refused: anyone could guess it and forge links. */
export const MIN_SECRET_LENGTH = 32;

export function checkSecret(secret: string, source: { file?: string; field?: string }): string {
  if (secret.trim().length >= MIN_SECRET_LENGTH) return secret;
  throw new HeraldError({
    code: 'E_SECRET',
    ...source,
    message: secret.trim().length ? `the signing secret is too short (${secret.trim().length} characters; at least ${MIN_SECRET_LENGTH})` : 'the signing secret is empty',
    hint: source.file
      ? 'delete the file and herald makes a new one (links already mailed stop working), or restore it from a backup'
      : 'set it to a long random value, such as the output of: openssl rand -base64 32',
  });
}

function signature(purpose: string, payload: string, secret: string): Buffer {
  // Lower-cased as the first tokens were, so links already in readers' inboxes keep working.
  return createHmac('sha256', secret).update(`${purpose}\0${payload.trim().toLowerCase()}`).digest();
}

/** `<payload, base64url>.<HMAC, base64url>`: only someone holding the secret can make one. */
export function signToken(purpose: string, payload: string, secret: string): string {
  return `${Buffer.from(payload).toString('base64url')}.${signature(purpose, payload, secret).toString('base64url')}`;
}

const TOKEN = /^([A-Za-z0-9_-]{2,2048})\.([A-Za-z0-9_-]{43})$/;

/**
 * A token from a query string or form body, taken as it was sent: herald's tokens need no
 * escaping, so one that arrives percent-encoded or with a "+" was re-encoded by someone else.
 */
export function rawToken(encoded: string, name = 'token'): string {
  for (const part of encoded.replace(/^\?/, '').split('&')) {
    const [key, value = ''] = part.split('=', 2) as [string, string?];
    if (key === name) return /^[A-Za-z0-9_.-]*$/.test(value) ? value : '';
  }
  return '';
}

/**
 * The payload of a token, or undefined for a forged or altered one. Strict: both parts must be
 * exactly as herald writes them, so nothing appended, re-encoded or re-cased gets through.
 */
export function verifyToken(purpose: string, token: string, secret: string): string | undefined {
  const match = TOKEN.exec(token);
  if (!match) return undefined;
  const [, encoded, mac] = match as unknown as [string, string, string];
  const bytes = Buffer.from(encoded, 'base64url');
  const given = Buffer.from(mac, 'base64url');
  if (bytes.toString('base64url') !== encoded || given.toString('base64url') !== mac) return undefined;
  const payload = bytes.toString('utf8');
  // Exactly the bytes herald signed: valid UTF-8, no spaces around it for the MAC's trim to hide.
  if (Buffer.from(payload).toString('base64url') !== encoded || payload !== payload.trim()) return undefined;
  const expected = signature(purpose, payload, secret);
  return given.length === expected.length && timingSafeEqual(given, expected) ? payload : undefined;
}

export const CONFIRM_DAYS = 7;
const DAY_MS = 86_400_000;

export function confirmToken(key: string, secret: string, now: Date): string {
  return signToken('confirm', `${key}\n${now.getTime() + CONFIRM_DAYS * DAY_MS}`, secret);
}

export type ConfirmVerdict = { key: string; issuedAt: Date } | 'invalid' | 'expired';

/** The address a confirmation token was made for, and when; `expired` once its seven days are over. */
export function verifyConfirmToken(token: string, secret: string, now: Date): ConfirmVerdict {
  const payload = verifyToken('confirm', token, secret);
  const [key, expires, extra] = payload?.split('\n') ?? [];
  // herald signs an address's key as it matches it; the same address re-cased was not made by herald.
  if (!key || !expires || extra !== undefined || !/^\d+$/.test(expires) || addressKey(key) !== key) return 'invalid';
  if (Number(expires) < now.getTime()) return 'expired';
  return { key, issuedAt: new Date(Number(expires) - CONFIRM_DAYS * DAY_MS) };
}

export function confirmUrl(config: Config, key: string, secret: string, now: Date): string {
  return `${config.web.url}confirm?token=${confirmToken(key, secret, now)}`;
}

/** Unsubscribe links never expire: a reader may use one from an email of years ago. */
export function unsubscribeUrl(config: Config, key: string, secret: string): string {
  return `${config.web.url}unsubscribe?token=${signToken('unsubscribe', key, secret)}`;
}

/**
 * The key of one of herald's webhooks ("postmark", "bounce"): made from the secret, so there is
 * nothing more to keep, and shown by `herald webhooks` for the provider's console.
 */
export function webhookKey(name: string, secret: string): string {
  return createHmac('sha256', secret).update(`webhook\0${name}`).digest('base64url').slice(0, 32);
}

/** Whether `given` is the key of webhook `name`, compared in constant time. */
export function isWebhookKey(name: string, given: string, secret: string): boolean {
  const expected = Buffer.from(webhookKey(name, secret));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
