import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { emailKey } from '../subscribers/model.js';

const SECRET_FILE = 'secret';

/**
 * The key that signs unsubscribe links: HERALD_SECRET, else one generated on first use into the
 * state folder (mode 0600). Created with O_EXCL, so two processes starting at once agree on it.
 */
export function loadSecret(config: Config, env: NodeJS.ProcessEnv): string {
  if (env.HERALD_SECRET) return env.HERALD_SECRET;
  const path = join(config.paths.state, SECRET_FILE);
  mkdirSync(config.paths.state, { recursive: true });
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32).toString('base64url'));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(path, 'utf8').trim();
}

function signature(purpose: string, email: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${purpose}\0${emailKey(email)}`).digest();
}

/** `<address, base64url>.<HMAC>`: only someone holding the secret can make one for an address. */
export function signToken(purpose: string, email: string, secret: string): string {
  return `${Buffer.from(email.trim()).toString('base64url')}.${signature(purpose, email, secret).toString('base64url')}`;
}

/** The address a token was made for, or undefined for a forged or altered token. */
export function verifyToken(purpose: string, token: string, secret: string): string | undefined {
  const [encoded, mac, extra] = token.split('.');
  if (!encoded || !mac || extra !== undefined) return undefined;
  const email = Buffer.from(encoded, 'base64url').toString('utf8');
  const expected = signature(purpose, email, secret);
  const given = Buffer.from(mac, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? email : undefined;
}

const CONFIRM_DAYS = 7;

/** A link that confirms a subscription, good for seven days. */
export function confirmUrl(config: Config, email: string, secret: string, now: Date): string {
  const expires = now.getTime() + CONFIRM_DAYS * 86_400_000;
  return `${config.site.url}confirm?token=${signToken('confirm', `${email}\n${expires}`, secret)}`;
}

/** The address a confirmation token was made for; `expired` once its seven days are over. */
export function verifyConfirmToken(token: string, secret: string, now: Date): { email: string } | 'invalid' | 'expired' {
  const payload = verifyToken('confirm', token, secret);
  const [email, expires] = payload?.split('\n') ?? [];
  if (!email || !expires) return 'invalid';
  return Number(expires) < now.getTime() ? 'expired' : { email };
}

export function unsubscribeUrl(config: Config, email: string, secret: string): string {
  return `${config.site.url}unsubscribe?token=${signToken('unsubscribe', email, secret)}`;
}
