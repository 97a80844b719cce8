import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { compose, dkimSigner } from '../../src/adapters/mail/compose.js';
import { classifySmtpError, smtpData, smtpTransport } from '../../src/adapters/mail/smtp.js';
import { seededRandom } from '../helpers.js';
import { startSmtpSink } from '../smtp.js';
import { parseConfig, type Config } from '../../src/config.js';
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
    // nodemailer calls these EENVELOPE too: the sender refused, or the data, is about every reader.
    ['MAIL FROM', 550, '550 5.1.0 Sender address rejected'],
    ['MAIL FROM', 553, '553 sorry, that address is not allowed'],
    ['DATA', 550, '550 Command rejected'],
    ['CONN', 421, '421 Too many connections'],
  ] as const;
  for (const [command, code, response] of notBounces) {
    const result = classifySmtpError(refusal(command, code, response));
    assert.deepEqual(result, { ok: false, permanent: false, reason: response }, response);
  }
  // An LMTP server's answer for one recipient after the data: a bounce only when its enhanced code
  // says the mailbox is gone; a bare 550 there may be about the message (a virus, a filter).
  const lmtp = (response: string) => classifySmtpError(Object.assign(new Error(response), { code: 'EMESSAGE', command: 'DATA', recipient: 'ann@example.com', responseCode: Number(response.slice(0, 3)), response }));
  const gone = '550 5.1.1 <ann@example.com>: user unknown';
  assert.deepEqual(lmtp(gone), { ok: false, permanent: true, reason: gone });
  for (const response of ['550 Message rejected: virus found', '554 5.7.1 Message rejected as spam', '452 4.2.2 Mailbox full']) {
    assert.deepEqual(lmtp(response), { ok: false, permanent: false, reason: response }, response);
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

// nodemailer's own dot-stuffing stream, which smtpData stands in for (not among its package's exports).
const require = createRequire(import.meta.url);
const DataStream = require(join(dirname(require.resolve('nodemailer')), 'smtp-connection', 'data-stream.js')).default as new () => Transform;

test('smtpData writes the bytes nodemailer\'s DataStream writes: CRLF line ends, a leading dot doubled, the final dot', async () => {
  const random = seededRandom(13);
  const pieces = ['.', '..', '\r\n', '\n', '\r', '\r\n.', '\n.', '\r.', 'a', 'line of text', '=2E', 'é', '😀', ' '];
  const cases = ['', '.', '\r\n', 'a', 'a\r\n', 'a\n', 'a\r', '.\r\n.\r\n', 'x\r\n.\r\ny'];
  for (let i = 0; i < 2000; i++) cases.push(Array.from({ length: 1 + Math.floor(random() * 30) }, () => pieces[Math.floor(random() * pieces.length)]).join(''));
  for (const text of cases) {
    const message = Buffer.from(text);
    const theirs = await buffer(Readable.from([message]).pipe(new DataStream()));
    assert.equal(Buffer.concat(smtpData(message)).toString('latin1'), theirs.toString('latin1'), JSON.stringify(text));
  }
});

test('lines that start with a dot in the text and the HTML arrive intact over SMTP, with DKIM too', async (t) => {
  const sink = await startSmtpSink({ parse: false });
  const transport = smtpTransport(smtpConfig({ maxConnections: 2 }), sink.url, undefined);
  // The connections closed first: the server's close waits for them.
  t.after(async () => {
    await transport.close();
    await sink.close();
  });
  const draft = { subject: 'S', html: '.<p>Hi</p>\n.\n..two\n<p>.x</p>\n', text: '.starts\nHi\n.hidden\n..two\n.\nend.', warnings: [] };
  const messages = Array.from({ length: 4 }, (_, i) => {
    const address = `r${i}@example.com`;
    return { ...testMessage(address), body: { draft, recipient: { name: '', email: address } } };
  });
  const raws = messages.map((message) => compose(message).raw.toString());
  assert.ok(raws[0]!.includes('\r\n.hidden\r\n..two\r\n.\r\nend.') && raws[0]!.includes('\r\n.<p>Hi</p>'), 'the composed message has the dotted lines as they are');
  assert.deepEqual(await Promise.all(messages.map((message) => transport.send(message))), messages.map(() => ({ ok: true })));
  assert.deepEqual(sink.received.map((received) => received.raw).sort(), raws.sort());

  // Signed before it is stuffed: what arrives verifies.
  const dir = await mkdtemp(join(tmpdir(), 'herald-dkim-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'dkim.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const signer = dkimSigner({ file: undefined, smtp: { dkim: { domain: 'example.com', selector: 'herald', privateKeyFile: join(dir, 'dkim.pem') } } } as unknown as Config)!;
  const signing = smtpTransport(smtpConfig({ maxConnections: 2 }), sink.url, signer);
  const signed = await Promise.all(messages.map((message) => signing.send(message)));
  await signing.close();
  assert.deepEqual(signed, messages.map(() => ({ ok: true })));
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const record = `v=DKIM1; k=rsa; p=${(publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64')}`;
  for (const { raw } of sink.received.slice(messages.length)) {
    assert.ok(raw.startsWith('DKIM-Signature:') && raw.includes('\r\n.hidden\r\n..two\r\n.\r\nend.'), raw);
    const verdict = await dkimVerify(Buffer.from(raw), { resolver: async (name: string) => (name === 'herald._domainkey.example.com' ? [[record]] : []) });
    assert.equal(verdict.results[0]?.status?.result, 'pass', JSON.stringify(verdict.results[0]?.status));
  }
});

test('a server that does not announce PIPELINING gets no command before it answers the data (RFC 5321: strict servers drop such clients)', async (t) => {
  const { createServer } = await import('node:net');
  let connections = 0;
  let accepted = 0;
  const early: string[] = [];
  const server = createServer((socket) => {
    connections++;
    let buffered = '';
    let inData = false;
    let answering = false;
    socket.write('220 localhost ESMTP\r\n');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (answering) early.push(chunk.toString('latin1'));
      buffered += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffered.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffered = buffered.slice(end + 5);
          inData = false;
          if (buffered) early.push(buffered);
          // Answered a little later, as a server that queues the message does.
          answering = true;
          setTimeout(() => {
            answering = false;
            accepted++;
            socket.write('250 queued\r\n');
          }, 20);
          continue;
        }
        const end = buffered.indexOf('\r\n');
        if (end < 0) return;
        const verb = buffered.slice(0, 4).toUpperCase();
        buffered = buffered.slice(end + 2);
        if (verb === 'EHLO') socket.write('250-localhost\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = smtpTransport(smtpConfig({ maxConnections: 1 }), `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`, undefined);
  t.after(async () => {
    await transport.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((name) => transport.send(testMessage(`${name}@example.com`))));
  assert.deepEqual(results.map((result) => result.ok), [true, true, true, true], JSON.stringify(results));
  assert.equal(accepted, 4);
  assert.deepEqual(early, [], 'nothing written before the answer to the data');
  assert.equal(connections, 1, 'the connection is reused once the answer came');
});

test('the next message rides behind the one before on the same connection; a refusal after the data, or a connection dropped under both, settles each as the server left it', async (t) => {
  const accepted: string[] = [];
  let connections = 0;
  let dropped = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo[0]!.address;
      stream.resume();
      stream.on('end', () => {
        if (to === 'drop@example.com' && !dropped) {
          dropped = true;
          return (server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections.forEach((connection) => connection._socket.destroy());
        }
        // Answered a little later: by then the client has written the next envelope behind it.
        setTimeout(() => {
          if (to === 'refuse@example.com') return callback(Object.assign(new Error('content refused'), { responseCode: 554 }));
          accepted.push(to);
          callback();
        }, 20);
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = smtpTransport(smtpConfig({ maxConnections: 1 }), `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, undefined);
  t.after(async () => {
    await transport.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const names = ['a', 'refuse', 'b', 'drop', 'c', 'd'];
  const results = await Promise.all(names.map((name) => transport.send(testMessage(`${name}@example.com`))));
  assert.deepEqual(
    results.map((result) => result.ok),
    [true, false, true, true, true, true],
    JSON.stringify(results),
  );
  assert.equal(results[1]!.ok === false && results[1]!.permanent, false, 'a refused message is tried again later, not a bounce');
  // The dropped one and the one written behind it went again, on a new connection.
  assert.deepEqual(accepted.sort(), ['a', 'b', 'c', 'd', 'drop'].map((name) => `${name}@example.com`).sort());
  assert.equal(connections, 2);
});

test('over LMTP (?lmtp=true), a recipient the server refuses after the data is a refusal, not a delivery', async (t) => {
  const accepted: string[] = [];
  const server = new SMTPServer({
    lmtp: true,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo[0]!.address;
      stream.resume();
      stream.on('end', () => {
        // LMTP: the answer after the data is the recipient's own (RFC 2033), here a full mailbox or an unknown user.
        if (to === 'full@example.com') return callback(Object.assign(new Error('4.2.2 mailbox full'), { responseCode: 452 }));
        if (to === 'gone@example.com') return callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
        accepted.push(to);
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = smtpTransport(smtpConfig({ maxConnections: 1 }), `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}?lmtp=true`, undefined);
  t.after(async () => {
    await transport.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const results = await Promise.all(['a', 'full', 'gone', 'b'].map((name) => transport.send(testMessage(`${name}@example.com`))));
  assert.deepEqual(
    results.map((result) => (result.ok ? 'sent' : result.permanent ? 'bounced' : 'later')),
    ['sent', 'later', 'bounced', 'sent'],
    JSON.stringify(results),
  );
  assert.deepEqual(accepted, ['a@example.com', 'b@example.com']);
});
