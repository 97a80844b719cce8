import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test, type TestContext } from 'node:test';
import { simpleParser } from 'mailparser';
import { dkimSigner } from '../../src/adapters/mail/compose.js';
import { classifySesError, sesOptions, sesTags, sesTransport, type SesError, type SesOptions } from '../../src/adapters/mail/ses.js';
import type { Config } from '../../src/config.js';
import { HeraldError } from '../../src/errors.js';
import type { OutgoingMessage } from '../../src/newsletter/ports.js';
import { closedPort } from '../helpers.js';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const SEND_PATH = '/v2/email/outbound-emails';
const ACCOUNT_PATH = '/v2/email/account';

/** aws-ses-v2-local answers GetAccount with AWS_SES_ACCOUNT, which must have every field. */
const ACCOUNT = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: { AdditionalContactEmailAddresses: [], ContactLanguage: 'EN', MailType: 'MARKETING', ReviewDetails: { CaseId: '1', Status: 'GRANTED' }, UseCaseDescription: 'tests', WebsiteURL: 'https://example.com' },
  EnforcementStatus: 'HEALTHY',
  ProductionAccessEnabled: true,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 50_000, MaxSendRate: 10, SentLast24Hours: 0 },
  SuppressionAttributes: { SuppressedReasons: [] },
};

let emulator: string;
let child: ChildProcessByStdio<null, Readable, null> | undefined;

// One emulator for the file, a real process on a free loopback port, as it would run beside herald.
// (An after() registered inside before() would run as soon as before() ends.)
after(() => child?.kill());
before(async () => {
  const cli = createRequire(import.meta.url).resolve('aws-ses-v2-local/dist/cli.js');
  const started = (child = spawn(process.execPath, [cli, '--host', '127.0.0.1', '--port', '0'], { env: { ...process.env, AWS_SES_ACCOUNT: JSON.stringify(ACCOUNT) }, stdio: ['ignore', 'pipe', 'inherit'] }));
  emulator = await new Promise<string>((resolve, reject) => {
    let out = '';
    started.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /running at http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    started.once('exit', (code) => reject(new Error(`aws-ses-v2-local exited (${code}): ${out}`)));
  });
});

interface Seen {
  path: string;
  /** performance.now() when the request arrived. */
  at: number;
  body: Record<string, any>;
}

type Answer = { status: number; type?: string; body: object };

/**
 * A loopback HTTP server in front of the emulator that records every request, and answers one
 * itself when `answer` returns something (as SES would: an error type header and a message).
 */
async function startProxy(t: TestContext, answer: (seen: Seen, index: number) => Answer | undefined = () => undefined) {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const entry: Seen = { path: req.url!, at, body: raw.length ? JSON.parse(raw.toString()) : {} };
    seen.push(entry);
    const canned = answer(entry, seen.filter((other) => other.path === entry.path).length - 1);
    if (canned) {
      res.writeHead(canned.status, { 'content-type': 'application/json', ...(canned.type ? { 'x-amzn-errortype': canned.type } : {}) });
      res.end(JSON.stringify(canned.body));
      return;
    }
    const target = new URL(emulator);
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (reply: IncomingMessage) => {
      res.writeHead(reply.statusCode!, reply.headers);
      reply.pipe(res);
    });
    forward.on('error', (error) => res.writeHead(502).end(String(error)));
    forward.end(raw);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const sends = () => seen.filter((entry) => entry.path === SEND_PATH);
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, sends };
}

const refusal = (status: number, type: string, message: string): Answer => ({ status, type, body: { message } });

function transport(t: TestContext, endpoint: string, options: Partial<SesOptions> = {}, signer?: Parameters<typeof sesTransport>[1]) {
  const ses = sesTransport({ region: 'us-east-1', endpoint, credentials: CREDENTIALS, ...options }, signer);
  t.after(() => ses.close());
  return ses;
}

