import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import MimeNode from 'nodemailer/lib/mime-node';
import { compose, envelopeRecipients } from '../../src/adapters/mail/compose.js';
import { encodedParts } from '../../src/adapters/mail/parts.js';
import { personalise, type EmailDraft } from '../../src/newsletter/email/render.js';
import type { OutgoingMessage } from '../../src/newsletter/ports.js';
import { seededRandom } from '../helpers.js';

// The markers renderEmail puts where each reader's values go.
const F = (name: string) => `\uE000${name}\uE001`;

const draft = (subject: string): EmailDraft => ({
  subject,
  html: `<p>Hello ${F('name')} (${F('email')}),</p>\n${'<p>A paragraph of a typical post, with a <a href="https://example.com/">link</a> and = signs.</p>\n'.repeat(20)}<a href="${F('unsubscribeUrl')}">Unsubscribe</a>\n`,
  text: `Hello ${F('name')},\n\n${'A paragraph of a typical post, with a link (https://example.com/).\n\n'.repeat(20)}Unsubscribe: ${F('unsubscribeUrl')}\n`,
  warnings: [],
});

function message(overrides: { subject?: string; name?: string; address?: string; from?: string; replyTo?: string; returnPath?: string; list?: OutgoingMessage['list'] | null }): OutgoingMessage {
  const address = overrides.address ?? 'ann@example.com';
  const unsubscribe = `https://news.example.com/unsubscribe?token=${'t'.repeat(43)}.${'s'.repeat(43)}`;
  const recipient = { name: overrides.name ?? 'Ann', email: address, unsubscribeUrl: unsubscribe };
  const list = overrides.list === null ? undefined : (overrides.list ?? { id: 'newsletter.news.example.com', name: 'Test News', unsubscribe });
  return {
    from: overrides.from ?? '"Test News" <news@example.com>',
    ...(overrides.replyTo ? { replyTo: overrides.replyTo } : {}),
    to: { name: recipient.name, address },
    subject: overrides.subject ?? 'Hello & welcome',
    date: new Date('2026-03-01T12:34:56Z'),
    messageId: '<0123456789abcdef0123456789abcdef@news.example.com>',
    ...(overrides.returnPath ? { returnPath: overrides.returnPath } : {}),
    body: { draft: draft(overrides.subject ?? 'Hello & welcome'), recipient },
    ...(list ? { list } : {}),
  };
}

const CASES: [string, Parameters<typeof message>[0]][] = [
  ['a plain reader', {}],
  ['no name, a reply-to, a VERP return path and a mailto: unsubscribe', { name: '', replyTo: 'editor@example.com', returnPath: 'bounces+0123456789abcdef0123456789abcdef@example.com', list: { id: 'newsletter.news.example.com', name: 'Test News', unsubscribe: 'https://news.example.com/unsubscribe?token=abc.def', mailto: 'mailto:bounces+0123456789abcdef0123456789abcdef@example.com?subject=unsubscribe' } }],
  ['a name and a subject outside ASCII, a long subject folded', { name: 'Zoë Ünïcödé "the reader"', subject: `Ünïcödé news: ${'a long subject line that needs folding '.repeat(3)}` }],
  ['a name with specials, an address at an IDN domain', { name: 'Smith, John (Jr.) <b>', address: 'john@bücher.example' }],
  ['a site title outside ASCII, a From with a name to encode', { from: 'Bücher Nëws <news@example.com>', list: { id: 'newsletter.news.example.com', name: 'Bücher Nëws', unsubscribe: 'https://news.example.com/unsubscribe?token=x.y' } }],
  ['no list headers (a confirmation)', { list: null }],
];

// nodemailer's composer, as herald used it before it built messages itself: the same headers
// from the same fields, and the draft's parts pre-encoded (raw alternatives).
const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
function nodemailerOptions(message: OutgoingMessage, body: 'raw parts' | 'html and text') {
  const { draft: d, recipient } = message.body;
  const parts = encodedParts(d, recipient);
  return {
    ...(body === 'raw parts' ? { text: { raw: Buffer.concat(parts.text) }, html: { raw: Buffer.concat(parts.html) } } : { text: personalise(d, recipient).text, html: personalise(d, recipient).html }),
    from: message.from,
    replyTo: message.replyTo,
    to: message.to.name ? { name: message.to.name, address: message.to.address } : message.to.address,
    subject: message.subject,
    date: message.date,
    messageId: message.messageId,
    ...(message.returnPath ? { envelope: { from: message.returnPath, to: message.to.address } } : {}),
    ...(message.list
      ? { list: { id: { url: message.list.id, comment: message.list.name }, unsubscribe: [[message.list.unsubscribe, ...(message.list.mailto ? [message.list.mailto] : [])]] }, headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } }
      : {}),
  };
}

