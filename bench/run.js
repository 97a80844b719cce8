// npm run bench [section...]: herald's speed and memory against its peers, side by side in one run.
// Sections: feeds (herald build vs Hugo on 10,000 posts), email (herald send vs a plain nodemailer
// loop), http (herald start serving feeds), latency (new post file -> first email). No argument runs
// them all. Figures go to the terminal and to bench/work/results-<section>.json; the README quotes them.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION, generateCorpus } from './gen-corpus.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const WORK = join(ROOT, 'bench', 'work');
const HERALD = join(ROOT, 'dist', 'cli.js');
const RUNS = 7;
const POSTS = 10_000;
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
// NODE_EXTRA_CA_CERTS makes every Node process parse the whole CA bundle before running a line:
// 36 ms per start on the sandbox this bench was written on, which sets it for its registry proxy.
// A writer's machine does not, and a feed build makes no TLS connection, so herald's timed runs go
// without it; when it is set, the feeds section also times herald with it, and prints both.
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'));

/**
 * Runs a command once from the project root: wall time in ms and peak RSS in KB (GNU time's %M,
 * the last line of stderr; NaN without GNU time). Prints the output and aborts on a non-zero exit.
 */
function runTimed(command, args, { env = process.env } = {}) {
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%M', command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const child = spawnSync(file, argv, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (${child.error?.message ?? `exit ${child.status ?? child.signal}`}):\n${child.stdout ?? ''}\n${child.stderr ?? ''}`);
    process.exit(1);
  }
  const peakKb = GNU_TIME ? Number(child.stderr.trim().split('\n').pop()) : NaN;
  return { ms, peakKb };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const toMb = (kb) => kb / 1024;
const mb = (value) => (Number.isNaN(value) ? 'n/a' : value.toFixed(0));

function summarize(label, samples) {
  const ms = samples.map((s) => s.ms);
  return { label, runs: ms.length, medianMs: median(ms), minMs: Math.min(...ms), peakMb: toMb(Math.max(...samples.map((s) => s.peakKb))) };
}

function printTable(rows) {
  console.log(`${'command'.padEnd(34)}${'median ms'.padStart(11)}${'min ms'.padStart(9)}${'peak MB'.padStart(9)}`);
  for (const row of rows) {
    console.log(`${row.label.padEnd(34)}${row.medianMs.toFixed(0).padStart(11)}${row.minMs.toFixed(0).padStart(9)}${mb(row.peakMb).padStart(9)}`);
  }
}

function verdict(name, value, target, unit = 'x') {
  if (Number.isNaN(value)) {
    console.log(`n/a   ${name}: not measured (target <= ${target}${unit})`);
    return { name, value: null, target, ok: null };
  }
  const ok = value <= target;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${value.toFixed(unit === 'x' ? 3 : 0)}${unit} (target <= ${target}${unit})`);
  return { name, value, target, ok };
}

function atLeast(name, value, target) {
  const ok = value >= target;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${value.toFixed(3)}x (target >= ${target}x)`);
  return { name, value, target, ok };
}

function countItems(xml) {
  return (xml.match(/<item>/g) ?? []).length;
}

/** Writes the feeds corpus to bench/work/posts unless the same generator already wrote it there. */
function ensureCorpus(posts) {
  const marker = join(WORK, 'corpus.json');
  const wanted = JSON.stringify({ generator: GENERATOR_VERSION, posts: POSTS });
  const current = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
  const files = existsSync(posts) ? readdirSync(posts).filter((name) => name.endsWith('.md')).length : 0;
  if (current === wanted && files === POSTS) return;
  console.log(`generating ${POSTS} posts in ${posts} ...`);
  rmSync(marker, { force: true });
  rmSync(posts, { recursive: true, force: true });
  generateCorpus(POSTS, posts);
  writeFileSync(marker, wanted);
}

/** Makes path a symlink to target (relative to path's folder), replacing whatever was there. */
function linkDir(target, path) {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat?.isSymbolicLink() && existsSync(path)) return;
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, 'dir');
}

