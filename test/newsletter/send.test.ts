import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { closedPort, makeSite, post, type Site } from '../helpers.js';
import { smtpError, startSmtpSink, type Sink } from '../smtp.js';

const CONFIG = (extra = '') => `site:
  title: Test News
  url: https://news.example.com/
email:
  from: "Test News <news@example.com>"
  replyTo: editor@example.com
${extra}`;

function subscribersCsv(rows: [email: string, status?: string, topics?: string][]): string {
  return `email,name,status,topics,created_at,updated_at\n${rows.map(([email, status = 'active', topics = '']) => `${email},Reader ${email.split('@')[0]},${status},"${topics}",,`).join('\n')}\n`;
}

async function siteWithSink(t: import('node:test').TestContext, sink: Sink, posts: Record<string, string>, subscribers: [string, string?, string?][], extraConfig = '') {
  const site = await makeSite(t, posts, CONFIG(extraConfig));
  await site.write('subscribers/subscribers.csv', subscribersCsv(subscribers));
  const run = (...args: string[]) => site.run(...args);
  return { site, run, env: { HERALD_SMTP_URL: sink.url, HERALD_RETRY_BACKOFF_MS: '20' } };
}

// site.run passes env {}: these helpers run with the sink's URL in the environment.
async function herald(site: Site, env: Record<string, string>, ...args: string[]) {
  const { main } = await import('../../src/cli.js');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { cwd: site.dir, env, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('each subscriber gets their own message with every header a mail provider wants', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'hello.md': post({ title: 'Hello & welcome', date: '2026-03-01', summary: 'A summary.', body: '![pic](pic.png)\n\nBody text.\n' }) }, [['ann@example.com'], ['bob@example.com'], ['gone@example.com', 'unsubscribed'], ['new@example.com', 'pending']]);
  const result = await herald(site, env, 'send', 'hello');
  assert.equal(result.code, 0, result.err);
  assert.equal(sink.received.length, 2);
  const ids = new Set<string>();
  for (const { to, greeting, mail, raw } of sink.received) {
    assert.equal(to.length, 1, 'one recipient per message');
    assert.equal(greeting, 'example.com', "EHLO names the sending domain, not an IP literal");
    assert.equal(mail.to && !Array.isArray(mail.to) ? mail.to.value.length : 0, 1);
    assert.equal(mail.from?.text, '"Test News" <news@example.com>');
    assert.equal(mail.replyTo?.text, 'editor@example.com');
    assert.equal(mail.subject, 'Hello & welcome');
    assert.ok(mail.date instanceof Date);
    assert.match(mail.messageId ?? '', /^<[0-9a-f]{32}@news\.example\.com>$/);
    ids.add(mail.messageId!);
    const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
    const unsubscribe = { url: /^List-Unsubscribe: <([^>]+)>$/m.exec(unfolded)?.[1] ?? '' };
    assert.match(unsubscribe.url, /^https:\/\/news\.example\.com\/unsubscribe\?token=[\w-]+\.[\w-]+$/);
    assert.match(unfolded, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    assert.match(unfolded, /^List-ID: "Test News" <newsletter\.news\.example\.com>\r?$/m);
    assert.match(unfolded, /^Content-Type: multipart\/alternative;/m);
    assert.match(mail.html || '', /src="https:\/\/news\.example\.com\/hello\/pic\.png"/);
    assert.match(mail.html || '', new RegExp(`href="${unsubscribe.url.replace(/[?.]/g, '\\$&')}"`));
    assert.match(mail.text ?? '', /Unsubscribe: https:\/\/news\.example\.com\/unsubscribe\?token=/);
  }
  assert.equal(ids.size, 2, 'a Message-ID per recipient');
  assert.deepEqual(sink.received.map((r) => r.to[0]).sort(), ['ann@example.com', 'bob@example.com']);

  const again = await herald(site, env, 'send', 'hello');
  assert.match(again.out, /0 sent, 0 failed, 0 bounced, 2 already had it/);
  assert.equal(sink.received.length, 2);
});