const boundaryOf = (raw: string) => /boundary="([^"]+)"/.exec(raw)?.[1] ?? '';

/** What a reader's mail program sees: every header (the boundary aside) and both bodies. */
function seen(mail: ParsedMail) {
  const headers = [...mail.headers].filter(([key]) => key !== 'content-type').map(([key, value]) => [key, JSON.stringify(value)]);
  const contentType = mail.headers.get('content-type') as { value: string };
  return { headers, contentType: contentType.value, text: mail.text, html: mail.html, to: JSON.stringify(mail.to), from: JSON.stringify(mail.from) };
}

for (const [name, overrides] of CASES) {
  test(`a message composed once per draft is the message nodemailer composed: ${name}`, async () => {
    const ours = compose(message(overrides));
    const theirs = await builder.sendMail(nodemailerOptions(message(overrides), 'raw parts'));
    const oldRaw = (theirs.message as Buffer).toString();
    const newRaw = ours.raw.toString();
    // Byte for byte, but for the boundary, which nodemailer draws at random for every message.
    assert.equal(newRaw.replaceAll(boundaryOf(newRaw), 'BOUNDARY'), oldRaw.replaceAll(boundaryOf(oldRaw), 'BOUNDARY'));
    assert.deepEqual(ours.envelope, theirs.envelope);
    // And as a mail program reads it, against nodemailer encoding the reader's HTML and text itself.
    const plain = await builder.sendMail(nodemailerOptions(message(overrides), 'html and text'));
    assert.deepEqual(seen(await simpleParser(ours.raw)), seen(await simpleParser(plain.message as Buffer)));
  });
}

test('a composed message keeps to the line limits, and ends as a MIME message ends', () => {
  const { raw } = compose(message({ name: 'Zoë '.repeat(40), subject: 'Ü'.repeat(200) }));
  const text = raw.toString();
  const end = text.indexOf('\r\n\r\n');
  // Headers fold at 78 where they have a space to fold at (a long link has none: RFC 5322's 998).
  for (const line of text.slice(0, end).split('\r\n')) assert.ok(line.length <= 78 || (line.length <= 998 && !/\S\s+\S/.test(line.trim())), `a header line of ${line.length}: ${line}`);
  for (const line of text.slice(end + 4).split('\r\n')) assert.ok(line.length <= 76, `a body line of ${line.length}: ${line}`);
  assert.ok(text.endsWith(`--${boundaryOf(text)}--\r\n`));
});

test('the envelope of a message is the envelope nodemailer makes, for plain and unusual addresses alike', () => {
  const random = seededRandom(7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const locals = ['reader1', 'Reader.One', 'a+b', 'a..b', '.a', 'a.', "o'brien", 'x_y', '"quoted"', 'sp ace', 'zoë', 'a(b)', 'a@b', '', '~!#$%&*/=?^`{|}-'];
  const domains = ['example.com', 'Example.COM', 'bücher.example', 'xn--bcher-kva.example', 'xn--zz.example', 'a-.example', '-a.example', 'a--b.example', 'sub.example.co', '1.2.3.4', '1.2.3.0x4', 'example.123', 'localhost', 'ex_ample.com', '[127.0.0.1]', 'example.c'];
  const addresses = ['reader0@example.com', 'bounces+0123456789abcdef@example.com'];
  for (let i = 0; i < 3000; i++) addresses.push(`${pick(locals)}@${pick(domains)}`);
  for (const address of addresses) {
    assert.deepEqual(envelopeRecipients(address), new MimeNode().setEnvelope({ to: address }).getEnvelope().to, address);
    assert.equal(compose(message({ returnPath: address })).envelope.from, new MimeNode().setEnvelope({ from: address }).getEnvelope().from || 'news@example.com', address);
  }
});
