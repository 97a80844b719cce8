// Bench sections for what herald does with mail providers and a shared database; bench/run.js
// runs them only when named (`npm run bench ses webhooks senders`), as each takes minutes.
// ses: one post to 10,000 subscribers through herald's Amazon SES transport, against the local SES
// v2 emulator (aws-ses-v2-local) behind a recording proxy: is the account's MaxSendRate (50 a
// second) kept, over the whole send and in every second of it?
// webhooks: herald start taking 10,000 signed bounce events on POST /webhooks/bounce, 1,000 a
// second for 10 s, open loop: latency to the last byte, and every bounce applied.
// senders: one post to 100,000 subscribers on PostgreSQL, by one `herald run` and then by two at
// once sharing the list: the two together against one alone, and nobody mailed twice.
// Figures go to the terminal and to bench/work/results-<section>.json.
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chownSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'libsql';
import { BENCH_ENV, CLEAN_ENV, GNU_TIME, HERALD, HERALD_NODE_ARGS, machine, percentile, ROOT, thousands, WORK } from './common.js';
import pg from 'pg';

// The settings below are bench/run.js's own (it runs its sections when imported, so it exports
// nothing): herald from dist/, without NODE_EXTRA_CA_CERTS, with a fixed signing secret.
function report(name, value, target, ok, shown) {
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${shown}`);
  return { name, value, target, ok };
}

const under = (name, value, target, unit, digits = 0) => report(name, value, target, value < target, `${value.toFixed(digits)}${unit} (target < ${target}${unit})`);
const atMost = (name, value, target, unit = '') => report(name, value, target, value <= target, `${value}${unit} (target <= ${target}${unit})`);
const within = (name, value, [low, high], unit, digits) => report(name, value, [low, high], value >= low && value <= high, `${value.toFixed(digits)}${unit} (target ${low}-${high}${unit})`);
const exactly = (name, value, target) => report(name, value, target, value === target, `${thousands(value)} (target ${thousands(target)})`);

/**
 * Runs herald once from the project root without blocking this process (the ses section's proxy
 * answers herald from it): wall time in ms, peak RSS in KB and CPU time in ms from GNU time (NaN
 * without it), and its stdout. Every `every` ms it calls `tick(ms so far)`. Aborts on a non-zero exit.
 */
async function runHerald(args, env, { every = 10_000, tick } = {}) {
  const command = ['node', [...HERALD_NODE_ARGS, HERALD, ...args]];
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%M %U %S', command[0], ...command[1]]] : command;
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const child = spawn(file, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  const timer = tick && setInterval(() => tick(elapsed()), every);
  const status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  clearInterval(timer);
  const ms = elapsed();
  if (status !== 0) {
    console.error(`herald ${args.join(' ')} failed (exit ${status}):\n${stdout}\n${stderr}`);
    process.exit(1);
  }
  const [peakKb, user, system] = GNU_TIME ? stderr.trim().split('\n').pop().split(' ').map(Number) : [NaN, NaN, NaN];
  return { ms, peakKb, cpuMs: (user + system) * 1000, stdout };
}

/**
 * A site in `dir` with `count` active subscribers (imported as a list moving from another
 * service would be) and one old post, and its first `herald run`, which sets the baseline. The
 * post that `sendPost` drops in afterwards is the one mailed.
 */
async function siteWithSubscribers(dir, count, env) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'posts'), { recursive: true });
  writeFileSync(join(dir, 'posts', 'old.md'), '---\ntitle: Old\ndate: 2026-01-01\n---\n\nAlready published before herald came.\n');
  const config = join(dir, 'herald.config.yml');
  // No tick of `herald start` comes while a bench runs: the next is next New Year.
  writeFileSync(config, 'site:\n  title: Bench\n  url: https://example.com/\nschedule: "0 0 1 1 *"\n');
  const rows = ['email,name'];
  for (let i = 0; i < count; i++) rows.push(`reader${i}@example.com,Reader ${i}`);
  writeFileSync(join(dir, 'list.csv'), `${rows.join('\n')}\n`);
  // The import goes where the run's env says (HERALD_DATABASE_URL); no SMTP URL changes it.
  const imported = await runHerald(['--config', config, 'subscribers', 'import', join(dir, 'list.csv')], env);
  if (!imported.stdout.includes(`imported ${count},`)) fail(`herald subscribers import did not import ${count} subscribers:\n${imported.stdout}`);
  const first = await runHerald(['--config', config, 'run'], env);
  if (!first.stdout.includes('baseline set')) fail(`the first herald run should have set the baseline:\n${first.stdout}`);
  return config;
}

/** Drops a new post (a typical length, with links) into the site, and its `herald run` mails it. */
async function sendPost(config, count, env, watch) {
  writeNewPost(dirname(config), new Date());
  const run = await runHerald(['--config', config, 'run'], env, watch);
  if (!run.stdout.includes(`new: ${count} sent, 0 failed`)) fail(`herald run should have sent the new post to ${count} subscribers:\n${run.stdout}`);
  return run;
}

/** The new post, dated `date`: the same file in each copy of a site is the same post. */
function writeNewPost(dir, date) {
  writeFileSync(join(dir, 'posts', 'new.md'), `---\ntitle: A new post\ndate: ${date.toISOString()}\n---\n\n${'A paragraph of a typical post, with a [link](https://example.com/).\n\n'.repeat(30)}`);
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

/** A child process that a bench stopping early (process.exit) must not leave running. */
function owned(child) {
  const kill = () => child.kill();
  process.on('exit', kill);
  return () =>
    new Promise((resolve) => {
      process.off('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.on('exit', resolve);
      kill();
    });
}

const SEND_PATH = '/v2/email/outbound-emails';
const ACCOUNT_PATH = '/v2/email/account';

/** aws-ses-v2-local as its own process on a free loopback port; GetAccount answers with `quota`. */
async function startSesEmulator(quota) {
  // The emulator answers GetAccount with AWS_SES_ACCOUNT, which must have every field.
  const account = {
    DedicatedIpAutoWarmupEnabled: false,
    Details: { AdditionalContactEmailAddresses: [], ContactLanguage: 'EN', MailType: 'MARKETING', ReviewDetails: { CaseId: '1', Status: 'GRANTED' }, UseCaseDescription: 'bench', WebsiteURL: 'https://example.com' },
    EnforcementStatus: 'HEALTHY',
    ProductionAccessEnabled: true,
    SendingEnabled: true,
    SendQuota: quota,
    SuppressionAttributes: { SuppressedReasons: [] },
  };
  const cli = createRequire(import.meta.url).resolve('aws-ses-v2-local/dist/cli.js');
  const child = spawn(process.execPath, [cli, '--host', '127.0.0.1', '--port', '0'], { env: { ...CLEAN_ENV, AWS_SES_ACCOUNT: JSON.stringify(account) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = owned(child);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const port = /running at http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    child.once('exit', (code) => reject(new Error(`aws-ses-v2-local exited (${code}): ${out}`)));
  });
  child.stdout.resume();
  return { url, stop };
}

/**
 * A loopback HTTP proxy in front of the emulator that notes when each SendEmail request arrived
 * (performance.now(), its headers read), whom it was for and what the emulator answered.
 */
async function startRecordingProxy(target) {
  const sends = [];
  const seen = { account: 0, other: 0 };
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer(async (req, res) => {
    const at = performance.now();
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    let entry;
    if (req.url === SEND_PATH) {
      entry = { at, to: JSON.parse(raw.toString()).Destination?.ToAddresses?.join(','), status: 0 };
      sends.push(entry);
    } else if (req.url === ACCOUNT_PATH) seen.account++;
    else seen.other++;
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent }, (reply) => {
      if (entry) entry.status = reply.statusCode;
      res.writeHead(reply.statusCode, reply.headers);
      reply.pipe(res);
    });
    forward.on('error', (error) => res.writeHead(502).end(String(error)));
    forward.end(raw);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    sends,
    seen,
    stop: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The most requests in any 1 s window, over arrival times sorted ascending. A window is half-open,
 * [t, t + 1 s): at exactly 50 a second, requests 0 and 50 lie exactly 1 s apart, and a closed
 * window would count both. The busiest window can always be slid to start at a request, so
 * looking at the windows that start at each one is exact.
 */
function busiestSecond(times) {
  let best = { count: 0, from: 0 };
  let end = 0;
  const counts = [];
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && times[end] - times[start] < 1000) end++;
    counts.push(end - start);
    if (end - start > best.count) best = { count: end - start, from: start };
  }
  return { ...best, counts };
}

async function sesSection() {
  const COUNT = 10_000;
  const RATE = 50;
  const host = machine();
  const emulator = await startSesEmulator({ Max24HourSend: 1_000_000, MaxSendRate: RATE, SentLast24Hours: 0 });
  const proxy = await startRecordingProxy(emulator.url);
  let send;
  try {
    const env = { ...BENCH_ENV, HERALD_SMTP_URL: `ses://test:test@us-east-1?endpoint=${encodeURIComponent(proxy.endpoint)}` };
    const config = await siteWithSubscribers(join(WORK, 'ses'), COUNT, env);
    console.log(`ses: sending one post to ${thousands(COUNT)} subscribers through the SES emulator at ${RATE} a second (about ${Math.round(COUNT / RATE)} s) ...`);
    let before = 0;
    send = await sendPost(config, COUNT, env, {
      every: 20_000,
      tick: (ms) => {
        const sent = proxy.sends.length;
        console.log(`  ${(ms / 1000).toFixed(0)} s: ${thousands(sent)} SendEmail requests, ${((sent - before) / 20).toFixed(1)} a second in the last 20 s`);
        before = sent;
      },
    });
  } finally {
    await proxy.stop();
    await emulator.stop();
  }

  const sends = proxy.sends;
  const times = sends.map((entry) => entry.at).sort((a, b) => a - b);
  const recipients = new Set(sends.map((entry) => entry.to));
  const expected = Array.from({ length: COUNT }, (_, i) => `reader${i}@example.com`);
  const missing = expected.filter((address) => !recipients.has(address));
  const notOk = sends.filter((entry) => entry.status !== 200).length;
  const spanMs = times.at(-1) - times[0];
  const rate = (sends.length / spanMs) * 1000;
  const busiest = busiestSecond(times);
  const restMax = Math.max(...busiest.counts.slice(1));
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const firstGaps = gaps.slice(0, 5);

  console.log(`\nses: herald run, one post to ${thousands(COUNT)} subscribers through aws-ses-v2-local (MaxSendRate ${RATE}) behind a recording proxy`);
  const line = (label, value) => console.log(`${label.padEnd(52)}${value.padStart(30)}`);
  line('SendEmail requests (distinct recipients)', `${thousands(sends.length)} (${thousands(recipients.size)})`);
  line('answered other than 200 by the emulator', `${notOk}`);
  line('GetAccount calls', `${proxy.seen.account}`);
  line('first to last request', `${(spanMs / 1000).toFixed(2)} s`);
  line('overall rate, requests / (last - first)', `${rate.toFixed(3)} a second`);
  line('most in any 1 s window (from request #)', `${busiest.count} (#${busiest.from})`);
  line('most in the 1 s from the first request / any other', `${busiest.counts[0]} / ${restMax}`);
  line('gap between requests, min / p50 / p99 / max', `${[Math.min(...gaps), percentile(gaps, 50), percentile(gaps, 99), Math.max(...gaps)].map((ms) => ms.toFixed(1)).join(' / ')} ms`);
  line('first gaps', `${firstGaps.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  line('herald run (the send), wall time', `${(send.ms / 1000).toFixed(1)} s`);
  line("herald's CPU a message (user + system)", `${((send.cpuMs / COUNT) * 1000).toFixed(0)} µs`);
  line('herald peak memory (GNU time)', `${(send.peakKb / 1024).toFixed(0)} MB`);
  if (missing.length) console.log(`missing recipients: ${missing.length} (${missing.slice(0, 3).join(', ')}...)`);
  const verdicts = [
    report('SendEmail requests, one for each subscriber, each answered 200', sends.length, COUNT, sends.length === COUNT && recipients.size === COUNT && !missing.length && !notOk, `${thousands(sends.length)} to ${thousands(recipients.size)} addresses, ${missing.length} missing, ${notOk} not 200 (target ${thousands(COUNT)}, one each)`),
    within('overall rate', rate, [RATE * 0.98, RATE * 1.02], '/s', 3),
    atMost('most requests in any 1 s window', busiest.count, RATE),
  ];
  const result = {
    machine: host,
    subscribers: COUNT,
    maxSendRate: RATE,
    requests: sends.length,
    distinctRecipients: recipients.size,
    missing: missing.length,
    notOk,
    getAccountCalls: proxy.seen.account,
    spanMs,
    ratePerS: rate,
    busiestSecond: { count: busiest.count, fromRequest: busiest.from, fromFirst: busiest.counts[0], notFromFirst: restMax },
    gapsMs: { min: Math.min(...gaps), p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: Math.max(...gaps), first: firstGaps },
    herald: { ms: send.ms, cpuUsPerMessage: (send.cpuMs / COUNT) * 1000, peakMb: send.peakKb / 1024 },
    verdicts,
  };
  writeFileSync(join(WORK, 'results-ses.json'), `${JSON.stringify(result, null, 2)}\n`);
  // Each SendEmail's arrival (ms from the first), in order, to look at the busiest second.
  writeFileSync(join(WORK, 'ses', 'requests.json'), `${JSON.stringify(times.map((t) => Number((t - times[0]).toFixed(2))))}\n`);
}

/** User + system CPU time of a process so far, in ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Starts `herald start` on a free port with its output going to `log`; resolves once its first pass is done. */
async function startHerald(config, log, env) {
  const fd = openSync(log, 'w');
  const child = spawn('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'start', '--port', '0'], { cwd: dirname(config), env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const stop = owned(child);
  const started = Date.now();
  let text = '';
  while (!/next pass at/.test(text)) {
    if (child.exitCode !== null || Date.now() - started > 60_000) fail(`herald start did not come up:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    text = readFileSync(log, 'utf8');
  }
  return { port: Number(/serving http:\/\/\S+:(\d+)\//.exec(text)?.[1]), pid: child.pid, stop };
}

/** POSTs a body to herald: its status, what it answered, and the ms from the call to the last byte. */
function post({ port, path, body, headers, agent }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const request = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, answer: Buffer.concat(chunks).toString(), started, ms: performance.now() - started }));
    });
    request.on('error', (error) => resolve({ status: 0, answer: String(error), started, ms: performance.now() - started }));
    request.end(body);
  });
}