test('smtp.name is the EHLO name; a bad one is a config error naming it', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'hello.md': post({ title: 'Hello', date: '2026-03-01' }) }, [['ann@example.com']], 'smtp:\n  name: mail.news.example.com\n');
  const result = await herald(site, env, 'send', 'hello');
  assert.equal(result.code, 0, result.err);
  assert.equal(sink.received[0]!.greeting, 'mail.news.example.com');
  await site.write('herald.config.yml', CONFIG('smtp:\n  name: "[127.0.0.1]"\n'));
  const bad = await herald(site, env, 'check');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /herald\.config\.yml:\d+: "smtp\.name" must be a host name such as mail\.example\.com/);
});

test('a 4xx reply is retried; a 5xx reply bounces that address and the rest go on', async (t) => {
  const sink = await startSmtpSink({
    reply: (to, attempt) => {
      if (to === 'busy@example.com' && attempt < 3) return smtpError(451, 'Try again later');
      if (to === 'nobody@example.com') return smtpError(550, 'No such user');
      return undefined;
    },
  });
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'P' }) }, [['busy@example.com'], ['nobody@example.com'], ['fine@example.com']]);
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /p: 2 sent, 0 failed, 1 bounced/);
  assert.match(result.err, /bounced nobody@example\.com: 550 No such user/);
  assert.deepEqual(sink.received.map((r) => r.to[0]).sort(), ['busy@example.com', 'fine@example.com']);
  const list = JSON.parse((await herald(site, env, 'subscribers', 'list', '--json')).out) as { email: string; status: string }[];
  assert.equal(list.find((row) => row.email === 'nobody@example.com')?.status, 'bounced');
});

test('an address outside ASCII goes only to a server that announced SMTPUTF8; to another it bounces, and the rest go on', async (t) => {
  const plain = await startSmtpSink({ hideSmtpUtf8: true });
  t.after(() => plain.close());
  const { site, env } = await siteWithSink(t, plain, { 'p.md': post({ title: 'Utf8' }) }, [['ann@example.com'], ['jörg@example.com']]);
  const result = await herald(site, env, 'send', 'p');
  assert.match(result.out, /1 sent, 0 failed, 1 bounced/);
  assert.match(result.out + result.err, /jörg@example\.com.*not in ASCII.*SMTPUTF8/);
  assert.deepEqual(plain.received.map((r) => r.to[0]), ['ann@example.com']);

  const utf8 = await startSmtpSink();
  t.after(() => utf8.close());
  const { site: other, env: otherEnv } = await siteWithSink(t, utf8, { 'p.md': post({ title: 'Utf8' }) }, [['ann@example.com'], ['jörg@example.com']]);
  const sent = await herald(other, otherEnv, 'send', 'p');
  assert.match(sent.out, /2 sent, 0 failed, 0 bounced/);
  assert.deepEqual(utf8.received.map((r) => r.to[0]).sort(), ['ann@example.com', 'jörg@example.com']);
});

test('a relay that refuses every recipient for a reason about the sender bounces nobody, and the send stops itself', async (t) => {
  const sink = await startSmtpSink({ reply: () => smtpError(554, '5.7.1 Relay access denied') });
  t.after(() => sink.close());
  const readers = Array.from({ length: 120 }, (_, i): [string] => [`r${i}@example.com`]);
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'P' }) }, readers);
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 1);
  assert.match(result.out, /p: 0 sent, \d+ failed, 0 bounced/);
  assert.match(result.err, /the send stopped early: 50 messages in a row were refused \(last: 554 5\.7\.1 Relay access denied\)/);
  const list = JSON.parse((await herald(site, env, 'subscribers', 'list', '--json')).out) as { status: string }[];
  assert.ok(list.every((row) => row.status === 'active'), 'nobody was marked bounced');
});

