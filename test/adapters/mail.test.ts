import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { classifySmtpError, smtpTransport } from '../../src/adapters/mail/smtp.js';
import { parseConfig } from '../../src/config.js';
import type { OutgoingMessage } from '../../src/newsletter/ports.js';

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

/** A real SMTP server on loopback that counts connections, how many are open at once, and messages. */
async function countingServer(t: import('node:test').TestContext) {
  const counts = { connections: 0, open: 0, mostOpen: 0, messages: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      counts.connections++;
      counts.mostOpen = Math.max(counts.mostOpen, ++counts.open);
      callback();
    },
    onClose() {
      counts.open--;
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        counts.messages++;
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const hangUp = () => (server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections.forEach((connection) => connection._socket.destroy());
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, counts, hangUp };
}

function smtpConfig(smtp: object) {
  return parseConfig({ site: { title: 'T', url: 'https://news.example.com/' }, email: { from: 'News <news@example.com>' }, smtp }, undefined, process.cwd());
}

function testMessage(address: string): OutgoingMessage {
  const draft = { subject: 'S', html: '<p>Hi</p>\n', text: 'Hi\n', warnings: [] };
  return { from: 'News <news@example.com>', to: { name: '', address }, subject: draft.subject, date: new Date(), messageId: `<${address}@news.example.com>`, body: { draft, recipient: { name: '', email: address } } };
}

test('the SMTP pool opens at most smtp.maxConnections, reuses them, and sends on after the server hangs up on idle ones', async (t) => {
  const server = await countingServer(t);
  const transport = smtpTransport(smtpConfig({ maxConnections: 2 }), server.url, undefined);
  t.after(() => transport.close());
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => transport.send(testMessage(`r${i}@example.com`))));
  assert.deepEqual(results, Array.from({ length: 10 }, () => ({ ok: true })));
  assert.deepEqual({ connections: server.counts.connections, mostOpen: server.counts.mostOpen, messages: server.counts.messages }, { connections: 2, mostOpen: 2, messages: 10 });
  server.hangUp();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const after = await Promise.all(Array.from({ length: 4 }, (_, i) => transport.send(testMessage(`s${i}@example.com`))));
  assert.deepEqual(after, Array.from({ length: 4 }, () => ({ ok: true })));
  assert.equal(server.counts.messages, 14);
  assert.equal(server.counts.connections, 4, 'two new connections in place of the two the server closed');
  // Hung up on just as messages go out on them: those go again on new connections.
  server.hangUp();
  const racing = await Promise.all(Array.from({ length: 4 }, (_, i) => transport.send(testMessage(`u${i}@example.com`))));
  assert.deepEqual(racing, Array.from({ length: 4 }, () => ({ ok: true })));
  assert.equal(server.counts.messages, 18);
});

test('smtp.rateLimit spaces the messages evenly, however many connections wait', async (t) => {
  const server = await countingServer(t);
  const transport = smtpTransport(smtpConfig({ maxConnections: 5, rateLimit: 20 }), server.url, undefined);
  t.after(() => transport.close());
  const started = performance.now();
  await Promise.all(Array.from({ length: 6 }, (_, i) => transport.send(testMessage(`r${i}@example.com`))));
  // Six messages at 20 a second: the sixth starts 250 ms after the first.
  assert.ok(performance.now() - started >= 245, `took ${performance.now() - started} ms`);
  assert.equal(server.counts.messages, 6);
});