async function webhooksSection() {
  const COUNT = 10_000;
  const RATE = 1000;
  const SOCKETS = 50;
  const WARMUP = 200;
  const host = machine();
  const dir = join(WORK, 'webhooks');
  // The outbox (no HERALD_SMTP_URL): each message an .eml file, its Message-ID kept as the delivery's id.
  const config = await siteWithSubscribers(dir, COUNT, BENCH_ENV);
  const sent = await sendPost(config, COUNT, BENCH_ENV);
  console.log(`webhooks: the post went to ${thousands(COUNT)} subscribers' .eml files in ${(sent.ms / 1000).toFixed(1)} s`);
  const db = new Database(join(dir, '.herald', 'herald.db'), { readonly: true });
  // One post was ever mailed on this site, so every delivery is one of its messages.
  const ids = db.prepare('SELECT recipient, provider_id FROM deliveries').all();
  db.close();
  if (ids.length !== COUNT || ids.some((row) => !row.provider_id)) fail(`expected ${COUNT} deliveries with a Message-ID, found ${ids.length}`);
  const keys = await runHerald(['--config', config, 'webhooks'], BENCH_ENV);
  const key = /keyed with (\S+)\s*$/.exec(keys.stdout)?.[1] ?? fail(`herald webhooks printed no key:\n${keys.stdout}`);

  const signed = (event) => {
    const body = Buffer.from(JSON.stringify({ events: [event] }));
    return { body, headers: { 'x-herald-signature': `sha256=${createHmac('sha256', key).update(body).digest('hex')}` } };
  };
  // Every body and signature is made before the clock starts.
  const events = ids.map(({ recipient, provider_id: id }) => signed({ type: 'bounce', permanent: true, recipient, messageId: `<${id}>`, reason: '550 gone' }));
  // Warm-up, not counted: authentic events about messages herald never sent (answered 200, unmatched).
  const warmup = Array.from({ length: WARMUP }, (_, i) => signed({ type: 'bounce', permanent: true, recipient: `reader${i}@example.com`, messageId: `<warmup-${i}@example.com>`, reason: '550 gone' }));

  const log = join(dir, 'herald-start.log');
  const worker = await startHerald(config, log, BENCH_ENV);
  const agent = new Agent({ keepAlive: true, maxSockets: SOCKETS });
  const fire = (signedEvent) => post({ port: worker.port, path: '/webhooks/bounce', agent, ...signedEvent });
  let results;
  let lags;
  let heraldCpuMs;
  try {
    for (let i = 0; i < WARMUP; i += SOCKETS) await Promise.all(warmup.slice(i, i + SOCKETS).map(fire));
    console.log(`webhooks: ${thousands(COUNT)} bounce events at ${thousands(RATE)} a second to herald start, ${SOCKETS} keep-alive sockets, open loop ...`);
    // Open loop: event i is sent at t0 + i/RATE s whether or not the earlier ones were answered.
    const cpuBefore = cpuMs(worker.pid);
    const pending = [];
    lags = [];
    const t0 = performance.now() + 20;
    let next = 0;
    while (next < COUNT) {
      const now = performance.now();
      while (next < COUNT && t0 + (next * 1000) / RATE <= now) {
        lags.push(now - (t0 + (next * 1000) / RATE));
        pending.push(fire(events[next++]));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    results = await Promise.all(pending);
    heraldCpuMs = cpuMs(worker.pid) - cpuBefore;
  } finally {
    agent.destroy();
    await worker.stop();
  }

  const ms = results.map((result) => result.ms);
  const latency = { p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
  const firstStart = Math.min(...results.map((result) => result.started));
  const lastStart = Math.max(...results.map((result) => result.started));
  const lastEnd = Math.max(...results.map((result) => result.started + result.ms));
  const sentRate = ((COUNT - 1) / (lastStart - firstStart)) * 1000;
  const answeredRate = (COUNT / (lastEnd - firstStart)) * 1000;
  const notOk = results.filter((result) => result.status !== 200);
  // The seconds (from the first request) in which requests took 50 ms or more: a stall shows as a cluster.
  const slow = results.filter((result) => result.ms >= 50);
  const slowSeconds = [...new Set(slow.map((result) => Math.floor((result.started - firstStart) / 1000)))];
  const applied = results.reduce((sum, result) => sum + (result.status === 200 ? (JSON.parse(result.answer).applied ?? 0) : 0), 0);
  const listed = await runHerald(['--config', config, 'subscribers', 'list', '--status', 'bounced', '--json'], BENCH_ENV);
  const bounced = JSON.parse(listed.stdout).length;
  const logged = (readFileSync(log, 'utf8').match(/webhook bounce: \S+ bounced/g) ?? []).length;

  console.log(`\nwebhooks: herald start, POST /webhooks/bounce, one signed permanent bounce an event, ${thousands(COUNT)} events at ${thousands(RATE)} a second, ${SOCKETS} keep-alive sockets`);
  const line = (label, value) => console.log(`${label.padEnd(52)}${value.padStart(30)}`);
  line('latency to the last byte, p50 / p99 / max', `${latency.p50.toFixed(1)} / ${latency.p99.toFixed(1)} / ${latency.max.toFixed(1)} ms`);
  line('sent, a second (first to last request)', `${sentRate.toFixed(0)}`);
  line('answered, a second (first request to last answer)', `${answeredRate.toFixed(0)}`);
  line('requests of 50 ms or more (in seconds #)', `${thousands(slow.length)}${slow.length ? ` (${slowSeconds.join(', ')})` : ''}`);
  line("herald's CPU while loaded, an event / share of a core", `${((heraldCpuMs / COUNT) * 1000).toFixed(0)} µs / ${((heraldCpuMs / (lastEnd - firstStart)) * 100).toFixed(0)}%`);
  line("the bench's lateness sending, p99 / max", `${percentile(lags, 99).toFixed(1)} / ${Math.max(...lags).toFixed(1)} ms`);
  line('answers other than 200', `${notOk.length}${notOk.length ? ` (${[...new Set(notOk.map((result) => result.status))].join(', ')})` : ''}`);
  line('applied, by the answers / logged by herald', `${thousands(applied)} / ${thousands(logged)}`);
  line('bounced afterwards (herald subscribers list)', thousands(bounced));
  const verdicts = [under('webhook latency p99', latency.p99, 50, ' ms', 1), exactly('bounced afterwards, every event applied', bounced, COUNT)];
  const result = {
    machine: host,
    subscribers: COUNT,
    events: COUNT,
    ratePerS: RATE,
    sockets: SOCKETS,
    warmup: WARMUP,
    latencyMs: latency,
    sentPerS: sentRate,
    answeredPerS: answeredRate,
    slow: { count: slow.length, seconds: slowSeconds },
    heraldCpuUsPerEvent: (heraldCpuMs / COUNT) * 1000,
    clientLagMs: { p99: percentile(lags, 99), max: Math.max(...lags) },
    notOk: notOk.length,
    applied,
    logged,
    bounced,
    verdicts,
  };
  writeFileSync(join(WORK, 'results-webhooks.json'), `${JSON.stringify(result, null, 2)}\n`);
  // Each request's start (ms from the first) and latency, to see when the slow ones came.
  writeFileSync(join(dir, 'requests.json'), `${JSON.stringify(results.map((r) => [Number((r.started - firstStart).toFixed(1)), Number(r.ms.toFixed(2))]))}\n`);
}

/** User + system CPU of a process and all its children, live and reaped (Linux /proc), in ms. */
function treeCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime, stime, then cutime, cstime: the CPU of children it has waited for (exited backends).
    const own = ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) / 100;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    return own + children.reduce((sum, child) => sum + treeCpuMs(Number(child)), 0);
  } catch {
    return 0;
  }
}