/** A clock that moves only when slept on: pacing and backoff are checked without waiting. */
function fakeClock() {
  let time = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => time,
    sleep: async (ms: number) => {
      slept.push(ms);
      time += ms;
    },
    advance: (ms: number) => (time += ms),
  };
}

function message(to: string, subject = 'Hello from herald', name = ''): OutgoingMessage {
  const recipient = { name, email: to, unsubscribeUrl: `https://example.com/unsubscribe?to=${encodeURIComponent(to)}` };
  return {
    from: 'News <news@example.com>',
    to: { name, address: to },
    subject,
    date: new Date('2026-03-01T00:00:00Z'),
    messageId: `<${to.replace('@', '.')}@example.com>`,
    body: { draft: { subject, html: `<p>${subject}, ${to}</p>`, text: `${subject}, ${to}\n`, warnings: [] }, recipient },
    list: { id: 'news.example.com', name: 'News', unsubscribe: recipient.unsubscribeUrl },
  };
}

async function stored(): Promise<{ messageId: string; from: string; destination: { to: string[] }; subject: string; body: { text?: string } }[]> {
  return ((await (await fetch(`${emulator}/store`)).json()) as { emails: any[] }).emails;
}

test('each message goes to SES raw, with the envelope, the configuration set and the tags, and SES MessageId comes back', async (t) => {
  const proxy = await startProxy(t);
  const ses = transport(t, proxy.endpoint, { configurationSet: 'herald-news', tags: { post: '2026/hello world', 'källa!': 'herald' } });
  assert.equal(ses.description, 'ses:us-east-1');
  const results = await Promise.all([ses.send(message('ann@example.com', 'First', 'Ann')), ses.send(message('bob@example.com', 'Second'))]);
  const emails = await stored();
  for (const [index, [to, subject]] of [['ann@example.com', 'First'], ['bob@example.com', 'Second']].entries()) {
    const result = results[index]!;
    assert.ok(result.ok && result.providerId, JSON.stringify(result));
    const email = emails.find((candidate) => candidate.messageId === result.providerId);
    assert.ok(email, `the emulator holds ${result.providerId}`);
    assert.match(email.from, /^"?News"? <news@example\.com>$/);
    assert.match(email.destination.to[0]!, new RegExp(to!));
    assert.equal(email.subject, subject);
    assert.equal(email.body.text?.trim(), `${subject}, ${to}`);

    const request = proxy.sends().find((entry) => entry.body.Destination.ToAddresses[0] === to)!;
    assert.equal(request.body.FromEmailAddress, 'news@example.com');
    assert.deepEqual(request.body.Destination, { ToAddresses: [to] });
    assert.equal(request.body.ConfigurationSetName, 'herald-news');
    assert.deepEqual(request.body.EmailTags, [
      { Name: 'post', Value: '2026_hello_world' },
      { Name: 'k_lla_', Value: 'herald' },
    ]);
    const raw = Buffer.from(request.body.Content.Raw.Data, 'base64');
    const parsed = await simpleParser(raw);
    assert.equal(parsed.subject, subject);
    assert.match(raw.toString(), /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
  }
});

test('DKIM: the signature leaves out Date and Message-ID, which SES rewrites, and still passes once SES has', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-ses-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'dkim.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const signer = dkimSigner({ file: undefined, smtp: { dkim: { domain: 'example.com', selector: 'herald', privateKeyFile: join(dir, 'dkim.pem') } } } as unknown as Config);
  const proxy = await startProxy(t);
  const result = await transport(t, proxy.endpoint, {}, signer).send(message('ann@example.com'));
  assert.ok(result.ok);

  const sent = Buffer.from(proxy.sends()[0]!.body.Content.Raw.Data, 'base64').toString('latin1');
  const signedFields = /^DKIM-Signature:[\s\S]*?\bh=([^;]+)/m.exec(sent)![1]!.replace(/\s+/g, '').toLowerCase().split(':');
  for (const field of ['from', 'to', 'subject', 'list-unsubscribe', 'list-unsubscribe-post']) assert.ok(signedFields.includes(field), `${field} is signed: ${signedFields}`);
  for (const field of ['date', 'message-id']) assert.ok(!signedFields.includes(field), `${field} is not signed`);
  assert.match(sent, /^Message-ID: <ann\.example\.com@example\.com>\r$/m, "herald's own headers are still sent");

  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const record = `v=DKIM1; k=rsa; p=${(publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64')}`;
  const verify = async (raw: string) => (await dkimVerify(Buffer.from(raw, 'latin1'), { resolver: async (name: string) => (name === 'herald._domainkey.example.com' ? [[record]] : []) })).results[0]?.status?.result;
  assert.equal(await verify(sent), 'pass');
  const rewritten = sent.replace(/^Date: .*$/m, 'Date: Sun, 1 Mar 2026 00:00:07 +0000').replace(/^Message-ID: .*$/m, 'Message-ID: <0100018e-ses@email.amazonses.com>');
  assert.notEqual(rewritten, sent);
  assert.equal(await verify(rewritten), 'pass', 'as SES delivers it');
});