test('an address that keeps failing with 4xx is left due and the pass exits 1', async (t) => {
  const sink = await startSmtpSink({ reply: (to) => (to === 'full@example.com' ? smtpError(452, 'Mailbox full') : undefined) });
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'P' }) }, [['full@example.com'], ['ok@example.com']]);
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 1);
  assert.match(result.out, /1 sent, 1 failed/);
  assert.match(result.err, /failed full@example\.com: 452 Mailbox full/);
  const retry = await herald(site, env, 'send', 'p', '--dry-run');
  assert.match(retry.out, /^full@example\.com$/m);
  assert.doesNotMatch(retry.out, /^ok@example\.com$/m);
});

test('a server that drops the connection is retried on a new one', async (t) => {
  const sink = await startSmtpSink({ dropFirst: 2 });
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'P' }) }, [['a@example.com'], ['b@example.com']]);
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 0, result.err + result.out);
  assert.deepEqual(sink.received.map((r) => r.to[0]).sort(), ['a@example.com', 'b@example.com']);
});

test('the first run records a baseline and mails nothing; later posts go out once, same-day posts too', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'old.md': post({ title: 'Old', date: '2026-03-01' }) }, [['a@example.com']]);
  const first = await herald(site, env, 'run', '--now', '2026-03-05T09:00:00Z');
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /first run: baseline set/);
  assert.equal(sink.received.length, 0);

  await site.write('posts/today.md', post({ title: 'Today', date: '2026-03-05' }));
  await site.write('posts/later.md', post({ title: 'Later', date: '2026-03-05 12:00' }));
  const second = await herald(site, env, 'run', '--now', '2026-03-05T10:00:00Z');
  assert.equal(second.code, 0, second.err);
  assert.deepEqual(sink.received.map((r) => r.mail.subject), ['Today'], 'the same-day post goes out; the future one waits');

  const third = await herald(site, env, 'run', '--now', '2026-03-05T12:00:00Z');
  assert.equal(third.code, 0);
  assert.deepEqual(sink.received.map((r) => r.mail.subject), ['Today', 'Later']);

  // Editing or renaming a sent post never sends it again.
  await site.write('posts/today.md', post({ title: 'Today', date: '2026-03-05', body: 'Edited body.\n' }));
  const { rename } = await import('node:fs/promises');
  await rename(join(site.dir, 'posts/later.md'), join(site.dir, 'posts/2026-03-05-later-renamed.md'));
  const fourth = await herald(site, env, 'run', '--now', '2026-03-06T00:00:00Z');
  assert.match(fourth.out, /nothing due/);
  assert.equal(sink.received.length, 2);
  // By hand, an old post can still be sent.
  await herald(site, env, 'send', 'old');
  assert.equal(sink.received.length, 3);
});

test('topic filters: a subscriber with topics gets only posts sharing one', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'w.md': post({ title: 'Work post', topics: ['Work'] }), 'l.md': post({ title: 'Life post', topics: 'life' }) }, [['all@example.com'], ['work@example.com', 'active', 'work'], ['books@example.com', 'active', 'books']]);
  await herald(site, env, 'send', 'w');
  await herald(site, env, 'send', 'l');
  const got = (address: string) => sink.received.filter((r) => r.to[0] === address).map((r) => r.mail.subject).sort();
  assert.deepEqual(got('all@example.com'), ['Life post', 'Work post']);
  assert.deepEqual(got('work@example.com'), ['Work post']);
  assert.deepEqual(got('books@example.com'), []);
});