function feeds() {
  const posts = join(WORK, 'posts');
  ensureCorpus(posts);

  // Hugo builds only an RSS feed of the newest 20 posts with full content, from the same files
  // (content/posts is a symlink to bench/work/posts; Hugo follows it).
  const hugoSite = join(WORK, 'hugo');
  linkDir(join('..', '..', 'posts'), join(hugoSite, 'content', 'posts'));
  mkdirSync(join(hugoSite, 'layouts', '_default'), { recursive: true });
  writeFileSync(join(hugoSite, 'hugo.toml'), [
    'baseURL = "https://example.com/"',
    'title = "Bench"',
    // Without "section", Hugo also writes posts/index.xml, a second copy of the feed.
    'disableKinds = ["taxonomy", "term", "section", "sitemap", "robotsTXT", "404"]',
    '[outputs]',
    'home = ["RSS"]',
    'section = []',
    'page = []',
    '[services.rss]',
    'limit = 20',
  ].join('\n'));
  writeFileSync(join(hugoSite, 'layouts', '_default', 'rss.xml'),
    '<rss version="2.0"><channel><title>{{ .Site.Title }}</title><link>{{ .Permalink }}</link>' +
    '{{ range first 20 (where .Site.RegularPages "Section" "posts").ByDate.Reverse }}' +
    '<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link><guid>{{ .Permalink }}</guid>' +
    '<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" }}</pubDate>' +
    '<description>{{ .Content | html }}</description></item>{{ end }}</channel></rss>\n');
  const config = join(WORK, 'herald.config.yml');
  // Paths are relative to the config file. Hugo here writes the RSS feed only, so herald writes its
  // feeds only too: without `pages: false` it would also render an HTML page for each of the posts.
  writeFileSync(config, 'site:\n  title: Bench\n  url: https://example.com/\nposts: posts\noutput: public\nstate: .herald\npages: false\n');

  const hugoOut = join(WORK, 'hugo-public');
  const hasHugo = spawnSync('hugo', ['version'], { encoding: 'utf8' }).status === 0;
  if (!hasHugo) console.log('hugo is not on PATH, so there is nothing to compare with: install it (Debian: apt-get install -y hugo). Timing herald alone.');
  const hugoBuild = () => {
    rmSync(hugoOut, { recursive: true, force: true });
    return runTimed('hugo', ['--quiet', '-s', hugoSite, '-d', hugoOut]);
  };
  const heraldFull = (env = CLEAN_ENV) => {
    rmSync(join(WORK, '.herald'), { recursive: true, force: true });
    rmSync(join(WORK, 'public'), { recursive: true, force: true });
    return runTimed('node', [HERALD, '--config', config, 'build'], { env });
  };
  const heraldRebuild = (env = CLEAN_ENV) => runTimed('node', [HERALD, '--config', config, 'build'], { env });

  // One untimed round first, so every contender meets a warm file cache; it also checks that both
  // wrote a feed of 20 items. (In the timed rounds, each full build warms the following rebuild.)
  const expectItems = (file, who) => {
    const items = existsSync(file) ? countItems(readFileSync(file, 'utf8')) : 0;
    if (items !== 20) {
      console.error(`${who} wrote ${items} items to ${file}, not 20`);
      process.exit(1);
    }
  };
  if (hasHugo) {
    hugoBuild();
    expectItems(join(hugoOut, 'index.xml'), 'hugo');
  }
  heraldFull();
  expectItems(join(WORK, 'public', 'rss.xml'), 'herald');
  heraldRebuild();

  // The least any no-change check must do: start Node, list the posts and stat each one.
  const statFloor = () => runTimed('node', [join(ROOT, 'bench', 'stat-floor.js'), posts], { env: CLEAN_ENV });
  // The least a first build must do with the libraries herald is built on: read and parse every front matter.
  const parseFloor = () => runTimed('node', [join(ROOT, 'bench', 'parse-floor.js'), posts], { env: CLEAN_ENV });

  const samples = { hugo: [], full: [], rebuild: [], floor: [], parseFloor: [] };
  for (let i = 0; i < RUNS; i++) {
    if (hasHugo) samples.hugo.push(hugoBuild());
    samples.full.push(heraldFull());
    samples.rebuild.push(heraldRebuild());
    samples.floor.push(statFloor());
    samples.parseFloor.push(parseFloor());
  }
  const rows = [
    ...(hasHugo ? [summarize('hugo (RSS, newest 20, full)', samples.hugo)] : []),
    summarize('herald build (full, no cache)', samples.full),
    summarize('herald build (no post changed)', samples.rebuild),
  ];
  const floors = [summarize('node: stat every post, nothing else', samples.floor), summarize('node: gray-matter every post, no more', samples.parseFloor)];
  console.log(`\nfeeds: ${POSTS} posts, median of ${RUNS} interleaved runs (node ${process.version})`);
  printTable([...rows, ...floors]);
  if (hasHugo) {
    const [statOnly, parseOnly] = floors.map((row) => (row.medianMs / rows[0].medianMs).toFixed(3));
    console.log(`(the last two rows are floors for a Node tool: ${statOnly}x of Hugo under any no-change check, ${parseOnly}x under a first build on gray-matter and js-yaml, one thread)`);
  }
  let withCaCerts;
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const extra = { full: [], rebuild: [] };
    for (let i = 0; i < RUNS; i++) {
      extra.full.push(heraldFull(process.env));
      extra.rebuild.push(heraldRebuild(process.env));
    }
    withCaCerts = [summarize('herald build (full), CA env set', extra.full), summarize('herald build (no change), CA env', extra.rebuild)];
    console.log(`\nthis machine sets NODE_EXTRA_CA_CERTS; herald again with it (not part of the verdicts):`);
    printTable(withCaCerts);
  }
  const [hugo, full, rebuild] = hasHugo ? rows : [undefined, ...rows];
  const verdicts = [
    ...(hugo ? [verdict('full build vs Hugo', full.medianMs / hugo.medianMs, 0.5), verdict('no-change rebuild vs Hugo', rebuild.medianMs / hugo.medianMs, 0.1)] : []),
    verdict('peak memory, herald builds', Math.max(full.peakMb, rebuild.peakMb), 150, ' MB'),
  ];
  writeFileSync(join(WORK, 'results-feeds.json'), `${JSON.stringify({ posts: POSTS, runs: RUNS, node: process.version, rows, floors, withCaCerts, verdicts }, null, 2)}\n`);
}

