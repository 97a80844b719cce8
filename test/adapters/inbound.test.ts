import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseInbound } from '../../src/adapters/inbound.js';
import type { Feedback } from '../../src/newsletter/feedback.js';

// Bounces and reports as MTAs and providers send them, each about a message herald sent with
// Message-ID <token@example.com> and return path bounces+token@example.com.
const FIXTURES = join(import.meta.dirname, '../fixtures/inbound');
const FIXTURE_NAMES = readdirSync(FIXTURES).filter((name) => name.endsWith('.eml'));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

/** What a DSN bounce from the fixtures says: about the message whose token the return path carries. */
function bounce(token: string, fields: Pick<Feedback, 'permanent' | 'recipient' | 'at' | 'reason'>): Feedback {
  return { kind: 'bounce', permanent: fields.permanent, messageId: `${token}@example.com`, recipient: fields.recipient, at: fields.at, reason: fields.reason, source: 'dsn', returnPathToken: token };
}

test('a DSN from Postfix, Exim, Exchange Online or Gmail is a bounce of the quoted message, permanent for a 5.x.x status', async () => {
  const cases: [string, Feedback][] = [
    [
      'postfix-user-unknown.eml',
      bounce('0cf0d0af56a212d5b3cc55a84664e58f', { permanent: true, recipient: 'ann@example.org', at: '2026-03-03T09:14:07.000Z', reason: '550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown in virtual mailbox table' }),
    ],
    [
      // Exim writes Action before Final-Recipient, and a status (5.0.0) the diagnostic does not repeat.
      'exim-user-unknown.eml',
      bounce('0560283b14c11c7aed3a425db654e395', { permanent: true, recipient: 'bob@example.net', at: '2026-03-03T10:02:41.000Z', reason: '5.0.0 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in local recipient table' }),
    ],
    [
      // An HTML first part; the return path only in To.
      'exchange-online-ndr.eml',
      bounce('53d239503177febdbaedffdf2aeb9590', { permanent: true, recipient: 'carol@contoso.example', at: '2026-03-03T11:20:15.000Z', reason: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' }),
    ],
    [
      // A folded diagnostic without an SMTP code; the time of the last attempt, in the sender's zone.
      'gmail-address-not-found.eml',
      bounce('1496c60d58eb1a83010c83dcbcb09216', {
        permanent: true,
        recipient: 'dave@gmail.com',
        at: '2026-03-03T12:31:09.000Z',
        reason: "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-5dca1b2e3f4si1283957a12.88 - gsmtp",
      }),
    ],
    [
      // RFC 6533: message/global-delivery-status in base64, a UTF-8 address, the original as message/global.
      'postfix-global-dsn.eml',
      bounce('6871d6fac0aae37774bcf8f4c5aa4f52', { permanent: true, recipient: 'jürgen@bücher.example', at: '2026-03-11T16:48:22.000Z', reason: '550 5.1.1 <jürgen@bücher.example>: Recipient address rejected: User unknown in virtual mailbox table' }),
    ],
  ];
  for (const [name, expected] of cases) {
    assert.deepEqual(await parseInbound(fixture(name)), { kind: 'dsn', feedback: [expected], returnPathTokens: [expected.returnPathToken] }, name);
  }
});

test('a plain-text bounce from qmail, older Exim or GMX gives the address and what was said, permanent only with a 5xx code', async () => {
  const cases: [string, Feedback][] = [
    ['qmail-no-mailbox.eml', bounce('0a8b97c7ebea9eb1d8f60119becfef1a', { permanent: true, recipient: 'eve@example.ne.jp', at: '2026-03-03T13:05:51.000Z', reason: 'Sorry, no mailbox here by that name. (#5.1.1)' })],
    [
      // qmail calls every bounce "a permanent error", a queue timeout too.
      'qmail-queue-timeout.eml',
      bounce('5d1e0b7a2c94f3e86a0b1c2d3e4f5a6b', {
        permanent: false,
        recipient: 'grace@example.org',
        at: '2026-03-10T08:40:02.000Z',
        reason: "192.0.2.14 does not like recipient. Remote host said: 452 4.2.2 Mailbox full Giving up on 192.0.2.14. I'm not going to try again; this message has been in the queue too long.",
      }),
    ],
    [
      'exim-legacy-plain.eml',
      bounce('165a332669a9c5161d8cde03d9ffcafa', {
        permanent: true,
        recipient: 'frank@example.org',
        at: '2026-03-03T14:12:30.000Z',
        reason: 'SMTP error from remote mail server after RCPT TO:<frank@example.org>: host mail.example.org [192.0.2.77]: 550 5.1.1 <frank@example.org>: Recipient address rejected: User unknown in local recipient table',
      }),
    ],
    [
      // GMX, web.de and 1&1 write Exim's words, the address quoted, in quoted-printable.
      'gmx-plain.eml',
      bounce('cc2d14aa4ae2632647dac27e19131bf3', { permanent: true, recipient: 'kai.mueller@gmx.de', at: '2026-03-12T10:44:17.000Z', reason: 'no such mailbox: kai.mueller@gmx.de (mailbox unavailable), code 550 5.1.1' }),
    ],
  ];
  for (const [name, expected] of cases) {
    assert.deepEqual(await parseInbound(fixture(name)), { kind: 'dsn', feedback: [expected], returnPathTokens: [expected.returnPathToken] }, name);
  }
});

test('a DSN about a delay is no bounce: the MTA is still trying', async () => {
  assert.deepEqual(await parseInbound(fixture('postfix-delayed.eml')), { kind: 'dsn', feedback: [], returnPathTokens: ['3766e99fd61344dcbafc00864d9d2832'] });
});

test('an ARF abuse report is a complaint about the quoted Message-ID, naming the recipient only when it is not redacted', async () => {
  assert.deepEqual(await parseInbound(fixture('yahoo-arf-abuse.eml')), {
    kind: 'arf',
    feedback: [
      {
        kind: 'complaint',
        permanent: false,
        messageId: 'c524500bb4e03ecb28a56adb1d0b8dc2@example.com',
        recipient: 'ivan@yahoo.com',
        at: '2026-03-05T18:42:10.000Z',
        reason: 'abuse',
        source: 'arf',
        returnPathToken: 'c524500bb4e03ecb28a56adb1d0b8dc2',
      },
    ],
    // Sent to the feedback address, not the return path: the token is Original-Mail-From's.
    returnPathTokens: ['c524500bb4e03ecb28a56adb1d0b8dc2'],
  });
  // The original's headers only (text/rfc822-headers), its To redacted.
  assert.deepEqual(await parseInbound(fixture('arf-redacted-headers.eml')), {
    kind: 'arf',
    feedback: [{ kind: 'complaint', permanent: false, messageId: 'fae117dac4dbf77af17e78b29bc56ab5@example.com', at: '2026-03-09T07:15:43.000Z', reason: 'abuse', source: 'arf', returnPathToken: 'fae117dac4dbf77af17e78b29bc56ab5' }],
    returnPathTokens: ['fae117dac4dbf77af17e78b29bc56ab5'],
  });
});

test('a feedback report that is not the reader complaining (a DMARC failure, not-spam) gives no feedback', async () => {
  for (const type of ['auth-failure', 'not-spam', 'virus']) {
    const raw = Buffer.from(fixture('yahoo-arf-abuse.eml').toString('utf8').replace('Feedback-Type: abuse', `Feedback-Type: ${type}`));
    assert.deepEqual(await parseInbound(raw), { kind: 'arf', feedback: [], returnPathTokens: ['c524500bb4e03ecb28a56adb1d0b8dc2'] }, type);
  }
});

test('an out-of-office reply to the return path is other, though its token is reported', async () => {
  assert.deepEqual(await parseInbound(fixture('autoreply-out-of-office.eml')), { kind: 'other', feedback: [], returnPathTokens: ['3ae274dbfd637da2913b653e93764f73'] });
});

test('with two different tokens in the return paths, both are reported and no feedback claims either', async () => {
  const token = '0cf0d0af56a212d5b3cc55a84664e58f';
  const raw = Buffer.from(fixture('postfix-user-unknown.eml').toString('utf8').replace(`X-Original-To: bounces+${token}`, 'X-Original-To: bounces+aaaabbbbccccddddeeeeffff00001111'));
  const report = await parseInbound(raw);
  assert.deepEqual(report.returnPathTokens.toSorted(), [token, 'aaaabbbbccccddddeeeeffff00001111']);
  assert.equal(report.feedback.length, 1);
  assert.equal(report.feedback[0]?.returnPathToken, undefined);
  assert.equal(report.feedback[0]?.messageId, `${token}@example.com`);
});

test('a message with CRLF line ends, as SMTP carries it, reads the same as with LF', async () => {
  for (const name of FIXTURE_NAMES) {
    const lf = fixture(name);
    const crlf = Buffer.from(lf.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    assert.deepEqual(await parseInbound(crlf), await parseInbound(lf), name);
  }
});

test('nothing an MTA hands over makes it throw: empty input, binary garbage and messages cut anywhere give a report', async () => {
  const other = { kind: 'other', feedback: [], returnPathTokens: [] };
  assert.deepEqual(await parseInbound(Buffer.alloc(0)), other);
  assert.deepEqual(await parseInbound(Buffer.from('\n\n\n')), other);
  // Seeded, so a failure can be reproduced.
  let seed = 42;
  const garbage = Buffer.from(Array.from({ length: 64 * 1024 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 16));
  assert.deepEqual(await parseInbound(garbage), other);
  assert.deepEqual(await parseInbound(Buffer.concat([Buffer.from('Content-Type: multipart/report; boundary="x"\n\n--x\n'), garbage])), other);

  for (const name of FIXTURE_NAMES) {
    const raw = fixture(name);
    for (let length = 0; length < raw.length; length += 37) {
      const report = await parseInbound(raw.subarray(0, length));
      assert.ok(['dsn', 'arf', 'other'].includes(report.kind), `${name} cut at ${length}`);
      for (const item of report.feedback) assert.equal(typeof item.reason, 'string', `${name} cut at ${length}`);
    }
  }
});

test('a report cut short says only what arrived whole: nothing if the report part was cut, no Message-ID if the original was', async () => {
  const raw = fixture('postfix-user-unknown.eml');
  const text = raw.toString('latin1');
  const cutInHeaders = raw.subarray(0, text.indexOf('Content-Type: multipart/report'));
  assert.deepEqual(await parseInbound(cutInHeaders), { kind: 'other', feedback: [], returnPathTokens: ['0cf0d0af56a212d5b3cc55a84664e58f'] });
  const cutInReport = raw.subarray(0, text.indexOf('Status: 5.1.1'));
  assert.equal((await parseInbound(cutInReport)).kind, 'other');

  const cutInOriginal = raw.subarray(0, text.indexOf('Message-ID: <0cf0d0af') + 20);
  const whole = await parseInbound(raw);
  const { messageId, ...withoutMessageId } = whole.feedback[0] ?? assert.fail('no feedback');
  assert.ok(messageId);
  assert.deepEqual(await parseInbound(cutInOriginal), { ...whole, feedback: [withoutMessageId] });

  const qmail = fixture('qmail-no-mailbox.eml');
  assert.equal((await parseInbound(qmail.subarray(0, qmail.indexOf('Sorry, no mailbox')))).kind, 'other');
});