test('digest mode puts every post due in one pass into one email', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, {}, [['a@example.com'], ['w@example.com', 'active', 'work']], 'email_mode: digest\n'.replace('email_mode: digest\n', ''));
  await site.write('herald.config.yml', `${CONFIG().replace('  replyTo: editor@example.com\n', '  replyTo: editor@example.com\n  mode: digest\n')}`);
  await herald(site, env, 'run', '--now', '2026-03-01T00:00:00Z');
  await site.write('posts/one.md', post({ title: 'One', date: '2026-03-02 08:00', topics: 'work' }));
  await site.write('posts/two.md', post({ title: 'Two', date: '2026-03-02 09:00', topics: 'life' }));
  const result = await herald(site, env, 'run', '--now', '2026-03-02T10:00:00Z');
  assert.equal(result.code, 0, result.err);
  const forA = sink.received.filter((r) => r.to[0] === 'a@example.com');
  assert.equal(forA.length, 1);
  assert.equal(forA[0]!.mail.subject, 'Test News: One and 1 more');
  const forW = sink.received.filter((r) => r.to[0] === 'w@example.com');
  assert.equal(forW.length, 1);
  assert.equal(forW[0]!.mail.subject, 'One', 'a topic subscriber gets only the posts they follow');
});

const DKIM_CONFIG = (domain = 'example.com') => `smtp:\n  dkim:\n    domain: ${domain}\n    selector: herald\n    privateKey: dkim.pem\n`;

test('DKIM: every message is signed, over SMTP and in the outbox, List-Unsubscribe and List-Unsubscribe-Post included, and an independent verifier passes it', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // More readers than connections, so connections are reused, each message composed from one draft.
  const readers = Array.from({ length: 12 }, (_, i): [string] => [`reader${i}@example.com`]);
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'Pé & signed' }) }, readers, `${DKIM_CONFIG()}  maxConnections: 3\n`);
  await site.write('dkim.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 0, result.err);
  assert.equal(sink.received.length, readers.length);
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const record = `v=DKIM1; k=rsa; p=${(publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64')}`;
  const verify = async (raw: string) => {
    const signature = /^DKIM-Signature:([\s\S]*?)\r?\n(?=\S)/m.exec(raw)?.[1]?.replace(/\s+/g, '') ?? '';
    const signed = /;h=([^;]+)/.exec(signature)?.[1]?.toLowerCase().split(':') ?? [];
    assert.ok(signed.includes('list-unsubscribe'), signature);
    assert.ok(signed.includes('list-unsubscribe-post'), signature);
    const verdict = await dkimVerify(Buffer.from(raw), { resolver: async (name: string) => (name === 'herald._domainkey.example.com' ? [[record]] : []) });
    assert.equal(verdict.results[0]?.status?.result, 'pass', JSON.stringify(verdict.results[0]?.status));
  };
  for (const { raw } of sink.received) await verify(raw);
  // The outbox writes each message as it would be sent: signed too.
  const resent = await herald(site, {}, 'send', 'p', '--resend');
  assert.equal(resent.code, 0, resent.err);
  const files = await readdir(join(site.dir, 'outbox'));
  assert.equal(files.length, readers.length);
  for (const file of files) await verify(await site.read(`outbox/${file}`));
});

test("a template that filters a reader's name is rendered for each reader: over SMTP, each message has its own reader's words, signed", async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'Per reader' }) }, [['ann@example.com'], ['bob@example.com'], ['cy@example.com']], `${DKIM_CONFIG()}  maxConnections: 2\n`);
  await site.write('dkim.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  await site.write('templates/email.txt', 'Hello {{ subscriber.name | upcase }}{% if subscriber.email contains "bob" %}, Bob{% endif %}.\nUnsubscribe: {{ unsubscribe_url }}\n');
  await site.write('templates/email.html', '<p>Hello {{ subscriber.name | downcase }}</p><a href="/prefs?e={{ subscriber.email }}">Preferences</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a>');
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 0, result.err);
  assert.match(result.err + result.out, /renders this email again for each reader/);
  assert.equal(sink.received.length, 3);
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const record = `v=DKIM1; k=rsa; p=${(publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64')}`;
  for (const { to, mail, raw } of sink.received) {
    const name = `Reader ${to[0]!.split('@')[0]}`;
    assert.equal(mail.text, `Hello ${name.toUpperCase()}${to[0] === 'bob@example.com' ? ', Bob' : ''}.\nUnsubscribe: ${/^List-Unsubscribe: <([^>]+)>/m.exec(raw.replace(/\r?\n[ \t]+/g, ' '))?.[1]}\n`);
    assert.match(mail.html || '', new RegExp(`<p>Hello ${name.toLowerCase()}</p><a href="https://news\\.example\\.com/prefs\\?e=${to[0]!.replace('.', '\\.')}">`));
    assert.doesNotMatch(raw, /=EE=80=80|%EE%80/i, 'no placeholder left in what was sent');
    const verdict = await dkimVerify(Buffer.from(raw), { resolver: async (host: string) => (host === 'herald._domainkey.example.com' ? [[record]] : []) });
    assert.equal(verdict.results[0]?.status?.result, 'pass', JSON.stringify(verdict.results[0]?.status));
  }
});

