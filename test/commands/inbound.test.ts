// herald inbound as an MTA pipe runs it: one message on standard input, applied to the database.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { main } from '../../src/cli.js';
import { makeSite, post, SITE_CONFIG, type Site } from '../helpers.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/inbound');

async function inbound(site: Site, message: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['inbound'], { cwd: site.dir, env: {}, out: (line) => out.push(line), err: (line) => err.push(line), stdin: Readable.from([Buffer.from(message)]) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The Message-ID digests of the messages in the outbox, by recipient. */
async function sentTokens(site: Site): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const name of await readdir(join(site.dir, 'outbox'))) {
    const eml = await readFile(join(site.dir, 'outbox', name), 'utf8');
    tokens.set(/^To: (?:.*<)?([^\s<>]+@[^\s<>]+)>?$/m.exec(eml)![1]!, /^Message-ID: <([0-9a-f]{32})@example\.com>/m.exec(eml)![1]!);
  }
  return tokens;
}

test('herald inbound applies a DSN sent back to the VERP address and an ARF complaint quoting the Message-ID; a forged one or an auto-reply changes nothing and exits 0', async (t) => {
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, `${SITE_CONFIG}email:\n  bounces: bounces@example.com\n  address: PO Box 1\n`);
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\nann@example.org,Ann,active,,,\nbob@example.org,Bob,active,,,\ncy@example.org,Cy,active,,,\n');
  assert.equal((await site.run('run', '--now', '2026-03-01T00:00:00Z')).code, 0);
  await site.write('posts/new.md', post({ title: 'New', date: '2026-03-02' }));
  assert.equal((await site.run('run', '--now', '2026-03-02T12:00:00Z')).code, 0);
  const tokens = await sentTokens(site);
  assert.equal(tokens.size, 3);

  // Postfix's bounce, to bounces+<token>@: the token alone names the message.
  const dsn = (await readFile(join(FIXTURES, 'postfix-user-unknown.eml'), 'utf8')).replaceAll('0cf0d0af56a212d5b3cc55a84664e58f', tokens.get('ann@example.org')!);
  const bounced = await inbound(site, dsn);
  assert.equal(bounced.code, 0, bounced.err);
  assert.match(bounced.out, /inbound: bounce for ann@example\.org: bounced \(550 5\.1\.1/);
  // The same bounce again (an MTA retrying a pipe that timed out) changes nothing more.
  assert.match((await inbound(site, dsn)).out, /already recorded/);

  // Yahoo's feedback loop: the complaint quotes the Message-ID of the message it is about.
  const arf = (await readFile(join(FIXTURES, 'yahoo-arf-abuse.eml'), 'utf8')).replaceAll('c524500bb4e03ecb28a56adb1d0b8dc2', tokens.get('bob@example.org')!);
  assert.match((await inbound(site, arf)).out, /inbound: complaint for bob@example\.org: complained/);

  // Anyone can mail the bounce address: a bounce with a made-up token, or naming only cy.
  const forged = dsn.replaceAll(tokens.get('ann@example.org')!, '0123456789abcdef0123456789abcdef').replaceAll('ann@example.org', 'cy@example.org');
  const refused = await inbound(site, forged);
  assert.equal(refused.code, 0);
  assert.match(refused.out, /names no message herald sent; nothing changed/);
  const reply = await inbound(site, await readFile(join(FIXTURES, 'autoreply-out-of-office.eml'), 'utf8'));
  assert.equal(reply.code, 0);
  assert.match(reply.out, /not a bounce or complaint report; nothing changed/);
  assert.equal((await inbound(site, '')).code, 0);

  const list = await site.run('subscribers', 'list', '--json');
  const statuses = Object.fromEntries((JSON.parse(list.out) as { email: string; status: string }[]).map((row) => [row.email, row.status]));
  assert.deepEqual(statuses, { 'ann@example.org': 'bounced', 'bob@example.org': 'complained', 'cy@example.org': 'active' });
  // The outbox's envelope is not in the file; the Return-Path an MTA writes is. The test above
  // matched by token; each message carried its own.
  assert.equal(new Set(tokens.values()).size, 3);
});
