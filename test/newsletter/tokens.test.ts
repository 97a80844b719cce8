import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSecret } from '../../src/adapters/secret.js';
import { parseConfig } from '../../src/config.js';
import { confirmToken, signToken, unsubscribeUrl, verifyConfirmToken, verifyToken } from '../../src/newsletter/tokens.js';
import { makeSite } from '../helpers.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

test('tokens are signed and parsed strictly: forged, altered, re-cased or extended ones are refused', () => {
  const token = signToken('unsubscribe', 'ann@example.com', SECRET);
  assert.equal(verifyToken('unsubscribe', token, SECRET), 'ann@example.com');
  const [payload, mac] = token.split('.') as [string, string];
  assert.equal(verifyToken('unsubscribe', `${Buffer.from('bob@example.com').toString('base64url')}.${mac}`, SECRET), undefined, 'another address, same MAC');
  assert.equal(verifyToken('unsubscribe', token, 'another secret, also long enough 0123456789'), undefined);
  assert.equal(verifyToken('confirm', token, SECRET), undefined, 'a token for one purpose is no good for another');
  for (const altered of [`${token}x`, `${token}=`, `${token}.`, ` ${token}`, `${token}%20`, token.toUpperCase(), token.toLowerCase(), `${payload}.${mac.slice(0, -1)}`, `${payload}=.${mac}`, `${payload}.${mac}A`, '', '.', 'garbage']) {
    assert.equal(verifyToken('unsubscribe', altered, SECRET), undefined, altered);
  }
  // One character of each part flipped in case: a different token.
  const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === text[at]!.toUpperCase() ? text[at]!.toLowerCase() : text[at]!.toUpperCase()) + text.slice(at + 1);
  for (let at = 0; at < token.length; at++) {
    const changed = flip(token, at);
    if (changed !== token) assert.equal(verifyToken('unsubscribe', changed, SECRET), undefined, changed);
  }
});

test('a confirmation token carries its address and expires after seven days', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const token = confirmToken('ann@example.com', SECRET, now);
  const verdict = verifyConfirmToken(token, SECRET, new Date('2026-06-07T23:59:59Z'));
  assert.deepEqual(verdict, { key: 'ann@example.com', issuedAt: now });
  assert.equal(verifyConfirmToken(token, SECRET, new Date('2026-06-08T00:00:01Z')), 'expired');
  assert.equal(verifyConfirmToken(signToken('unsubscribe', 'ann@example.com', SECRET), SECRET, now), 'invalid');
  assert.equal(verifyConfirmToken(signToken('confirm', 'ann@example.com\nsoon', SECRET), SECRET, now), 'invalid');
});

test('the secret: generated once (43 characters, mode 0600); an empty or short one is an error', async (t) => {
  const site = await makeSite(t);
  const config = parseConfig({ site: { url: 'https://example.com/' } }, join(site.dir, 'herald.config.yml'), site.dir);
  const secret = loadSecret(config, {}, site.dir);
  assert.ok(secret.length >= 43);
  assert.equal(loadSecret(config, {}, site.dir), secret, 'generated once, then reused');
  assert.equal(statSync(join(site.dir, '.herald/secret')).mode & 0o777, 0o600);
  assert.equal(statSync(join(site.dir, '.herald')).mode & 0o777, 0o700);
  assert.match(unsubscribeUrl(config, 'ann@example.com', secret), /^https:\/\/example\.com\/unsubscribe\?token=[\w-]+\.[\w-]{43}$/);

  assert.equal(loadSecret(config, { HERALD_SECRET: SECRET }, site.dir), SECRET);
  assert.throws(() => loadSecret(config, { HERALD_SECRET: 'short' }, site.dir), /HERALD_SECRET|too short/);
  assert.throws(() => loadSecret(config, { HERALD_SECRET: '' }, site.dir), /empty/);
  writeFileSync(join(site.dir, '.herald/secret'), '');
  assert.throws(() => loadSecret(config, {}, site.dir), (error: Error) => /\.herald\/secret/.test(error.message) && /empty/.test(error.message));
  writeFileSync(join(site.dir, '.herald/secret'), 'abc\n');
  assert.throws(() => loadSecret(config, {}, site.dir), /too short/);
});