/** A free port on loopback, as the OS hands one out. */
async function freePort() {
  const server = createTcpServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A PostgreSQL server of its own, as test/postgres.ts starts one: a new cluster in a temp folder
 * on a free loopback port, without fsync (durability is not what is measured, and the machine's
 * disk would be), run as the postgres user when this is root, as initdb refuses root.
 */
async function startPostgres() {
  const debian = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((version) => `/usr/lib/postgresql/${version}/bin`) : [];
  const bin = [...(process.env.PATH ?? '').split(':'), ...debian].find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!bin) fail('the senders section needs PostgreSQL (initdb and pg_ctl): apt-get install postgresql');
  const user = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : {};
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-pg-'));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const tool = (name, args) => execFileSync(join(bin, name), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...user });
  tool('initdb', ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--auth=trust']);
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all postgres 127.0.0.1/32 trust\n');
  const port = await freePort();
  tool('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, '-w', 'start']);
  const version = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim();
  // A bench stopping early (process.exit) must not leave the server running.
  const stop = () => {
    try {
      tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  const url = (database) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const sql = async (text) => {
    const client = new pg.Client(url('postgres'));
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    version,
    url,
    sql,
    /** The postmaster's pid: its CPU and its children's (backends, background workers) is the server's. */
    pid: Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    /** A new database holding a copy of `template`'s tables and rows. */
    async copy(template, name) {
      // The template's last sessions (a herald just ended) may take a moment to close.
      for (let tries = 0; ; tries++) {
        try {
          // Copied as files, with a checkpoint, now: the default (15+) writes the copy to the WAL,
          // which the server then works through while the next send is being measured.
          await sql(`CREATE DATABASE ${name} TEMPLATE ${template}${Number(version) >= 15 ? ' STRATEGY = FILE_COPY' : ''}`);
          await sql('CHECKPOINT');
          return url(name);
        } catch (error) {
          if (tries >= 50 || !/being accessed by other users/.test(error.message)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    stop: () => {
      process.off('exit', stop);
      stop();
    },
  };
}

/**
 * An SMTP sink on loopback in this process that counts each message by recipient (RCPT TO), so a
 * recipient mailed twice, by either sender, shows. Like bench/smtp-sink.js it speaks just enough
 * SMTP for nodemailer and never parses a message. Its CPU is this process's (`process.cpuUsage`).
 */
async function startRecipientSink() {
  let received = new Map();
  let messages = 0;
  const sockets = new Set();
  const END = Buffer.from('\r\n.\r\n');
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    let inData = false;
    let pending = Buffer.alloc(0);
    let recipients = [];
    const reply = (line) => socket.write(`${line}\r\n`);
    const command = (line) => {
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') reply('250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8');
      else if (verb === 'RCPT') {
        recipients.push(/<([^>]*)>/.exec(line)?.[1] ?? line.slice(8).trim());
        reply('250 OK');
      } else if (verb === 'MAIL' || verb === 'RSET') {
        recipients = [];
        reply('250 OK');
      } else if (verb === 'HELO' || verb === 'NOOP') reply('250 OK');
      else if (verb === 'DATA') {
        reply('354 go ahead');
        inData = true;
        pending = Buffer.from('\r\n');
      } else if (verb === 'QUIT') socket.end('221 bye\r\n');
      else reply('502 not here');
    };
    socket.on('data', (chunk) => {
      let buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (buffer.length) {
        if (inData) {
          const end = buffer.indexOf(END);
          if (end < 0) {
            pending = buffer.subarray(Math.max(0, buffer.length - (END.length - 1)));
            return;
          }
          messages++;
          for (const to of recipients) received.set(to, (received.get(to) ?? 0) + 1);
          recipients = [];
          inData = false;
          reply('250 OK: queued');
          buffer = buffer.subarray(end + END.length);
          continue;
        }
        const newline = buffer.indexOf(10);
        if (newline < 0) break;
        command(buffer.toString('latin1', 0, newline).replace(/\r$/, ''));
        buffer = buffer.subarray(newline + 1);
      }
      pending = Buffer.from(buffer);
    });
    socket.on('error', () => {});
    reply('220 sink ESMTP');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${server.address().port}`,
    /** What came since the last call: messages, and how many each recipient got. */
    take: () => {
      const taken = { messages, received };
      messages = 0;
      received = new Map();
      return taken;
    },
    stop: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** How many each sender reported sent and failed (`pass done: N sent, M failed, ...`). */
function passDone(stdout) {
  const [, sent, failed] = /pass done: (\d+) sent, (\d+) failed/.exec(stdout) ?? [, '0', '0'];
  return { sent: Number(sent), failed: Number(failed) };
}

async function sendersSection() {
  const COUNT = 100_000;
  const ROUNDS = 3;
  const host = machine();
  const server = await startPostgres();
  const sink = await startRecipientSink();
  const base = join(WORK, 'senders');
  const expected = Array.from({ length: COUNT }, (_, i) => `reader${i}@example.com`);
  const runs = { one: [], two: [] };
  try {
    await server.sql('CREATE DATABASE seed');
    const seedEnv = { ...BENCH_ENV, HERALD_SMTP_URL: sink.url, HERALD_DATABASE_URL: server.url('seed') };
    console.log(`senders: importing ${thousands(COUNT)} subscribers into PostgreSQL ${server.version} and setting the baseline ...`);
    const seedConfig = await siteWithSubscribers(join(base, 'seed'), COUNT, seedEnv);
    // Each sender has its own copy of the site, as on its own machine; they share the database.
    // Every copy gets the same new post (same file, same date): one post, due to everyone.
    const date = new Date();
    const site = (name) => {
      const dir = join(base, name);
      rmSync(dir, { recursive: true, force: true });
      cpSync(dirname(seedConfig), dir, { recursive: true });
      writeNewPost(dir, date);
      return join(dir, 'herald.config.yml');
    };
    const configs = { one: site('one'), a: site('sender-a'), b: site('sender-b') };
    // Each send starts from a copy of the seed database (the list, the baseline, nothing mailed).
    const measure = async (name, senders) => {
      const url = await server.copy('seed', name);
      const env = { ...BENCH_ENV, HERALD_SMTP_URL: sink.url, HERALD_DATABASE_URL: url };
      sink.take();
      const pgBefore = treeCpuMs(server.pid);
      const sinkBefore = process.cpuUsage();
      const started = performance.now();
      const done = await Promise.all(senders.map((config) => runHerald(['--config', config, 'run'], env)));
      const ms = performance.now() - started;
      // The backends end just after their herald; then the postmaster has reaped (and counted) them.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pgCpuMs = treeCpuMs(server.pid) - pgBefore;
      const sinkUsage = process.cpuUsage(sinkBefore);
      const { messages, received } = sink.take();
      const rows = await (async () => {
        const client = new pg.Client(url);
        await client.connect();
        try {
          return (await client.query(`SELECT count(*) FILTER (WHERE state = 'sent') AS sent, count(*) FILTER (WHERE state <> 'sent') AS other, count(*) FILTER (WHERE claimed_by IS NOT NULL) AS claimed FROM deliveries`)).rows[0];
        } finally {
          await client.end();
        }
      })();
      await server.sql(`DROP DATABASE ${name}`);
      const reported = done.map((run) => passDone(run.stdout));
      const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
      const missing = expected.filter((address) => !received.has(address)).length;
      const run = {
        senders: senders.length,
        ms,
        msgPerS: (COUNT / ms) * 1000,
        messages,
        distinct: received.size,
        duplicates,
        missing,
        reported,
        database: { sent: Number(rows.sent), other: Number(rows.other), claimed: Number(rows.claimed) },
        cpuMs: { herald: done.map((one) => one.cpuMs), postgres: pgCpuMs, sink: (sinkUsage.user + sinkUsage.system) / 1000 },
        heraldMs: done.map((one) => one.ms),
        peakMb: done.map((one) => one.peakKb / 1024),
      };
      run.cpuMs.total = run.cpuMs.herald.reduce((sum, cpu) => sum + cpu, 0) + run.cpuMs.postgres + run.cpuMs.sink;
      const shares = reported.map((one) => thousands(one.sent)).join(' + ');
      console.log(`  ${senders.length === 1 ? 'one sender ' : 'two senders'}: ${(ms / 1000).toFixed(1)} s, ${run.msgPerS.toFixed(0)} msg/s, sent ${shares}; the sink got ${thousands(messages)} messages for ${thousands(received.size)} addresses, ${duplicates} twice or more, ${missing} missing; CPU herald ${run.cpuMs.herald.map((cpu) => (cpu / 1000).toFixed(1)).join(' + ')} s, postgres ${(pgCpuMs / 1000).toFixed(1)} s, sink ${(run.cpuMs.sink / 1000).toFixed(1)} s`);
      return run;
    };
    console.log(`senders: one post to ${thousands(COUNT)} subscribers, one herald run alone, then two at once on a copy of the same database, ${ROUNDS} times (about ${ROUNDS * 4} minutes on 2 cores) ...`);
    for (let round = 0; round < ROUNDS; round++) {
      runs.one.push(await measure(`one_${round}`, [configs.one]));
      runs.two.push(await measure(`two_${round}`, [configs.a, configs.b]));
    }
  } finally {
    await sink.stop();
    server.stop();
  }

  const middle = (list) => [...list].sort((a, b) => a.ms - b.ms)[Math.floor(list.length / 2)];
  const one = middle(runs.one);
  const two = middle(runs.two);
  const ratio = two.msgPerS / one.msgPerS;
  const all = [...runs.one, ...runs.two];
  const duplicates = Math.max(...all.map((run) => run.duplicates));
  const wrong = all.filter((run) => run.missing || run.messages !== COUNT || run.database.sent !== COUNT || run.database.other || run.database.claimed || run.reported.reduce((sum, r) => sum + r.sent, 0) !== COUNT || run.reported.some((r) => r.failed));
  const cores = host.cores;
  // If two senders cost what one does a message, the cores bound them: all the CPU one sender's
  // send takes (herald, PostgreSQL, the sink), spread over every core, is the fastest it can go.
  const ceiling = (cores * one.ms) / one.cpuMs.total;
  const busy = (run) => run.cpuMs.total / (cores * run.ms);
  const perMessage = (run) => (run.cpuMs.total / COUNT) * 1000;

  console.log(`\nsenders: herald run, one post to ${thousands(COUNT)} subscribers on PostgreSQL ${server.version} (5 SMTP connections each) to a loopback sink, median of ${ROUNDS} by wall time`);
  const line = (label, value) => console.log(`${label.padEnd(52)}${value.padStart(40)}`);
  line('one sender: wall time, msg/s', `${(one.ms / 1000).toFixed(1)} s, ${one.msgPerS.toFixed(0)}`);
  line('two senders at once: wall time, msg/s combined', `${(two.ms / 1000).toFixed(1)} s, ${two.msgPerS.toFixed(0)}`);
  line('  each sender: messages, wall time', two.reported.map((r, i) => `${thousands(r.sent)} in ${(two.heraldMs[i] / 1000).toFixed(1)} s`).join(', '));
  line('all runs, one / two (s)', `${runs.one.map((run) => (run.ms / 1000).toFixed(1)).join(' ')} / ${runs.two.map((run) => (run.ms / 1000).toFixed(1)).join(' ')}`);
  line('CPU, one: herald / postgres / sink (s)', `${(one.cpuMs.herald[0] / 1000).toFixed(1)} / ${(one.cpuMs.postgres / 1000).toFixed(1)} / ${(one.cpuMs.sink / 1000).toFixed(1)}`);
  line('CPU, two: herald / postgres / sink (s)', `${two.cpuMs.herald.map((cpu) => (cpu / 1000).toFixed(1)).join(' + ')} / ${(two.cpuMs.postgres / 1000).toFixed(1)} / ${(two.cpuMs.sink / 1000).toFixed(1)}`);
  line('CPU a message, all processes, one / two', `${perMessage(one).toFixed(0)} / ${perMessage(two).toFixed(0)} µs`);
  line(`cores busy (of ${cores}), one / two`, `${(busy(one) * 100).toFixed(0)}% / ${(busy(two) * 100).toFixed(0)}%`);
  line('ceiling: cores x one wall / one CPU', `${ceiling.toFixed(2)}x`);
  line('herald peak memory, one / two (GNU time)', `${one.peakMb[0].toFixed(0)} / ${two.peakMb.map((m) => m.toFixed(0)).join(', ')} MB`);
  if (wrong.length) console.log(`runs where the sink, herald or the database disagree: ${wrong.length}`);
  const verdicts = [
    report('two senders at once vs one', ratio, 1.6, ratio >= 1.6, `${ratio.toFixed(2)}x (target >= 1.6x; the cores allow ${ceiling.toFixed(2)}x)`),
    report('recipients mailed more than once, in any run', duplicates, 0, duplicates === 0, `${duplicates} (target 0)`),
    report('every run: each subscriber mailed, recorded sent, no claim left', wrong.length, 0, !wrong.length, `${all.length - wrong.length} of ${all.length} runs`),
  ];
  const result = { machine: host, postgres: server.version, subscribers: COUNT, rounds: ROUNDS, one, two, ratio, ceiling, runs, verdicts };
  writeFileSync(join(WORK, 'results-senders.json'), `${JSON.stringify(result, null, 2)}\n`);
}

export const PROVIDER_SECTIONS = { ses: sesSection, webhooks: webhooksSection, senders: sendersSection };
