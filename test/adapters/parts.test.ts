import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { compose } from '../../src/adapters/mail/compose.js';
import { personalise, type EmailDraft } from '../../src/newsletter/email/render.js';
import type { OutgoingMessage } from '../../src/newsletter/ports.js';

// The markers renderEmail puts where each reader's values go.
const F = (name: string) => `\uE000${name}\uE001`;

function message(draft: EmailDraft, recipient: OutgoingMessage['body']['recipient']): OutgoingMessage {
  return { from: 'News <news@example.com>', to: { name: recipient.name, address: recipient.email }, subject: draft.subject, date: new Date('2026-03-01T00:00:00Z'), messageId: '<a@example.com>', body: { draft, recipient } };
}

test('a draft encoded once and filled in per reader decodes to exactly the personalised text, with no line over 76 characters', async () => {
  const long = 'Ünïcödé and = signs, tabs\tand trailing spaces   \n'.repeat(40);
  const draft: EmailDraft = {
    subject: 'Sübject',
    html: `<p>${long}</p><p>Hello ${F('name')},</p>${'x'.repeat(74)}${F('email')}${'y'.repeat(200)}<a href="${F('unsubscribeUrl')}">Unsubscribe</a>${F('unsubscribeUrl')}\n`,
    text: `${F('name')}${F('email')}\n${long}Unsubscribe: ${F('unsubscribeUrl')}\n`,
    warnings: [],
  };
  const readers = [
    { name: 'Zoë <b>&amp; "friends"</b> = ok', email: 'zoë$&@bücher.example', unsubscribeUrl: 'https://example.com/unsubscribe?token=abc.def&x=1' },
    { name: '', email: 'a@example.com', unsubscribeUrl: `https://example.com/unsubscribe?token=${'t'.repeat(300)}` },
    // A reader's own line breaks, and values that start a line with "-", as the boundary does.
    { name: 'Two\nlines\r\nand\rthree', email: '----_NmP-0123456789abcdef-Part_1--@example.com', unsubscribeUrl: `https://example.com/u?t=${'-'.repeat(100)}` },
  ];
  for (const reader of readers) {
    const { raw } = await compose(message(draft, reader));
    const text = raw.toString('latin1');
    for (const line of text.split('\r\n')) assert.ok(line.length <= 76 || /^[\w-]+: /.test(line), `a line of ${line.length}: ${line}`);
    // The only lines that start with "--" are the message's boundaries, and every line ends CRLF.
    const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
    for (const line of text.split('\r\n')) if (line.startsWith('--')) assert.ok(line === `--${boundary}` || line === `--${boundary}--`, line);
    assert.doesNotMatch(text, /[^\r]\n|\r(?!\n)/, 'bare line ends');
    const parsed = await simpleParser(raw);
    const expected = personalise(draft, reader);
    const lf = (value: string) => value.replace(/\r\n?/g, '\n');
    assert.equal(lf(parsed.text ?? ''), lf(expected.text));
    assert.equal(lf(String(parsed.html)), lf(expected.html));
  }
});