test("the account's MaxSendRate is never exceeded: 20 concurrent sends at 10 a second take 1.9 s, never 11 in a second", async (t) => {
  const proxy = await startProxy(t);
  const ses = transport(t, proxy.endpoint);
  // When each request to SES starts, as the HTTP client opens it. The pace spaces its turns 101.5 ms
  // apart (1.5% under the rate; the fake clock below shows it), in the SDK's last step before the
  // request goes, which a busy machine can still stretch by some milliseconds.
  const slack = 50;
  const starts: number[] = [];
  const onStart = ({ request }: { request: ClientRequest }) => void (request.path === SEND_PATH && request.getHeader('host') === new URL(proxy.endpoint).host && starts.push(performance.now()));
  subscribe('http.client.request.start', onStart as (message: unknown) => void);
  t.after(() => unsubscribe('http.client.request.start', onStart as (message: unknown) => void));
  const results = await Promise.all(Array.from({ length: 20 }, (_, index) => ses.send(message(`r${index}@example.com`))));
  assert.ok(results.every((result) => result.ok));
  assert.equal(proxy.seen.filter((entry) => entry.path === ACCOUNT_PATH).length, 1, 'the quota is read once for all of them');
  assert.equal(starts.length, 20);
  assert.ok(starts.at(-1)! - starts[0]! >= 1900 - slack, `took ${starts.at(-1)! - starts[0]!} ms`);
  for (let index = 0; index + 10 < starts.length; index++) assert.ok(starts[index + 10]! - starts[index]! >= 1000 - slack, `11 sends within ${starts[index + 10]! - starts[index]!} ms`);

  const clock = fakeClock();
  const paced = transport(t, (await startProxy(t)).endpoint, clock);
  await Promise.all(Array.from({ length: 20 }, (_, index) => paced.send(message(`r${index}@example.com`))));
  assert.deepEqual(clock.slept.map((ms) => ms.toFixed(3)), Array(19).fill((1000 / (10 * 0.985)).toFixed(3)), 'each turn 1/MaxSendRate after the one before, 1.5% under the rate');
});

