// npm run bench [section...]: herald's speed and memory against its peers, side by side in one run.
// Sections: feeds (herald build vs Hugo on 10,000 posts), send (herald send vs a plain nodemailer
// pool, 10,000 and 100,000 subscribers; `email` is its old name), serve (herald start serving a
// site against nginx), latency (new post file -> first email), import (a 1,000,000-row CSV into a new list),
// site (a 10,000-post site with archives, topic pages and precompression against herald before
// them, bench/site.js), pages (a page per post against Hugo at 1,000, 10,000 and 50,000 posts), worker (herald start's
// passes: nothing changed, one new post), subscribe (POST /subscribe and GET /rss.xml under bursts, at 1,000 to 1,000,000 subscribers).
// No argument runs them all but send-1m (one post to 1,000,000 subscribers, about 25 minutes on
// 2 cores), which runs only when named. Figures go to the terminal and to
// bench/work/results-<section>.json; the README quotes them.
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { generateCorpus } from './gen-corpus.js';
import { atLeast, BENCH_ENV, CLEAN_ENV, corpus, countItems, GNU_TIME, HERALD, HERALD_NODE_ARGS, machine, mb, median, outputTrash, percentile, printTable, ROOT, runTimed, startWorker, summarize, thousands, TIME_FORMAT, timeLine, toMb, under, verdict, WORK } from './common.js';
import { PROVIDER_SECTIONS } from './providers.js';
import { SITE_SECTIONS } from './site.js';
import { SERVE_SECTIONS } from './serve.js';

const RUNS = 7;
const POSTS = 10_000;

/** Makes path a symlink to target (relative to path's folder), replacing whatever was there. */
function linkDir(target, path) {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat?.isSymbolicLink() && existsSync(path)) return;
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, 'dir');
}

// The feeds section's sizes: a small site, the main one (with the no-change rebuild and the floors)
// and a large one.
const FEED_SIZES = [1_000, POSTS, 50_000];

/**
 * A generated corpus of `size` posts (the same folders the pages section reads), with a herald
 * site writing its feeds only and a Hugo site writing only an RSS feed of the newest 20 posts with
 * full content, both from those files (content/posts is a symlink; Hugo follows it).
 */
function feedSites(size, trash) {
  const posts = corpus(size);
  const name = basename(posts);
  // The 10,000-post sites stay where earlier runs of this section put them.
  const hugoSite = size === POSTS ? join(WORK, 'hugo') : join(WORK, `hugo-feeds-${size}`);
  const heraldSite = size === POSTS ? WORK : join(WORK, `feeds-${size}`);
  linkDir(join('..', '..', name), join(hugoSite, 'content', 'posts'));
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
  mkdirSync(heraldSite, { recursive: true });
  const config = join(heraldSite, 'herald.config.yml');
  // Paths are relative to the config file. Hugo here writes the RSS feed only, so herald writes its
  // feeds only too: without `pages: false` it would also render an HTML page for each of the posts.
  writeFileSync(config, `site:\n  title: Bench\n  url: https://example.com/\nposts: ${heraldSite === WORK ? name : join('..', name)}\noutput: public\nstate: .herald\npages: false\n`);

  const hugoOut = `${hugoSite}-public`;
  // Each full build starts from no output, moved aside (outputTrash), as in the pages section.
  const hugoBuild = () => {
    trash.aside(hugoOut);
    return runTimed('hugo', ['--quiet', '-s', hugoSite, '-d', hugoOut]);
  };
  const heraldFull = (env = CLEAN_ENV) => {
    rmSync(join(heraldSite, '.herald'), { recursive: true, force: true });
    trash.aside(join(heraldSite, 'public'));
    return runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'build'], { env });
  };
  const heraldRebuild = (env = CLEAN_ENV) => runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'build'], { env });
  // The floor under any first build: writing what herald's last build wrote (bench/write-floor.js).
  const writeFloor = () => {
    const to = join(WORK, `feeds-floor-${size}`);
    trash.aside(to);
    const run = runTimed('node', [join(ROOT, 'bench', 'write-floor.js'), join(heraldSite, 'public'), to], { env: CLEAN_ENV });
    return { ...run, ms: JSON.parse(run.stdout).ms, peakKb: NaN };
  };
  // One untimed round first, so every contender meets a warm file cache; it also checks that both
  // wrote a feed of 20 items. (In the timed rounds, each full build warms the following rebuild.)
  const warm = (hasHugo) => {
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
    expectItems(join(heraldSite, 'public', 'rss.xml'), 'herald');
  };
  return { posts, hugoBuild, heraldFull, heraldRebuild, writeFloor, warm };
}