test('DKIM: a key that cannot sign is an error naming smtp.dkim.privateKey in check, and run or send mails nothing', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'P' }) }, [['a@example.com']], DKIM_CONFIG());
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { privateKey: edKey } = generateKeyPairSync('ed25519');
  const cases: [string, string, RegExp][] = [
    ['garbage', 'not a key at all\n', /not a PEM private key/],
    ['a public key', publicKey.export({ type: 'spki', format: 'pem' }) as string, /this is a public key/],
    ['an ed25519 key', edKey.export({ type: 'pkcs8', format: 'pem' }) as string, /a ed25519 key; herald signs with RSA/],
  ];
  for (const [what, pem, message] of cases) {
    await site.write('dkim.pem', pem);
    const check = await herald(site, env, 'check');
    assert.equal(check.code, 1, what);
    assert.match(check.err, /smtp\.dkim\.privateKey/, what);
    assert.match(check.err, message, what);
    for (const args of [['send', 'p'], ['send', 'p', '--to', 'me@example.com'], ['run']]) {
      const sent = await herald(site, env, ...args);
      assert.equal(sent.code, 1, `${what}: ${args.join(' ')}`);
      assert.match(sent.err, /smtp\.dkim\.privateKey/);
    }
  }
  assert.equal(sink.received.length, 0, 'nothing unsigned ever left');
  await site.write('dkim.pem', 'missing');
  await (await import('node:fs/promises')).rm(join(site.dir, 'dkim.pem'));
  assert.match((await herald(site, env, 'check')).err, /smtp\.dkim\.privateKey .*cannot read the file: ENOENT/);
});

test('DKIM: check signs a test message with the key, and warns when the DKIM domain is not aligned with From', async (t) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  for (const [domain, warns] of [['example.com', false], ['mail.example.com', false], ['other.org', true]] as const) {
    const site = await makeSite(t, { 'p.md': post() }, CONFIG(DKIM_CONFIG(domain)));
    await site.write('dkim.pem', pem);
    const check = await site.run('check');
    assert.equal(check.code, 0, check.err);
    if (warns) assert.match(check.err, /warning: smtp\.dkim\.domain \(other\.org\) is not aligned with the From address's domain \(example\.com\)/);
    else assert.doesNotMatch(check.err, /not aligned/);
  }
});

test('with no SMTP configured, messages are written to the outbox as .eml files', async (t) => {
  const site = await makeSite(t, { 'p.md': post({ title: 'Outbox post' }) }, CONFIG());
  await site.write('subscribers/subscribers.csv', subscribersCsv([['a@example.com'], ['b@example.com']]));
  const result = await site.run('send', 'p');
  assert.equal(result.code, 0, result.err);
  const files = (await readdir(join(site.dir, 'outbox'))).sort();
  assert.equal(files.length, 2);
  assert.match(files[0]!, /a@example\.com\.eml$/);
  assert.match(await site.read(`outbox/${files[0]}`), /^Subject: Outbox post$/m);
});

