import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openApp } from '../src/app.js';
import { doctorCommand } from '../src/commands/doctor.js';
import { parseConfig, type Config } from '../src/config.js';
import { diagnose, dnsResolver, type Check, type DoctorReport } from '../src/doctor.js';
import { HeraldError } from '../src/errors.js';
import { createWebServer } from '../src/web/server.js';
import { startDnsServer, type Zone } from './dns.js';
import { closedPort } from './helpers.js';

// The sending server smtp.url names, and its one address.
const SMTP_HOST = 'mail.example.com';
const SMTP_IP = '203.0.113.5';

/** A DKIM public key as DNS publishes it (SPKI, base64), and its private key as PEM. */
function dkimKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, p: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

interface Setup {
  /** Changes to the correct zone. */
  zone?: (zone: Zone) => void;
  /** Top-level config keys that replace the correct setup's. */
  config?: Record<string, unknown>;
  /** smtp.dkim.domain; its key is published there. */
  dkimDomain?: string;
  /** What answers the POST to https://example.com/unsubscribe (default: 400, as herald does). */
  web?: (t: TestContext, config: Config, dir: string) => Promise<string>;
}

/** A newsletter set up as a provider wants it, changed by `setup`, and its diagnosis. */
async function diagnoseSetup(t: TestContext, setup: Setup = {}): Promise<{ report: DoctorReport; check: (name: string) => Check; config: Config; dns: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-doctor-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = dkimKey();
  await writeFile(join(dir, 'dkim.pem'), key.pem);
  const dkimDomain = setup.dkimDomain ?? 'example.com';
  const zone: Zone = {
    'example.com': { TXT: [`v=spf1 a:${SMTP_HOST} -all`, 'google-site-verification=abc'] },
    [SMTP_HOST]: { A: [SMTP_IP] },
    [`herald._domainkey.${dkimDomain}`]: { TXT: [`v=DKIM1; k=rsa; p=${key.p}`] },
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com'] },
  };
  setup.zone?.(zone);
  const server = await startDnsServer(zone);
  t.after(() => server.close());
  const config = parseConfig(
    {
      site: { title: 'Test site', url: 'https://example.com/' },
      email: { from: 'Test site <news@example.com>' },
      smtp: { url: `smtp://${SMTP_HOST}:587`, dkim: { domain: dkimDomain, selector: 'herald', privateKey: 'dkim.pem' } },
      ...setup.config,
    },
    join(dir, 'herald.config.yml'),
    dir,
  );
  const base = await (setup.web ?? answering(400))(t, config, dir);
  // Every request goes to the loopback server instead of the host it names.
  const local: typeof fetch = (url, init) => fetch(String(url).replace(/^https?:\/\/[^/]+\//, `${base}/`), init);
  const report = await diagnose(config, { resolver: dnsResolver([server.address]), fetch: local, timeoutMs: 2000 });
  const check = (name: string) => report.checks.find((check) => check.name === name) ?? assert.fail(`no ${name} check in ${JSON.stringify(report.checks)}`);
  return { report, check, config, dns: server.address };
}

/** A web server that answers every request with `status`. */
function answering(status: number) {
  return async (t: TestContext): Promise<string> => {
    const server = createServer((_request, response) => response.writeHead(status, { 'Content-Type': 'text/html' }).end('<p>answer</p>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
}

/** herald start's real web side. */
async function herald(t: TestContext, config: Config, dir: string): Promise<string> {
  const app = await openApp(config, { cwd: dir, env: { HERALD_SECRET: 'a-doctor-test-secret-long-enough-0123456789' }, clock: { now: () => new Date() } });
  t.after(() => app.close());
  const server = createWebServer({ config, cwd: dir, newsletter: app.newsletter });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const assertStatus = (check: Check, status: Check['status'], detail: RegExp, fix?: RegExp) => {
  assert.equal(check.status, status, JSON.stringify(check));
  assert.match(check.detail, detail);
  if (fix) assert.match(check.fix ?? '', fix);
};

test('a newsletter set up as providers want it passes every check, herald start answering the one-click POST', async (t) => {
  const { report, check } = await diagnoseSetup(t, { web: herald });
  assert.deepEqual(
    report.checks.map(({ name, status }) => [name, status]),
    [['SPF', 'ok'], ['DKIM', 'ok'], ['DMARC', 'ok'], ['alignment', 'ok'], ['HTTPS', 'ok'], ['one-click unsubscribe', 'ok']],
    JSON.stringify(report.checks, null, 1),
  );
  assert.match(check('SPF').detail, /lets mail\.example\.com \(203\.0\.113\.5\) send/);
  assert.match(check('one-click unsubscribe').detail, /answered 400/);
});

test('a From domain DNS does not know (or a resolver that knows none: no network) is one problem saying so, not a list of records to add', async (t) => {
  const { report, check } = await diagnoseSetup(t, { zone: (zone) => delete zone['example.com'] });
  assertStatus(check('domain'), 'problem', /example\.com, the domain of email\.from, does not exist in DNS \(NXDOMAIN\)/, /check the DNS server \(--dns\) or the network/);
  assert.deepEqual(report.checks.map((entry) => entry.name), ['domain', 'HTTPS', 'one-click unsubscribe']);
});

test('SPF: a missing record is a problem whose fix is a record naming the sending address', async (t) => {
  const { check } = await diagnoseSetup(t, { zone: (zone) => (zone['example.com'] = { TXT: ['google-site-verification=abc'] }) });
  assertStatus(check('SPF'), 'problem', /no SPF record at example\.com/, /TXT record at example\.com such as "v=spf1 ip4:203\.0\.113\.5 -all"/);
});

test('SPF: a record that does not list the sending server is a problem naming its address', async (t) => {
  const { check } = await diagnoseSetup(t, { zone: (zone) => (zone['example.com'] = { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] }) });
  assertStatus(check('SPF'), 'problem', /does not let smtp\.url's host mail\.example\.com send: 203\.0\.113\.5 is fail/, /add ip4:203\.0\.113\.5 to the record at example\.com/);
});

test('SPF: a broken record, and one that lets anyone send, are named', async (t) => {
  const broken = await diagnoseSetup(t, { zone: (zone) => (zone['example.com'] = { TXT: ['v=spf1 include:nowhere.example.com -all'] }) });
  assertStatus(broken.check('SPF'), 'problem', /is broken: .*no SPF records found for nowhere\.example\.com/);
  const open = await diagnoseSetup(t, { zone: (zone) => (zone['example.com'] = { TXT: ['v=spf1 +all'] }) });
  assertStatus(open.check('SPF'), 'warning', /lets any server send as example\.com/, /-all/);
});

test('SPF: a sending host that does not resolve leaves a warning saying only the record was checked', async (t) => {
  const { check } = await diagnoseSetup(t, { zone: (zone) => delete zone[SMTP_HOST] });
  assertStatus(check('SPF'), 'warning', /has an SPF record.*mail\.example\.com did not resolve \(A: ENOTFOUND, AAAA: ENOTFOUND\), so whether it may send was not checked/);
});

test('SPF: with email.bounces, the return path domain is the one tested against the sending server', async (t) => {
  const { check } = await diagnoseSetup(t, { config: { email: { from: 'Test site <news@example.com>', bounces: 'bounces@bounce.example.com' } } });
  assertStatus(check('SPF'), 'ok', /receivers check the return path's domain \(bounce\.example\.com\)/);
  assertStatus(check('SPF (return path)'), 'problem', /no SPF record at bounce\.example\.com/);
  assert.equal(check('alignment').status, 'ok', 'bounce.example.com is under example.com');
});

test('DKIM: a published key that is not the private key\'s is a problem whose fix is the right record', async (t) => {
  const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const { check } = await diagnoseSetup(t, { zone: (zone) => (zone['herald._domainkey.example.com'] = { TXT: [`v=DKIM1; k=rsa; p=${other}`] }) });
  const dkim = check('DKIM');
  assertStatus(dkim, 'problem', /the key at herald\._domainkey\.example\.com is not the public key of smtp\.dkim\.privateKey/);
  assert.match(dkim.fix!, /^publish "v=DKIM1; k=rsa; p=MI[\w+/=]+" at herald\._domainkey\.example\.com/);
  assert.ok(!dkim.fix!.includes(other));
});

test('DKIM: no record is a problem; no smtp.dkim a warning that Gmail and Yahoo require it', async (t) => {
  const missing = await diagnoseSetup(t, { zone: (zone) => delete zone['herald._domainkey.example.com'] });
  assertStatus(missing.check('DKIM'), 'problem', /no DKIM key at herald\._domainkey\.example\.com/, /add a TXT record at herald\._domainkey\.example\.com: "v=DKIM1; k=rsa; p=/);
  const unsigned = await diagnoseSetup(t, { config: { smtp: { url: `smtp://${SMTP_HOST}:587` } } });
  assertStatus(unsigned.check('DKIM'), 'warning', /smtp\.dkim is not set.*Gmail and Yahoo require DKIM/, /set smtp\.dkim/);
});

test('DMARC: none is a problem, p=none a warning, and a subdomain falls back to the organisation\'s record', async (t) => {
  const none = await diagnoseSetup(t, { zone: (zone) => delete zone['_dmarc.example.com'] });
  assertStatus(none.check('DMARC'), 'problem', /no DMARC record at _dmarc\.example\.com: Gmail and Yahoo require one/, /TXT record at _dmarc\.example\.com: "v=DMARC1; p=none/);
  const monitoring = await diagnoseSetup(t, { zone: (zone) => (zone['_dmarc.example.com'] = { TXT: ['v=DMARC1; p=none'] }) });
  assertStatus(monitoring.check('DMARC'), 'warning', /is p=none/, /set p=quarantine/);
  const subdomain = await diagnoseSetup(t, {
    config: { email: { from: 'news@letters.example.com' } },
    zone: (zone) => {
      zone['letters.example.com'] = { TXT: [`v=spf1 ip4:${SMTP_IP} -all`] };
      zone['_dmarc.example.com'] = { TXT: ['v=DMARC1; p=reject; sp=none'] };
    },
  });
  assertStatus(subdomain.check('DMARC'), 'warning', /^_dmarc\.example\.com: .* is sp=none/, /set sp=quarantine/);
});

test('alignment: a DKIM domain of another organisation is a warning while SPF aligns, a problem when nothing does', async (t) => {
  const { check } = await diagnoseSetup(t, { dkimDomain: 'mailer.example.net' });
  assert.equal(check('DKIM').status, 'ok', 'the key itself is published right');
  assertStatus(check('alignment'), 'warning', /smtp\.dkim\.domain \(mailer\.example\.net\) is not aligned with the From address's domain \(example\.com\)/, /sign with example\.com/);
  const neither = await diagnoseSetup(t, {
    dkimDomain: 'mailer.example.net',
    config: { email: { from: 'news@example.com', bounces: 'bounces@example.org' } },
    zone: (zone) => (zone['example.org'] = { TXT: [`v=spf1 ip4:${SMTP_IP} -all`] }),
  });
  assertStatus(neither.check('alignment'), 'problem', /DMARC fails for every message/);
});

test('HTTPS: an http site.url is a warning that names the one-click unsubscribe link too', async (t) => {
  const { check } = await diagnoseSetup(t, { config: { site: { title: 'Test site', url: 'http://example.com/' } } });
  assertStatus(check('HTTPS'), 'warning', /site\.url is http:\/\/example\.com\/.*one-click unsubscribe .* needs an HTTPS link/, /serve site\.url over HTTPS/);
});

test('one-click unsubscribe: a 404 (a static host) or no server at all is a problem saying herald start is not there', async (t) => {
  const staticHost = await diagnoseSetup(t, { web: answering(404) });
  assertStatus(staticHost.check('one-click unsubscribe'), 'problem', /POST https:\/\/example\.com\/unsubscribe\?token=invalid answered 404: .*static host/, /run herald start behind https:\/\/example\.com\//);
  const port = await closedPort();
  const nothing = await diagnoseSetup(t, { web: async () => `http://127.0.0.1:${port}` });
  assertStatus(nothing.check('one-click unsubscribe'), 'problem', /failed \(ECONNREFUSED\): nothing answers there/);
});

test('herald doctor prints a line per check with its fix, asks the --dns server, and exits 1 on a problem', async (t) => {
  const port = await closedPort();
  const { config, dns } = await diagnoseSetup(t, { config: { web: { url: `http://127.0.0.1:${port}/` } } });
  const out: string[] = [];
  const io = { cwd: tmpdir(), env: {}, out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
  const context = { config, now: new Date(), clock: { now: () => new Date() }, io };
  assert.equal(await doctorCommand(context, { dns }), 1);
  assert.match(out[0]!, /^ok {6}SPF: the SPF record at example\.com/);
  assert.ok(out.some((line) => /^problem one-click unsubscribe: POST http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=invalid failed \(ECONNREFUSED\).*; fix: run herald start/.test(line)), out.join('\n'));
  assert.equal(out.at(-1), '6 checks: 1 problem, 1 warning');
  await assert.rejects(doctorCommand(context, { dns: 'not-a-server' }), (error: HeraldError) => error.code === 'E_USAGE' && /--dns/.test(error.message));
});

test('a DNS server that refuses to answer makes problems that say so, not a crash', async (t) => {
  const { config } = await diagnoseSetup(t);
  const { checks } = await diagnose(config, { resolver: dnsResolver([`127.0.0.1:${await closedPort()}`]), fetch: async () => new Response(null, { status: 400 }) });
  const byName = new Map(checks.map((check) => [check.name, check]));
  assertStatus(byName.get('SPF')!, 'problem', /could not be evaluated: .*ECONNREFUSED/, /check the DNS server \(--dns\)/);
  assertStatus(byName.get('DKIM')!, 'problem', /DNS did not answer for herald\._domainkey\.example\.com \(ECONNREFUSED\)/);
  assertStatus(byName.get('DMARC')!, 'problem', /DNS did not answer for _dmarc\.example\.com/);
});