test('throttling is waited out with a doubling, jittered backoff and then sent; if it lasts, it is not permanent', async (t) => {
  const throttles = [
    refusal(429, 'TooManyRequestsException', 'Too many requests.'),
    refusal(400, 'LimitExceededException', 'Maximum sending rate exceeded.'),
    refusal(400, 'ThrottlingException', 'Rate exceeded'),
  ];
  for (const throttle of throttles) {
    const proxy = await startProxy(t, (seen, index) => (seen.path === SEND_PATH && index < 2 ? throttle : undefined));
    const clock = fakeClock();
    const result = await transport(t, proxy.endpoint, clock).send(message('ann@example.com'));
    assert.ok(result.ok && result.providerId, `${throttle.type}: ${JSON.stringify(result)}`);
    assert.ok((await stored()).some((email) => email.messageId === result.providerId));
    assert.equal(proxy.sends().length, 3, throttle.type);
    assert.equal(clock.slept.length, 2);
    assert.ok(clock.slept[0]! >= 750 && clock.slept[0]! <= 1250, `first wait ${clock.slept[0]}`);
    assert.ok(clock.slept[1]! >= 1500 && clock.slept[1]! <= 2500, `second wait ${clock.slept[1]}`);
  }

  const proxy = await startProxy(t, (seen) => (seen.path === SEND_PATH ? throttles[0] : undefined));
  const clock = fakeClock();
  const ses = transport(t, proxy.endpoint, clock);
  const [result, other] = await Promise.all([ses.send(message('ann@example.com')), ses.send(message('bob@example.com'))]);
  assert.deepEqual(result, { ok: false, permanent: false, reason: 'TooManyRequestsException: Too many requests.' });
  assert.equal(other.ok, false);
  assert.equal(proxy.sends().length, 8, 'four tries each');
});

test('timers that wake a few ms late cost the rate less than 2%; stalls of 30 ms never put more than MaxSendRate in a second', async (t) => {
  const proxy = await startProxy(t);
  for (const [name, late] of [
    ['late by 0-4 ms', (n: number) => (n * 7919) % 5],
    ['stalls of 30 ms', (n: number) => (n % 7 === 0 ? 30 : (n * 7919) % 5)],
  ] as const) {
    // Each wait ends with a turn (none wakes early here): the turns after the first, in fake time.
    let time = 0;
    const turns: number[] = [];
    const ses = transport(t, proxy.endpoint, { now: () => time, sleep: async (ms: number) => void turns.push((time += ms + late(turns.length))) });
    await Promise.all(Array.from({ length: 120 }, (_, index) => ses.send(message(`r${index}@example.com`))));
    assert.equal(turns.length, 119, name);
    for (let index = 0; index + 10 < turns.length; index++) assert.ok(turns[index + 10]! - turns[index]! >= 1000, `${name}: 11 turns within ${turns[index + 10]! - turns[index]!} ms`);
    const rate = ((turns.length - 1) / (turns.at(-1)! - turns[0]!)) * 1000;
    if (name === 'late by 0-4 ms') assert.ok(rate >= 9.8 && rate <= 10, `${name}: ${rate.toFixed(2)} a second (account: 10)`);
  }
});

test('the daily quota: once used up, not permanent and SES is not called; an hour later the quota is read again', async (t) => {
  let quota = { Max24HourSend: 3, MaxSendRate: 50, SentLast24Hours: 1 };
  const proxy = await startProxy(t, (seen) => (seen.path === ACCOUNT_PATH ? { status: 200, body: { SendQuota: quota } } : undefined));
  const clock = fakeClock();
  const ses = transport(t, proxy.endpoint, clock);
  assert.ok((await ses.send(message('a@example.com'))).ok);
  assert.ok((await ses.send(message('b@example.com'))).ok);
  const { pausedUntil, ...refused } = (await ses.send(message('c@example.com'))) as { pausedUntil?: string };
  assert.deepEqual(refused, {
    ok: false,
    permanent: false,
    reason: 'SES daily quota reached (3 of 3 messages in the last 24 hours); the rest waits for the quota to free up',
  });
  // The pass pauses until the quota is read again, at most an hour on.
  const wait = Date.parse(pausedUntil ?? '') - Date.now();
  assert.ok(wait > 3_500_000 && wait <= 3_600_000, `paused for the hour (${wait} ms)`);
  assert.equal(proxy.sends().length, 2, 'no call for the third');

  quota = { Max24HourSend: 10, MaxSendRate: 50, SentLast24Hours: 2 };
  clock.advance(3_600_000);
  assert.ok((await ses.send(message('c@example.com'))).ok, 'the day rolled on');
  assert.equal(proxy.seen.filter((entry) => entry.path === ACCOUNT_PATH).length, 2);
});