test('SIGKILL in the middle of a send, then a rerun: everyone gets the post, nobody twice (but in-flight)', async (t) => {
  const sink = await startSmtpSink({ parse: false });
  t.after(() => sink.close());
  const subscribers = Array.from({ length: 1500 }, (_, i): [string] => [`reader${i}@example.com`]);
  const { site } = await siteWithSink(t, sink, { 'p.md': post({ title: 'Big send' }) }, subscribers);
  const env = { ...process.env, HERALD_SMTP_URL: sink.url, HERALD_RETRY_BACKOFF_MS: '20' };
  const { spawn } = await import('node:child_process');
  const { BUILT_CLI } = await import('../helpers.js');
  const child = spawn(process.execPath, [BUILT_CLI, 'send', 'p'], { cwd: site.dir, env, stdio: 'ignore' });
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (sink.received.length >= 400) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 2);
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const atKill = sink.received.length;
  assert.ok(atKill < 1500, `killed part-way (${atKill} sent)`);

  const rerun = await new Promise<number>((resolve) => {
    spawn(process.execPath, [BUILT_CLI, 'send', 'p'], { cwd: site.dir, env, stdio: 'ignore' }).on('exit', (code) => resolve(code ?? 1));
  });
  assert.equal(rerun, 0);
  const counts = new Map<string, number>();
  for (const { to } of sink.received) counts.set(to[0]!, (counts.get(to[0]!) ?? 0) + 1);
  assert.equal(counts.size, 1500, 'every subscriber got the post');
  const twice = [...counts.values()].filter((count) => count > 1).length;
  // Sent but not yet in the delivery log: at most 32 messages are (pass.ts). 2 to 13 in runs of this test.
  assert.ok(twice <= 32, `${twice} got it twice: only messages sent but not yet recorded at the kill may repeat`);
  assert.ok([...counts.values()].every((count) => count <= 2));
});

test('Ctrl-C in the middle of a send stops it cleanly: messages in flight are recorded, and the rerun sends nobody twice', async (t) => {
  const sink = await startSmtpSink({ parse: false, delayMs: 5 });
  t.after(() => sink.close());
  const subscribers = Array.from({ length: 800 }, (_, i): [string] => [`reader${i}@example.com`]);
  const { site } = await siteWithSink(t, sink, { 'p.md': post({ title: 'Big send' }) }, subscribers);
  const env = { ...process.env, HERALD_SMTP_URL: sink.url, HERALD_RETRY_BACKOFF_MS: '20' };
  const { spawn } = await import('node:child_process');
  const { BUILT_CLI } = await import('../helpers.js');
  const child = spawn(process.execPath, [BUILT_CLI, 'send', 'p'], { cwd: site.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (data) => (err += data));
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (sink.received.length >= 150) {
        clearInterval(poll);
        child.kill('SIGINT');
        resolve();
      }
    }, 2);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, err);
  assert.match(err, /SIGINT: stopping; messages in flight finish/);
  assert.match(err, /the send stopped early: herald was asked to stop/);
  assert.ok(sink.received.length < 800, `stopped part-way (${sink.received.length})`);
  const rerun = await new Promise<number>((resolve) => spawn(process.execPath, [BUILT_CLI, 'send', 'p'], { cwd: site.dir, env, stdio: 'ignore' }).on('exit', (exit) => resolve(exit ?? 1)));
  assert.equal(rerun, 0);
  const counts = new Map<string, number>();
  for (const { to } of sink.received) counts.set(to[0]!, (counts.get(to[0]!) ?? 0) + 1);
  assert.equal(counts.size, 800);
  assert.deepEqual([...counts.values()].filter((count) => count > 1), [], 'nobody twice');
});