/** Starts bench/smtp-sink.js; resolves to its URL and a way to stop it. */
async function startSink() {
  const { spawn } = await import('node:child_process');
  const child = spawn('node', [join(ROOT, 'bench', 'smtp-sink.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let waiting;
  child.stdout.on('data', (data) => {
    lines.push(...String(data).trim().split('\n'));
    waiting?.();
  });
  const nextLine = async () => {
    while (!lines.length) await new Promise((resolve) => (waiting = resolve));
    return lines.shift();
  };
  const port = Number(await nextLine());
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: async () => {
      child.stdin.write('count\n');
      return Number((await nextLine()).replace('count ', ''));
    },
    stop: () => child.kill(),
  };
}

function writeSubscribers(dir, count) {
  mkdirSync(dir, { recursive: true });
  const rows = ['email,name,status,topics,created_at,updated_at'];
  for (let i = 0; i < count; i++) rows.push(`reader${i}@example.com,Reader ${i},active,,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z`);
  writeFileSync(join(dir, 'subscribers.csv'), `${rows.join('\n')}\n`);
}

async function email() {
  const CONNECTIONS = 5;
  const site = join(WORK, 'email');
  rmSync(site, { recursive: true, force: true });
  mkdirSync(join(site, 'posts'), { recursive: true });
  writeFileSync(join(site, 'posts', 'post.md'), `---\ntitle: A post\ndate: 2026-01-01\n---\n\n${'A paragraph of a typical post, with a [link](https://example.com/).\n\n'.repeat(30)}`);
  writeFileSync(join(site, 'herald.config.yml'), `site:\n  title: Bench\n  url: https://example.com/\nsmtp:\n  maxConnections: ${CONNECTIONS}\n`);
  const sink = await startSink();
  const env = { ...process.env, HERALD_SMTP_URL: sink.url, HERALD_SECRET: 'bench' };
  const heraldSend = (count) => {
    writeSubscribers(join(site, 'subscribers'), count);
    rmSync(join(site, '.herald', 'deliveries'), { recursive: true, force: true });
    rmSync(join(site, '.herald', 'newsletter.json'), { force: true });
    return runTimed('node', [HERALD, '--config', join(site, 'herald.config.yml'), 'send', 'post'], { env });
  };
  // The plain loop sends the very message herald renders (herald preview writes it out).
  runTimed('node', [HERALD, '--config', join(site, 'herald.config.yml'), 'preview', 'post'], { env });
  const preview = join(site, '.herald', 'preview');
  const plain = (count) => runTimed('node', [join(ROOT, 'bench', 'plain-loop.js'), sink.url, String(count), String(CONNECTIONS), join(preview, 'post.html'), join(preview, 'post.txt')], { env });
  try {
    const COUNT = 10_000;
    heraldSend(1000);
    plain(1000);
    const samples = { herald: [], plain: [] };
    for (let i = 0; i < 3; i++) {
      samples.plain.push(plain(COUNT));
      samples.herald.push(heraldSend(COUNT));
    }
    const rows = [summarize(`plain nodemailer pool, ${COUNT} msgs`, samples.plain), summarize(`herald send, ${COUNT} subscribers`, samples.herald)];
    console.log(`\nemail: one post to ${COUNT} subscribers over ${CONNECTIONS} connections to a loopback SMTP sink, median of 3`);
    printTable(rows);
    const [base, ours] = rows;
    const throughput = (row) => (COUNT / row.medianMs) * 1000;
    console.log(`throughput: plain ${throughput(base).toFixed(0)} msg/s, herald ${throughput(ours).toFixed(0)} msg/s (ledger on)`);
    const big = heraldSend(100_000);
    const bigPeakMb = toMb(big.peakKb);
    console.log(`herald send to 100000 subscribers: ${(big.ms / 1000).toFixed(1)} s, peak ${mb(bigPeakMb)} MB`);
    const verdicts = [atLeast('herald throughput vs plain loop', throughput(ours) / throughput(base), 0.8), verdict('peak memory, 100000 subscribers', bigPeakMb, 200, ' MB')];
    writeFileSync(join(WORK, 'results-email.json'), `${JSON.stringify({ rows, big: { ms: big.ms, peakMb: bigPeakMb }, verdicts }, null, 2)}\n`);
  } finally {
    sink.stop();
  }
}

/** Starts `herald start` in `dir` and resolves once its first pass is done. */
async function startWorker(dir, args, env) {
  const { spawn } = await import('node:child_process');
  const child = spawn('node', [HERALD, '--config', join(dir, 'herald.config.yml'), 'start', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (data) => (log += data));
  child.stderr.on('data', (data) => (log += data));
  await new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (/next pass at/.test(log)) {
        clearInterval(poll);
        resolve();
      }
      if (child.exitCode !== null) reject(new Error(`herald start exited:\n${log}`));
    }, 20);
  });
  return { stop: () => new Promise((resolve) => { child.on('exit', resolve); child.kill('SIGTERM'); }) };
}