test('SES saying the daily quota is used up stops the calls until the quota is read again', async (t) => {
  const proxy = await startProxy(t, (seen) => (seen.path === SEND_PATH ? refusal(400, 'LimitExceededException', 'Daily message quota exceeded.') : undefined));
  const ses = transport(t, proxy.endpoint, fakeClock());
  const withoutPause = async (to: string) => {
    const { pausedUntil, ...result } = (await ses.send(message(to))) as { pausedUntil?: string };
    assert.ok(pausedUntil, 'the pass is told to pause');
    return result;
  };
  assert.deepEqual(await withoutPause('a@example.com'), { ok: false, permanent: false, reason: 'LimitExceededException: Daily message quota exceeded.' });
  assert.deepEqual(await withoutPause('b@example.com'), { ok: false, permanent: false, reason: 'SES daily quota reached (SES refused a message for it); the rest waits for the quota to free up' });
  assert.equal(proxy.sends().length, 1);
});

test('without ses:GetAccount herald sends at rateLimit, or 1 a second; rateLimit also caps a higher account rate', async (t) => {
  for (const [rateLimit, account, gap] of [
    [undefined, false, 1000],
    [4, false, 250],
    [5, true, 200],
  ] as const) {
    const proxy = await startProxy(t, (seen) => (seen.path === ACCOUNT_PATH && !account ? refusal(403, 'AccessDeniedException', 'not authorized to perform ses:GetAccount') : undefined));
    const clock = fakeClock();
    const ses = transport(t, proxy.endpoint, { ...clock, ...(rateLimit ? { rateLimit } : {}) });
    const results = await Promise.all([1, 2, 3].map((index) => ses.send(message(`r${index}@example.com`))));
    assert.ok(results.every((result) => result.ok));
    assert.deepEqual(clock.slept.map((ms) => ms.toFixed(3)), [(gap / 0.985).toFixed(3), (gap / 0.985).toFixed(3)], `rateLimit ${rateLimit}, account readable: ${account}`);
  }
});

test('a refusal about the sender or the account stops the send; only SES refusing the address itself is a bounce', async (t) => {
  const envelope = { from: 'news@example.com', to: ['ann@example.com'] };
  const error = (name: string, message: string, status = 400): SesError => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
  const stops: [SesError, RegExp][] = [
    [error('MessageRejected', 'Email address is not verified. The following identities failed the check in region US-EAST-1: news@example.com'), /not verified the sender news@example\.com/],
    [error('MessageRejected', 'Email address is not verified. The following identities failed the check in region US-EAST-1: example.com, ann@example.com'), /not verified the sender/],
    [error('AccountSuspendedException', 'Your account has been suspended.'), /will not send for this account/],
    [error('SendingPausedException', 'Sending is paused for this account.'), /will not send for this account/],
    [error('MessageRejected', 'Sending suspended for this account. For more information, please check the inbox of the email address associated with your AWS account.'), /will not send/],
    [error('MailFromDomainNotVerifiedException', 'MAIL FROM domain mail.example.com is not verified.'), /MAIL FROM/],
    [error('NotFoundException', 'Configuration set <herald-news> does not exist.', 404), /no such configuration set/],
    [error('UnrecognizedClientException', 'The security token included in the request is invalid.', 403), /credentials/],
    [error('CredentialsProviderError', 'Could not load credentials from any providers'), /credentials/],
  ];
  for (const [refused, message] of stops) assert.throws(() => classifySesError(refused, envelope), (thrown: unknown) => thrown instanceof HeraldError && thrown.code === 'E_SEND' && message.test(thrown.message), refused.message);

  const retried: SesError[] = [
    error('MessageRejected', 'Email address is not verified. The following identities failed the check in region EU-WEST-1: Ann@example.com'),
    error('MessageRejected', 'Message length is more than 10 megabytes.'),
    error('TooManyRequestsException', 'Too many requests.', 429),
    error('BadRequestException', 'Illegal header.'),
    error('InternalFailure', 'We encountered an internal error.', 500),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  ];
  for (const refused of retried) {
    const result = classifySesError(refused, envelope);
    assert.ok(!result.ok && !result.permanent, refused.message);
  }
  assert.match((classifySesError(retried[0]!, envelope) as { reason: string }).reason, /sandbox/);
  assert.deepEqual(classifySesError(error('MessageRejected', 'Address blacklisted.'), envelope), { ok: false, permanent: true, reason: 'MessageRejected: Address blacklisted.' });

  const proxy = await startProxy(t, (seen) => (seen.path === SEND_PATH ? refusal(400, 'MessageRejected', 'Email address is not verified. The following identities failed the check in region US-EAST-1: news@example.com') : undefined));
  await assert.rejects(transport(t, proxy.endpoint).send(message('ann@example.com')), (thrown: unknown) => thrown instanceof HeraldError && thrown.code === 'E_SEND' && /not verified the sender/.test(thrown.message));
  const unreachable = await transport(t, `http://127.0.0.1:${await closedPort()}`).send(message('ann@example.com'));
  assert.ok(!unreachable.ok && !unreachable.permanent, JSON.stringify(unreachable));
});