test('the lock of a herald that is gone is taken over at once', async (t) => {
  const site = await makeSite(t, { 'p.md': post({ title: 'P' }) }, CONFIG());
  const { spawnSync } = await import('node:child_process');
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const { openSqliteStore } = await import('../../src/adapters/store/sqlite.js');
  const store = openSqliteStore(join(site.dir, '.herald/herald.db'));
  const { default: Database } = await import('libsql');
  const db = new Database(join(site.dir, '.herald/herald.db'));
  const { hostname } = await import('node:os');
  db.prepare('INSERT OR REPLACE INTO locks (name, owner, host, pid, expires) VALUES (?, ?, ?, ?, ?)').run('send', 'old', hostname(), Number(gone.stdout), Date.now() + 60_000);
  db.close();
  await store.close();
  const result = await site.run('send', 'p');
  assert.equal(result.code, 0, result.err);
});

test('two herald sends at once: the second is refused while the first holds the lock', async (t) => {
  const site = await makeSite(t, { 'p.md': post({ title: 'P' }) }, CONFIG());
  const { openSqliteStore } = await import('../../src/adapters/store/sqlite.js');
  const store = openSqliteStore(join(site.dir, '.herald/herald.db'));
  t.after(() => store.close());
  const release = await store.lock.acquire();
  const refused = await site.run('send', 'p');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /another herald \(pid \d+\) is sending right now/);
  await release();
  assert.equal((await site.run('send', 'p')).code, 0);
});

test('status shows the baseline and, per post, sent at, due, or sending n of m', async (t) => {
  const sink = await startSmtpSink({ reply: (to) => (to === 'later@example.com' ? smtpError(451, 'Later') : undefined) });
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'old.md': post({ title: 'Old', date: '2026-03-01' }) }, [['a@example.com'], ['later@example.com']]);
  const before = await herald(site, env, 'status', '--now', '2026-03-05T09:00:00Z');
  assert.match(before.out, /^newsletter baseline: not set yet/m);
  await herald(site, env, 'run', '--now', '2026-03-05T09:00:00Z');
  await site.write('posts/new.md', post({ title: 'New', date: '2026-03-05 10:00' }));
  const due = await herald(site, env, 'status', '--now', '2026-03-05T11:00:00Z');
  assert.match(due.out, /^newsletter baseline: 2026-03-05 09:00$/m);
  assert.match(due.out, /posts\/new\.md  New  \[due: 2 recipients\]$/m);
  assert.match(due.out, /posts\/old\.md  Old  \[before the baseline: not mailed\]$/m);
  const pass = await herald(site, env, 'run', '--now', '2026-03-05T11:00:00Z');
  assert.equal(pass.code, 1);
  assert.match(pass.out, /1 sent, 1 failed, 1 post still due/);
  const sending = await herald(site, env, 'status', '--now', '2026-03-05T11:00:00Z', '--json');
  const row = JSON.parse(sending.out).posts.find((p: { slug: string }) => p.slug === 'new');
  const { returns, ...mail } = row.mail;
  assert.deepEqual(mail, { state: 'sending', delivered: 1, recipients: 2 });
  assert.deepEqual(returns, { accepted: 1, delivered: 0, bounced: 0, softBounced: 0, complained: 0, bounceRate: 0, complaintRate: 0 });
  const text = await herald(site, env, 'status', '--now', '2026-03-05T11:00:00Z');
  assert.match(text.out, /posts\/new\.md  New  \[sending: 1 of 2: 1 accepted, 0 bounced \(0%\), 0 complained \(0%\)\]$/m);
});

test('an unreadable row of the old subscriber list is reported by line when the list moves into the database', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'p.md': post({ title: 'P' }) }, [['a@example.com'], ['not an address'], ['b@example.com']]);
  const result = await herald(site, env, 'send', 'p');
  assert.equal(result.code, 0, result.err);
  assert.match(result.err, /moved the subscriber list into \.herald\/herald\.db: 2 subscribers from subscribers\/subscribers\.csv \(1 unreadable rows stay in the CSV only/);
  assert.match(result.err, /^subscribers\/subscribers\.csv:3: "not an address" is not an email address/m);
  assert.equal(sink.received.length, 2);
  const again = await herald(site, env, 'send', 'p');
  assert.doesNotMatch(again.err, /moved the subscriber list/, 'brought in once');
});