async function http() {
  const { default: autocannon } = await import('autocannon');
  const dir = join(WORK, 'http');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'posts'), { recursive: true });
  generateCorpus(200, join(dir, 'posts'));
  const port = 18_080;
  writeFileSync(join(dir, 'herald.config.yml'), `site:\n  title: Bench\n  url: http://127.0.0.1:${port}/\nschedule: "0 0 1 1 *"\n`);
  const worker = await startWorker(dir, ['--port', String(port)], { ...process.env, HERALD_SECRET: 'bench' });
  try {
    const url = `http://127.0.0.1:${port}/rss.xml`;
    const etag = (await fetch(url)).headers.get('etag');
    const load = (headers) => autocannon({ url, connections: 20, duration: 10, headers });
    const full = await load({});
    const conditional = await load({ 'if-none-match': etag });
    const rows = [
      { label: 'GET /rss.xml (200, 20 posts, full content)', rps: full.requests.average, p99: full.latency.p99, bytes: full.throughput.average },
      { label: 'GET /rss.xml with If-None-Match (304)', rps: conditional.requests.average, p99: conditional.latency.p99, bytes: conditional.throughput.average },
    ];
    console.log('\nhttp: herald start serving feeds on loopback, autocannon, 20 connections, 10 s each');
    for (const row of rows) console.log(`${row.label.padEnd(46)} ${row.rps.toFixed(0).padStart(7)} req/s  p99 ${row.p99} ms`);
    writeFileSync(join(WORK, 'results-http.json'), `${JSON.stringify(rows, null, 2)}\n`);
  } finally {
    await worker.stop();
  }
}

async function latency() {
  const dir = join(WORK, 'latency');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'posts'), { recursive: true });
  writeFileSync(join(dir, 'posts', 'old.md'), '---\ntitle: Old\ndate: 2020-01-01\n---\nOld.\n');
  writeSubscribers(join(dir, 'subscribers'), 1);
  writeFileSync(join(dir, 'herald.config.yml'), 'site:\n  title: Bench\n  url: https://example.com/\nschedule: "* * * * * *"\n');
  const sink = await startSink();
  const worker = await startWorker(dir, ['--no-http'], { ...process.env, HERALD_SMTP_URL: sink.url, HERALD_SECRET: 'bench' });
  const samples = [];
  try {
    for (let i = 0; i < 5; i++) {
      const before = await sink.count();
      const started = process.hrtime.bigint();
      writeFileSync(join(dir, 'posts', `new-${i}.md`), `---\ntitle: New ${i}\ndate: ${new Date().toISOString()}\n---\nFresh.\n`);
      while ((await sink.count()) === before) await new Promise((resolve) => setTimeout(resolve, 10));
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    await worker.stop();
    sink.stop();
  }
  console.log(`\nlatency: post file written -> first email accepted by the SMTP sink, schedule every second: median ${median(samples).toFixed(0)} ms (runs: ${samples.map((ms) => ms.toFixed(0)).join(', ')})`);
  writeFileSync(join(WORK, 'results-latency.json'), `${JSON.stringify({ samples, medianMs: median(samples) }, null, 2)}\n`);
}

const SECTIONS = { feeds, email, http, latency };
const chosen = process.argv.slice(2);
for (const name of chosen.length ? chosen : Object.keys(SECTIONS)) {
  if (!SECTIONS[name]) {
    console.error(`unknown bench section "${name}" (have: ${Object.keys(SECTIONS).join(', ')})`);
    process.exit(2);
  }
  mkdirSync(WORK, { recursive: true });
  await SECTIONS[name]();
}