test('tags are cleaned to what SES allows', () => {
  assert.deepEqual(sesTags({ 'post slug': 'été/2026', ok: 'A-b_9', empty: '', [`long${'x'.repeat(300)}`]: 'v' }), [
    { Name: 'post_slug', Value: '_t__2026' },
    { Name: 'ok', Value: 'A-b_9' },
    { Name: `long${'x'.repeat(252)}`, Value: 'v' },
  ]);
});

test('an ses:// URL gives the region, credentials, configuration set, tags and endpoint', () => {
  assert.deepEqual(sesOptions(new URL('ses://eu-west-1')), { region: 'eu-west-1' });
  assert.deepEqual(sesOptions(new URL('ses://AKIA123:se%2Fcret@us-east-1?configurationSet=news&tag.source=herald&tag.list=weekly&endpoint=http://127.0.0.1:8005'), 5), {
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIA123', secretAccessKey: 'se/cret' },
    endpoint: 'http://127.0.0.1:8005',
    configurationSet: 'news',
    tags: { source: 'herald', list: 'weekly' },
    rateLimit: 5,
  });
  assert.throws(() => sesOptions(new URL('ses://email.example.com')), (error: unknown) => error instanceof HeraldError && error.problem.field === 'smtp.url' && /not an AWS region/.test(error.message));
});

test('herald run with smtp.url ses://REGION?endpoint=... sends each subscriber their message through SES, and keeps the SES message id for the bounces SES reports later', async (t) => {
  const { makeSite, post } = await import('../helpers.js');
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) });
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\nann@example.com,Ann,active,,,\nbob@example.com,Bob,active,,,\n');
  await fetch(`${emulator}/clear-store`, { method: 'POST' }).catch(() => undefined);
  const { main } = await import('../../src/cli.js');
  const url = `ses://test:test@us-east-1?endpoint=${encodeURIComponent(emulator)}&configurationSet=news`;
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { cwd: site.dir, env: { HERALD_SMTP_URL: url }, out: (line) => out.push(line), err: (line) => err.push(line) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  assert.equal((await run('run', '--now', '2026-03-01T00:00:00Z')).code, 0);
  await site.write('posts/new.md', post({ title: 'Through SES', date: '2026-03-02' }));
  const sent = await run('run', '--now', '2026-03-02T12:00:00Z');
  assert.equal(sent.code, 0, sent.err);
  assert.match(sent.out, /new: 2 sent, 0 failed, 0 bounced/);
  const store = (await (await fetch(`${emulator}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] };
  const through = store.emails.filter((email) => email.subject === 'Through SES');
  assert.deepEqual(through.map((email) => email.destination.to.join()).sort(), ['"Ann" <ann@example.com>', '"Bob" <bob@example.com>']);
  const audit = await run('audit', 'new');
  assert.match(audit.out, /^ann@example\.com\taccepted\tses-/m, 'the SES message id, which SES names in its bounce notifications');
});