test('a refused connection is retried, then the post is left due and the pass exits 1', async (t) => {
  const port = await closedPort();
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-03-01' }) }, CONFIG());
  await site.write('subscribers/subscribers.csv', subscribersCsv([['a@example.com']]));
  const env = { HERALD_SMTP_URL: `smtp://127.0.0.1:${port}`, HERALD_RETRY_BACKOFF_MS: '10' };
  await herald(site, env, 'run', '--now', '2026-03-05T09:00:00Z');
  await site.write('posts/new.md', post({ title: 'New', date: '2026-03-05 10:00' }));
  const result = await herald(site, env, 'run', '--now', '2026-03-05T11:00:00Z');
  assert.equal(result.code, 1);
  assert.match(result.out, /0 sent, 1 failed, 1 post still due/);
  assert.match(result.err, /failed a@example\.com: .*ECONNREFUSED/);
  const status = JSON.parse((await herald(site, env, 'status', '--json', '--now', '2026-03-05T11:00:00Z')).out);
  assert.equal(status.posts.find((p: { slug: string }) => p.slug === 'new').mail.state, 'due');
});

test('audit lists, for one post, everyone it was due to and where each stands; exit 1 while someone is owed it; --resume sends to exactly them', async (t) => {
  let refuse = true;
  const sink = await startSmtpSink({ reply: (to) => (to === 'later@example.com' && refuse ? smtpError(451, 'Later') : to === 'gone@example.com' ? smtpError(550, 'No such user') : undefined) });
  t.after(() => sink.close());
  const { site, env } = await siteWithSink(t, sink, { 'old.md': post({ title: 'Old', date: '2026-03-01' }) }, [['a@example.com'], ['later@example.com'], ['gone@example.com'], ['left@example.com']]);
  await herald(site, env, 'run', '--now', '2026-03-05T09:00:00Z');
  await site.write('posts/new.md', post({ title: 'New', date: '2026-03-05 10:00' }));
  assert.match((await herald(site, env, 'audit', 'new')).err, /new was never sent: there is nothing to audit/);
  await herald(site, env, 'subscribers', 'remove', 'left@example.com');
  await herald(site, env, 'run', '--now', '2026-03-05T11:00:00Z');
  const audit = await herald(site, env, 'audit', 'new');
  assert.equal(audit.code, 1);
  assert.match(audit.out, /^a@example\.com\taccepted\t[0-9a-f]{32}@news\.example\.com$/m);
  assert.match(audit.out, /^gone@example\.com\trefused \(bounced\)\t550 No such user/m);
  assert.match(audit.out, /^later@example\.com\tqueued\t451 Later/m);
  assert.doesNotMatch(audit.out, /left@example\.com/, 'someone who left before the send was never due');
  assert.match(audit.err, /new: due to 3: 1 accepted, 1 refused \(bounced\), 1 queued/);
  assert.match(audit.err, /1 still owed the post/);

  // Someone who joined since is not added by --resume: it sends to exactly those owed the post.
  await herald(site, env, 'subscribers', 'add', 'newcomer@example.com');
  refuse = false;
  const before = sink.received.length;
  const resumed = await herald(site, env, 'audit', 'new', '--resume', '--json');
  assert.equal(resumed.code, 0, resumed.err);
  assert.deepEqual(sink.received.slice(before).map((message) => message.to[0]), ['later@example.com']);
  const entries = resumed.out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  assert.deepEqual(entries.map((entry) => [entry.recipient, entry.state, entry.explained]), [
    ['a@example.com', 'sent', true],
    ['gone@example.com', 'bounced', true],
    ['later@example.com', 'sent', true],
  ]);
  assert.match(resumed.err, /everyone due was accepted by the provider or is explained/);
});