function feeds() {
  const trash = outputTrash('feeds-trash');
  try {
    feedsSection(trash);
  } finally {
    trash.empty();
  }
}

function feedsSection(trash) {
  const hasHugo = spawnSync('hugo', ['version'], { encoding: 'utf8' }).status === 0;
  if (!hasHugo) console.log('hugo is not on PATH, so there is nothing to compare with: install it (Debian: apt-get install -y hugo). Timing herald alone.');
  const sites = new Map(FEED_SIZES.map((size) => [size, feedSites(size, trash)]));
  const { posts, hugoBuild, heraldFull, heraldRebuild } = sites.get(POSTS);

  // The least any no-change check must do: start Node, list the posts and stat each one.
  const statFloor = () => runTimed('node', [join(ROOT, 'bench', 'stat-floor.js'), posts], { env: CLEAN_ENV });
  // The least a first build must do with the libraries herald is built on: read and parse every front matter.
  const parseFloor = () => runTimed('node', [join(ROOT, 'bench', 'parse-floor.js'), posts], { env: CLEAN_ENV });

  // Each size on its own, Hugo and herald interleaved; the large site gets 3 runs (a build there
  // takes most of a minute on 2 cores).
  const samples = { hugo: [], full: [], rebuild: [], floor: [], parseFloor: [], writeFloor: [] };
  const sizes = [];
  for (const [size, site] of sites) {
    site.warm(hasHugo);
    const runs = size >= 50_000 ? 3 : RUNS;
    const timed = size === POSTS ? samples : { hugo: [], full: [], writeFloor: [] };
    if (size === POSTS) heraldRebuild();
    for (let i = 0; i < runs; i++) {
      if (hasHugo) timed.hugo.push(site.hugoBuild());
      timed.full.push(site.heraldFull());
      timed.writeFloor.push(site.writeFloor());
      if (size !== POSTS) continue;
      samples.rebuild.push(heraldRebuild());
      samples.floor.push(statFloor());
      samples.parseFloor.push(parseFloor());
    }
    sizes.push({
      size,
      runs,
      hugo: hasHugo ? summarize(`hugo, ${thousands(size)} posts`, timed.hugo) : undefined,
      herald: summarize(`herald full, ${thousands(size)} posts`, timed.full),
      writeFloor: summarize(`floor: write herald's files, ${thousands(size)}`, timed.writeFloor),
    });
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
  console.log(`\nfeeds at each size: full build against Hugo, median of ${RUNS} interleaved runs (3 at 50,000)`);
  printTable(sizes.flatMap(({ hugo, herald, writeFloor }) => (hugo ? [hugo, herald, writeFloor] : [herald, writeFloor])));
  // With complete archives a first build writes every post in three formats for the site and for
  // each of its topics: the bytes alone, written from memory, set a floor under any tool.
  if (hasHugo) for (const { size, hugo, writeFloor } of sizes) console.log(`floor at ${thousands(size)}: merely writing herald's files (no post read, nothing rendered), on two threads, is ${(writeFloor.medianMs / hugo.medianMs).toFixed(2)}x Hugo's whole build`);
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
  const atSize = (size) => sizes.find((row) => row.size === size);
  const versusHugo = (size) => atSize(size).herald.medianMs / atSize(size).hugo.medianMs;
  const verdicts = [
    ...(hugo
      ? [
          verdict('full build vs Hugo, 1,000 posts', versusHugo(1_000), 1),
          verdict('full build vs Hugo, 10,000 posts', versusHugo(POSTS), 0.5),
          verdict('no-change rebuild vs Hugo, 10,000 posts', rebuild.medianMs / hugo.medianMs, 0.1),
        ]
      : []),
    verdict('peak memory, herald builds, 10,000 posts', Math.max(full.peakMb, rebuild.peakMb), 150, ' MB'),
    under('peak memory, full build, 50,000 posts', atSize(50_000).herald.peakMb, 150, ' MB'),
  ];
  writeFileSync(join(WORK, 'results-feeds.json'), `${JSON.stringify({ posts: POSTS, runs: RUNS, node: process.version, rows, floors, sizes, withCaCerts, verdicts }, null, 2)}\n`);
}

/** Starts bench/smtp-sink.js; resolves to its URL, its message count, its CPU time and a way to stop it. */
async function startSink() {
  const { spawn } = await import('node:child_process');
  const child = spawn('node', [join(ROOT, 'bench', 'smtp-sink.js')], { env: CLEAN_ENV, stdio: ['pipe', 'pipe', 'inherit'] });
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
  // A bench that stops early (process.exit on a failed run) must not leave the sink running.
  const stop = () => child.kill();
  process.on('exit', stop);
  // One question at a time, so each answer goes to whoever asked it.
  let asking = Promise.resolve(0);
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: () =>
      (asking = asking.then(async () => {
        child.stdin.write('count\n');
        return Number((await nextLine()).replace('count ', ''));
      })),
    cpuMs: () => cpuMs(child.pid),
    stop: () => {
      process.off('exit', stop);
      stop();
    },
  };
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

/** Resident memory of a process now, in KB (Linux /proc; NaN elsewhere). */
function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function writeSubscribers(dir, count) {
  mkdirSync(dir, { recursive: true });
  const rows = ['email,name,status,topics,created_at,updated_at'];
  for (let i = 0; i < count; i++) rows.push(`reader${i}@example.com,Reader ${i},active,,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z`);
  writeFileSync(join(dir, 'subscribers.csv'), `${rows.join('\n')}\n`);
}

/**
 * bench/work/subscribers-N.csv: email,name for N readers (reader0@example.com, Reader 0, ... in
 * that order, the addresses bench/plain-loop.js sends to). Written once; the same file every run.
 */
function ensureSubscriberCsv(n) {
  const file = join(WORK, `subscribers-${n}.csv`);
  if (existsSync(file)) return file;
  console.log(`writing ${thousands(n)} subscribers to ${file} ...`);
  const partial = `${file}.tmp`;
  const fd = openSync(partial, 'w');
  try {
    for (let from = 0; from < n; from += 10_000) {
      const rows = from ? [] : ['email,name'];
      for (let i = from; i < Math.min(n, from + 10_000); i++) rows.push(`reader${i}@example.com,Reader ${i}`);
      writeSync(fd, `${rows.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
  return file;
}

/** `herald subscribers import` of subscribers-N.csv into the site whose config this is (timed). */
function importSubscribers(config, n) {
  const run = runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'subscribers', 'import', ensureSubscriberCsv(n)], { env: BENCH_ENV });
  if (!run.stdout.includes(`imported ${n},`)) {
    console.error(`herald subscribers import did not import ${n} subscribers:\n${run.stdout}`);
    process.exit(1);
  }
  return run;
}

function emailSite(site, connections) {
  rmSync(site, { recursive: true, force: true });
  mkdirSync(join(site, 'posts'), { recursive: true });
  writeFileSync(join(site, 'posts', 'post.md'), `---\ntitle: A post\ndate: 2026-01-01\n---\n\n${'A paragraph of a typical post, with a [link](https://example.com/).\n\n'.repeat(30)}`);
  const config = join(site, 'herald.config.yml');
  writeFileSync(config, `site:\n  title: Bench\n  url: https://example.com/\nsmtp:\n  maxConnections: ${connections}\n`);
  return config;
}

/** Checks that a send reached the sink with `n` messages and that herald reported `n` sent. */
function checkSent(run, n, sinkBefore, sinkAfter) {
  if (sinkAfter - sinkBefore !== n || !run.stdout.includes(`post: ${n} sent, 0 failed`)) {
    console.error(`herald send should have sent ${n} messages; the sink counted ${sinkAfter - sinkBefore}, herald said:\n${run.stdout}`);
    process.exit(1);
  }
}

async function send() {
  const CONNECTIONS = 5;
  const COUNT = 10_000;
  const BIG = 100_000;
  const site = join(WORK, 'send');
  const config = emailSite(site, CONNECTIONS);
  const sink = await startSink();
  const env = { ...BENCH_ENV, HERALD_SMTP_URL: sink.url };
  // Each list is imported once and its state folder kept; every send starts from a copy of it,
  // so every run sends to the whole list, as a new post does.
  const seeds = {};
  for (const n of [1000, COUNT, BIG]) {
    rmSync(join(site, '.herald'), { recursive: true, force: true });
    importSubscribers(config, n);
    seeds[n] = join(site, `seed-${n}`);
    rmSync(seeds[n], { recursive: true, force: true });
    renameSync(join(site, '.herald'), seeds[n]);
  }
  const heraldSend = async (n) => {
    rmSync(join(site, '.herald'), { recursive: true, force: true });
    cpSync(seeds[n], join(site, '.herald'), { recursive: true });
    const before = await sink.count();
    const run = runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'send', 'post'], { env });
    checkSent(run, n, before, await sink.count());
    return run;
  };
  // The plain loop sends the very message herald renders (herald preview writes it out).
  runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'preview', 'post'], { env });
  const preview = join(site, 'preview');
  cpSync(join(site, '.herald', 'preview'), preview, { recursive: true });
  const plain = (n) => runTimed('node', [join(ROOT, 'bench', 'plain-loop.js'), sink.url, String(n), String(CONNECTIONS), join(preview, 'post.html'), join(preview, 'post.txt')], { env: CLEAN_ENV });
  // The sink's own limit: the same message, each transaction in one write, many in flight.
  const floor = (n) => runTimed('node', [join(ROOT, 'bench', 'sink-floor.js'), sink.url, String(n), String(CONNECTIONS), join(preview, 'post.html'), join(preview, 'post.txt')], { env: CLEAN_ENV });
  try {
    const host = machine();
    await heraldSend(1000);
    plain(1000);
    const samples = { herald: [], plain: [], floor: [] };
    const sinkCpu = { herald: [], plain: [] };
    for (let i = 0; i < 3; i++) {
      samples.floor.push(floor(COUNT));
      let cpu = sink.cpuMs();
      samples.plain.push(plain(COUNT));
      sinkCpu.plain.push(sink.cpuMs() - cpu);
      cpu = sink.cpuMs();
      samples.herald.push(await heraldSend(COUNT));
      sinkCpu.herald.push(sink.cpuMs() - cpu);
    }
    const rows = [summarize(`plain nodemailer pool, ${thousands(COUNT)} msgs`, samples.plain), summarize(`herald send, ${thousands(COUNT)} subscribers`, samples.herald), summarize(`sink's limit: pipelining client, ${thousands(COUNT)} msgs`, samples.floor)];
    console.log(`\nsend: one post to ${thousands(COUNT)} subscribers over ${CONNECTIONS} connections to a loopback SMTP sink, median of 3`);
    printTable(rows);
    const [base, ours, limit] = rows;
    const throughput = (row) => (COUNT / row.medianMs) * 1000;
    const sinkUs = (list) => (median(list) / COUNT) * 1000;
    // CPU time a message (user + system) depends less on what else the machine runs than wall time.
    const cpuUs = (list) => (median(list.map((run) => run.cpuMs)) / COUNT) * 1000;
    const cpu = { plain: cpuUs(samples.plain), herald: cpuUs(samples.herald) };
    console.log(`throughput: plain ${throughput(base).toFixed(0)} msg/s, herald ${throughput(ours).toFixed(0)} msg/s (every delivery recorded in the database), the sink's limit ${throughput(limit).toFixed(0)} msg/s (herald at ${(throughput(ours) / throughput(limit)).toFixed(2)}x of it)`);
    console.log(`CPU a message (user + system, median): plain ${cpu.plain.toFixed(0)} µs, herald ${cpu.herald.toFixed(0)} µs (${(cpu.herald / cpu.plain).toFixed(2)}x)`);
    console.log(`the sink's CPU: ${sinkUs(sinkCpu.plain).toFixed(0)} µs a message under the plain loop, ${sinkUs(sinkCpu.herald).toFixed(0)} µs under herald`);
    const big = await heraldSend(BIG);
    const bigPeakMb = toMb(big.peakKb);
    console.log(`herald send to ${thousands(BIG)} subscribers: ${(big.ms / 1000).toFixed(1)} s, ${((BIG / big.ms) * 1000).toFixed(0)} msg/s, ${((big.cpuMs / BIG) * 1000).toFixed(0)} µs of CPU a message, peak ${mb(bigPeakMb)} MB`);
    const verdicts = [atLeast('herald throughput vs plain nodemailer pool', throughput(ours) / throughput(base), 2), under(`peak memory, ${thousands(BIG)} subscribers`, bigPeakMb, 200, ' MB')];
    const result = { machine: host, connections: CONNECTIONS, rows, throughput: { plain: throughput(base), herald: throughput(ours), sinkLimit: throughput(limit) }, cpuUsPerMessage: cpu, sinkCpuUsPerMessage: { plain: sinkUs(sinkCpu.plain), herald: sinkUs(sinkCpu.herald) }, big: { subscribers: BIG, ms: big.ms, msgPerS: (BIG / big.ms) * 1000, cpuUsPerMessage: (big.cpuMs / BIG) * 1000, peakMb: bigPeakMb }, verdicts };
    writeFileSync(join(WORK, 'results-send.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    sink.stop();
  }
}

/**
 * Like runTimed, for a run long enough to watch: every `every` ms it calls `sample(pid, ms)` with
 * the command's own pid (under GNU time, time's child) and the time so far. Resolves to what
 * runTimed returns.
 */
async function runWatched(command, args, { env = process.env, every = 2000, sample }) {
  const { spawn } = await import('node:child_process');
  const [file, argv] = GNU_TIME ? [GNU_TIME, [...TIME_FORMAT, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  const target = () => {
    if (!GNU_TIME) return child.pid;
    try {
      return Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  const timer = setInterval(() => void sample(target(), Number(process.hrtime.bigint() - started) / 1e6), every);
  const status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  clearInterval(timer);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (exit ${status}):\n${stdout}\n${stderr}`);
    process.exit(1);
  }
  return { ms, ...timeLine(stderr), stdout };
}

/** One post to 1,000,000 subscribers: memory and throughput at the size of a large newsletter. */
async function sendMillion() {
  const CONNECTIONS = 5;
  const COUNT = 1_000_000;
  const site = join(WORK, 'send-1m');
  const config = emailSite(site, CONNECTIONS);
  const host = machine();
  const seed = importSubscribers(config, COUNT);
  console.log(`seeded ${thousands(COUNT)} subscribers with herald subscribers import: ${(seed.ms / 1000).toFixed(1)} s, peak ${mb(toMb(seed.peakKb))} MB`);
  const sink = await startSink();
  try {
    const samples = [];
    const before = await sink.count();
    const sinkCpu = sink.cpuMs();
    console.log(`sending one post to ${thousands(COUNT)} subscribers (about 25 minutes on 2 cores; a line every minute) ...`);
    const run = await runWatched('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'send', 'post'], {
      env: { ...BENCH_ENV, HERALD_SMTP_URL: sink.url },
      sample: async (pid, ms) => {
        const sample = { s: Math.round(ms / 1000), sent: (await sink.count()) - before, rssMb: Math.round(toMb(rssKb(pid))), cpuS: Math.round(cpuMs(pid) / 1000) };
        samples.push(sample);
        if (samples.length % 30 === 0) console.log(`  ${sample.s} s: ${thousands(sample.sent)} accepted, herald ${sample.rssMb} MB`);
      },
    });
    const sent = (await sink.count()) - before;
    checkSent(run, COUNT, 0, sent);
    const sinkUs = ((sink.cpuMs() - sinkCpu) / COUNT) * 1000;
    // Before the first message herald queues a delivery row for every subscriber; from then on it
    // sends. The samples are 2 s apart, so "first message by" is that coarse.
    const first = samples.find((sample) => sample.sent > 0);
    const steadyFrom = first ?? { s: 0, sent: 0 };
    const steady = (COUNT - steadyFrom.sent) / (run.ms / 1000 - steadyFrom.s);
    const peakMb = toMb(run.peakKb);
    const overall = (COUNT / run.ms) * 1000;
    const rssAt = (fraction) => samples.find((sample) => sample.sent >= COUNT * fraction)?.rssMb ?? NaN;
    console.log(`\nsend-1m: one post to ${thousands(COUNT)} subscribers over ${CONNECTIONS} connections to a loopback SMTP sink, one run`);
    console.log(`${'measure'.padEnd(52)}${'result'.padStart(26)}`);
    const line = (label, value) => console.log(`${label.padEnd(52)}${value.padStart(26)}`);
    line('herald send, wall time', `${(run.ms / 1000).toFixed(0)} s (${(run.ms / 60_000).toFixed(1)} min)`);
    line('throughput, whole run', `${overall.toFixed(0)} msg/s`);
    line('first message accepted by (after queueing them all)', first ? `${first.s} s` : 'n/a');
    line('throughput once sending', `${steady.toFixed(0)} msg/s`);
    line('peak memory (GNU time)', `${mb(peakMb)} MB`);
    line('memory at 10% / 50% / 90% sent', `${[0.1, 0.5, 0.9].map((f) => mb(rssAt(f))).join(' / ')} MB`);
    line("herald's CPU a message (user + system)", `${((run.cpuMs / COUNT) * 1000).toFixed(0)} µs`);
    line("the sink's CPU a message", `${sinkUs.toFixed(0)} µs`);
    const verdicts = [under(`peak memory, ${thousands(COUNT)} subscribers`, peakMb, 200, ' MB')];
    const result = { machine: host, subscribers: COUNT, connections: CONNECTIONS, seed: { ms: seed.ms, peakMb: toMb(seed.peakKb) }, ms: run.ms, msgPerS: overall, steadyMsgPerS: steady, firstMessageAfterS: first?.s, peakMb, cpuUsPerMessage: (run.cpuMs / COUNT) * 1000, sinkCpuUsPerMessage: sinkUs, samples, verdicts };
    writeFileSync(join(WORK, 'results-send-1m.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    sink.stop();
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
  const worker = await startWorker(dir, ['--no-http'], { ...BENCH_ENV, HERALD_SMTP_URL: sink.url });
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

/** A fresh 1,000,000-row list, as a newsletter moving from another service would bring it in. */
async function importSection() {
  const COUNT = 1_000_000;
  const IMPORT_RUNS = 3;
  const csv = ensureSubscriberCsv(COUNT);
  const dir = join(WORK, 'import');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'herald.config.yml');
  writeFileSync(config, 'site:\n  title: Bench\n  url: https://example.com/\n');
  const host = machine();
  const fresh = () => {
    rmSync(join(dir, '.herald'), { recursive: true, force: true });
    return importSubscribers(config, COUNT);
  };
  // The same file again into the full list: every row is looked up and found (an import is safe to run twice).
  const again = () => {
    const run = runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', config, 'subscribers', 'import', csv], { env: BENCH_ENV });
    if (!run.stdout.includes(`already on the list ${COUNT},`)) {
      console.error(`a second import should have found all ${COUNT} on the list:\n${run.stdout}`);
      process.exit(1);
    }
    return run;
  };
  const floor = () => runTimed('node', [join(ROOT, 'bench', 'import-floor.js'), csv, join(dir, 'floor.db')], { env: CLEAN_ENV });
  const samples = { fresh: [], again: [], floor: [] };
  for (let i = 0; i < IMPORT_RUNS; i++) {
    samples.fresh.push(fresh());
    samples.again.push(again());
    samples.floor.push(floor());
  }
  const rows = [summarize('herald import, new list', samples.fresh), summarize('herald import again (all known)', samples.again)];
  const floors = [summarize('floor: csv-parse + libsql INSERT', samples.floor)];
  console.log(`\nimport: herald subscribers import of a ${thousands(COUNT)}-row CSV (email,name), median of ${IMPORT_RUNS} interleaved runs`);
  printTable([...rows, ...floors]);
  console.log(`(the last row is the floor: the same file into herald's table and index with the same libraries and batches, with no address checks and no lookups)`);
  const verdicts = [under(`${thousands(COUNT)}-row import into a new list`, rows[0].medianMs / 1000, 30, ' s', 1)];
  writeFileSync(join(WORK, 'results-import.json'), `${JSON.stringify({ machine: host, rows: COUNT, runs: IMPORT_RUNS, results: rows, floors, verdicts }, null, 2)}\n`);
}

/** One HTTP request on loopback: its status and the ms from the call to the last byte of the answer. */
function timedRequest({ port, path, body, agent, localAddress }) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) };
    const started = process.hrtime.bigint();
    const request = httpRequest({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', headers, agent, localAddress }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

// herald start allows 20 POST /subscribe a minute from one socket address, and this herald has no
// setting for it (X-Forwarded-For is ignored unless a proxy is trusted). So the bench spreads its
// subscribes over loopback source addresses (all of 127.0.0.0/8 is loopback on Linux), at most 20
// from each per server: none is refused, and the limiter does its work on every request.
function sourceAddresses(perAddress = 20) {
  let used = 0;
  return () => {
    const k = Math.floor(used++ / perAddress);
    return `127.0.${Math.floor(k / 250) + 1}.${(k % 250) + 1}`;
  };
}

const latencies = (samples) => {
  if (!samples.length) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  const ms = samples.map((sample) => sample.ms);
  return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
};

/** Resolves once the sink has accepted `target` messages in all (the confirmation emails). */
async function sinkReaches(sink, target, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while ((await sink.count()) < target) {
    if (Date.now() > until) throw new Error(`the SMTP sink never got to ${target} messages: confirmations went missing`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The web side with `size` subscribers: new readers subscribing, and feed readers polling meanwhile. */
async function subscribeAt(size, sink) {
  const REQUESTS = 500;
  const BURST = 50;
  const dir = join(WORK, `subscribe-${size}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'posts'), { recursive: true });
  generateCorpus(200, join(dir, 'posts'));
  const config = join(dir, 'herald.config.yml');
  // No pass comes while the bench runs: the schedule's next tick is next New Year.
  writeFileSync(config, 'site:\n  title: Bench\n  url: https://example.com/\nschedule: "0 0 1 1 *"\n');
  const seed = importSubscribers(config, size);
  // Confirmations go to the SMTP sink, as on a real site; the bench waits for them to arrive.
  const worker = await startWorker(dir, ['--port', '0'], { ...BENCH_ENV, HERALD_SMTP_URL: sink.url });
  const port = worker.port;
  const source = sourceAddresses();
  const formAgent = new Agent({ keepAlive: true });
  const feedAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  let next = 0;
  let expected = await sink.count();
  const subscribeOnce = () => {
    expected++;
    return timedRequest({ port, path: '/subscribe', body: `email=${encodeURIComponent(`new${next++}@readers.example.org`)}&name=New+reader`, agent: formAgent, localAddress: source() });
  };
  const feedOnce = () => timedRequest({ port, path: '/rss.xml', agent: feedAgent });
  try {
    // Warm-up, not counted: the first requests compile the routes and open the connections.
    for (let i = 0; i < 20; i++) await subscribeOnce();
    for (let i = 0; i < 50; i++) await feedOnce();
    await sinkReaches(sink, expected);

    const subscribes = [];
    for (let i = 0; i < REQUESTS; i++) subscribes.push(await subscribeOnce());
    await sinkReaches(sink, expected);

    const idle = [];
    for (let i = 0; i < REQUESTS; i++) idle.push(await feedOnce());

    // Bursts of 50 subscribes at once; the feed is fetched one request after another from the
    // start of a burst until its last confirmation reached the sink (the mail is part of the load).
    // Each feed request is also filed by what was going on when it started: subscribes still
    // unanswered, or all answered and their confirmations still being made and sent.
    const loaded = [];
    const phases = { answering: [], mailing: [] };
    const burstSubscribes = [];
    const burstMs = [];
    while (loaded.length < REQUESTS && burstMs.length < 100) {
      const target = expected + BURST;
      const started = process.hrtime.bigint();
      let answering = true;
      let busy = true;
      const burst = Promise.all(Array.from({ length: BURST }, subscribeOnce)).then(async (done) => {
        answering = false;
        burstSubscribes.push(...done);
        await sinkReaches(sink, target);
        busy = false;
        burstMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      });
      while (busy) {
        const phase = answering ? phases.answering : phases.mailing;
        const sample = await feedOnce();
        phase.push(sample);
        loaded.push(sample);
      }
      await burst;
    }
    const refused = [...subscribes, ...burstSubscribes, ...idle, ...loaded].filter((sample) => sample.status !== 200);
    if (refused.length) console.log(`note: ${refused.length} requests at ${thousands(size)} subscribers were answered ${[...new Set(refused.map((sample) => sample.status))].join(', ')}, not 200`);
    return {
      subscribers: size,
      seed: { ms: seed.ms, peakMb: toMb(seed.peakKb) },
      subscribe: latencies(subscribes),
      feedIdle: latencies(idle),
      feedInBursts: { ...latencies(loaded), bursts: burstMs.length, whileAnswering: latencies(phases.answering), whileMailing: latencies(phases.mailing) },
      burstSubscribe: latencies(burstSubscribes),
      // From a burst's first request to its last confirmation accepted by the sink.
      burstMs: { median: median(burstMs), max: Math.max(...burstMs) },
      notOk: refused.length,
      heraldRssMb: toMb(rssKb(worker.pid)),
    };
  } finally {
    formAgent.destroy();
    feedAgent.destroy();
    await worker.stop();
  }
}

async function subscribe() {
  const SIZES = [1_000, 100_000, 1_000_000];
  const host = machine();
  const sink = await startSink();
  const results = [];
  try {
    for (const size of SIZES) results.push(await subscribeAt(size, sink));
  } finally {
    sink.stop();
  }
  const ms = (value) => value.toFixed(1);
  console.log('\nsubscribe: herald start on loopback (200 posts), node:http keep-alive clients; latency in ms, to the last byte');
  console.log(`${'subscribers'.padEnd(13)}${'subscribe p50/p99'.padStart(19)}${'feed idle p50/p99'.padStart(19)}${'feed in bursts p50/p99'.padStart(24)}${'x idle'.padStart(8)}${'burst subscribe p50/p99'.padStart(25)}${'herald MB'.padStart(11)}`);
  for (const row of results) {
    console.log(
      `${thousands(row.subscribers).padEnd(13)}${`${ms(row.subscribe.p50)} / ${ms(row.subscribe.p99)}`.padStart(19)}${`${ms(row.feedIdle.p50)} / ${ms(row.feedIdle.p99)}`.padStart(19)}` +
        `${`${ms(row.feedInBursts.p50)} / ${ms(row.feedInBursts.p99)}`.padStart(24)}${(row.feedInBursts.p99 / row.feedIdle.p99).toFixed(2).padStart(8)}` +
        `${`${ms(row.burstSubscribe.p50)} / ${ms(row.burstSubscribe.p99)}`.padStart(25)}${mb(row.heraldRssMb).padStart(11)}`,
    );
  }
  console.log(`(${results[0].subscribe.n} sequential subscribes with new addresses; ${results[0].feedIdle.n} sequential GET /rss.xml idle; GET /rss.xml while bursts of 50 concurrent subscribes and their confirmation emails run, ${results.map((row) => `${row.feedInBursts.n} in ${row.feedInBursts.bursts} bursts`).join(', ')})`);
  for (const row of results) {
    const { whileAnswering, whileMailing } = row.feedInBursts;
    console.log(
      `${thousands(row.subscribers)}: a burst lasts ${row.burstMs.median.toFixed(0)} ms (median) to its last confirmation; feed p50/p99 while subscribes are unanswered ${ms(whileAnswering.p50)} / ${ms(whileAnswering.p99)} ms (${whileAnswering.n}), ` +
        `after, while confirmations go out ${ms(whileMailing.p50)} / ${ms(whileMailing.p99)} ms (${whileMailing.n})`,
    );
  }
  const verdicts = results.flatMap((row) => [
    under(`subscribe p99, ${thousands(row.subscribers)} subscribers`, row.subscribe.p99, 20, ' ms', 1),
    verdict(`feed p99 in bursts vs idle, ${thousands(row.subscribers)} subscribers`, row.feedInBursts.p99 / row.feedIdle.p99, 2, 'x', 2),
  ]);
  writeFileSync(join(WORK, 'results-subscribe.json'), `${JSON.stringify({ machine: host, results, verdicts }, null, 2)}\n`);
}

// `email` is the send section's old name; send-1m takes about 25 minutes and runs only when named.
const SECTIONS = { feeds, send, latency, import: importSection, subscribe, 'send-1m': sendMillion, ...PROVIDER_SECTIONS, ...SITE_SECTIONS, ...SERVE_SECTIONS };
const ALIASES = { email: 'send' };
const BY_DEFAULT = ['feeds', 'site', 'pages', 'worker', 'send', 'serve', 'latency', 'import', 'subscribe'];
const chosen = process.argv.slice(2).map((name) => ALIASES[name] ?? name);
for (const name of chosen.length ? chosen : BY_DEFAULT) {
  if (!SECTIONS[name]) {
    console.error(`unknown bench section "${name}" (have: ${Object.keys(SECTIONS).join(', ')})`);
    process.exit(2);
  }
  mkdirSync(WORK, { recursive: true });
  await SECTIONS[name]();
}
