import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifySmtpError } from '../../src/adapters/mail/smtp.js';

const refusal = (command: string, responseCode: number, response: string) => Object.assign(new Error(response), { code: 'EENVELOPE', command, responseCode, response });

test('only the server refusing the very mailbox is a bounce; a refusal about the sender never is', () => {
  const bounces = [
    ['RCPT TO', 550, '550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown'],
    ['RCPT TO', 550, '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found'],
    ['RCPT TO', 550, '550 5.2.1 The email account that you tried to reach is disabled'],
    ['RCPT TO', 550, '550 Requested action not taken: mailbox unavailable'],
    ['RCPT TO', 553, '553 sorry, that domain isn\'t in my list of allowed rcpthosts'],
  ] as const;
  for (const [command, code, response] of bounces) assert.deepEqual(classifySmtpError(refusal(command, code, response)), { ok: false, permanent: true, reason: response }, response);
  const notBounces = [
    ['RCPT TO', 554, '554 5.7.1 <ann@example.com>: Relay access denied'],
    ['RCPT TO', 550, '550 5.7.1 Service unavailable; Client host blocked using Spamhaus'],
    ['RCPT TO', 550, '550 relay not permitted'],
    ['RCPT TO', 552, '552 5.2.2 Mailbox full'],
    ['RCPT TO', 550, '550 5.1.8 Sender address rejected: Domain not found'],
    ['RCPT TO', 451, '451 4.7.1 Greylisted, try again later'],
    ['DATA', 554, '554 5.6.0 Message rejected as spam'],
    ['MAIL FROM', 550, '550 5.7.1 Sender rejected'],
    ['CONN', 421, '421 Too many connections'],
  ] as const;
  for (const [command, code, response] of notBounces) {
    const result = classifySmtpError(refusal(command, code, response));
    assert.deepEqual(result, { ok: false, permanent: false, reason: response }, response);
  }
  assert.throws(() => classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH', response: '535 5.7.8 Authentication failed', responseCode: 535 })), /refused herald's login: 535/);
});
