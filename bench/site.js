// npm run bench site: what complete archives, topic pages, sitemaps and precompressed files cost.
// The anchor is herald as it was before them (BASELINE, built from git into bench/work), timed in
// the same run on the same 10,000 posts with pages on: a full build, a build with nothing
// changed, and `herald start` answering GET /rss.xml (the anchor uncompressed, as it served it;
// herald now with the brotli copy a reader's app asks for).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atLeast, BENCH_ENV, CLEAN_ENV, ensureCorpus, HERALD, HERALD_NODE_ARGS, machine, printTable, ROOT, runTimed, startWorker, summarize, verdict, WORK } from './common.js';

/** The last commit before issue 12 (feeds and pages readers rely on). */
const BASELINE = '65dd3760bbeb4880ff95fdeab3229e48e730cdf4';
const POSTS = 10_000;
const RUNS = 5;

/** herald at BASELINE, built once into bench/work/baseline-<commit>/dist with this checkout's node_modules. */
function baselineHerald() {
  const dir = join(WORK, `baseline-${BASELINE.slice(0, 12)}`);
  const cli = join(dir, 'dist', 'cli.js');
  if (existsSync(cli)) return cli;
  console.log(`building herald at ${BASELINE.slice(0, 12)} (the anchor) in ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git -C "${ROOT}" archive ${BASELINE} | tar -x -C "${dir}"`], { stdio: 'inherit' });
  if (archive.status !== 0) throw new Error(`cannot extract ${BASELINE} from git: the bench needs this repository's history`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'inherit' });
  if (built.status !== 0 || !existsSync(cli)) throw new Error('building the anchor failed');
  return cli;
}

function site(name, posts) {
  const dir = join(WORK, name);
  mkdirSync(dir, { recursive: true });
  // Paths are relative to the config file; pages are on (the default).
  writeFileSync(join(dir, 'herald.config.yml'), `site:\n  title: Bench\n  url: https://example.com/\nposts: ${posts}\noutput: public\nstate: .herald\nschedule: "0 0 1 1 *"\n`);
  return dir;
}

async function siteSection() {
  const host = machine();
  const posts = join(WORK, 'posts');
  ensureCorpus(posts, POSTS);
  const contenders = [
    { name: 'before', cli: baselineHerald(), dir: site('site-before', posts) },
    { name: 'now', cli: HERALD, dir: site('site-now', posts) },
  ];
  // Each full build starts from no output. The last one's is moved aside, not deleted, and the pile
  // goes once the section is done: this machine's ext4 runs without a journal, and there creating a
  // file within a minute of deleting tens of thousands makes the kernel step over every recently
  // freed inode (perf: recently_deleted, 40% of a build's time), a cost of the bench's own
  // cleanup that no writer's first build meets.
  const trash = join(WORK, 'site-trash');
  rmSync(trash, { recursive: true, force: true });
  mkdirSync(trash, { recursive: true });
  let moved = 0;
  const full = ({ cli, dir }) => {
    rmSync(join(dir, '.herald'), { recursive: true, force: true });
    if (existsSync(join(dir, 'public'))) renameSync(join(dir, 'public'), join(trash, String(moved++)));
    return runTimed('node', [...HERALD_NODE_ARGS, cli, '--config', join(dir, 'herald.config.yml'), 'build'], { env: CLEAN_ENV });
  };
  const rebuild = ({ cli, dir }) => runTimed('node', [...HERALD_NODE_ARGS, cli, '--config', join(dir, 'herald.config.yml'), 'build'], { env: CLEAN_ENV });

  // One untimed round first, so both meet a warm file cache.
  for (const contender of contenders) {
    full(contender);
    rebuild(contender);
  }
  const samples = Object.fromEntries(contenders.map(({ name }) => [name, { full: [], rebuild: [] }]));
  for (let i = 0; i < RUNS; i++) {
    for (const contender of contenders) samples[contender.name].full.push(full(contender));
    for (const contender of contenders) samples[contender.name].rebuild.push(rebuild(contender));
  }
  const rows = {
    beforeFull: summarize('before: full build, pages', samples.before.full),
    nowFull: summarize('now: full build, pages + all', samples.now.full),
    beforeRebuild: summarize('before: no change', samples.before.rebuild),
    nowRebuild: summarize('now: no change', samples.now.rebuild),
  };
  console.log(`\nsite: ${POSTS} posts with pages, median of ${RUNS} interleaved runs (node ${process.version}; herald without NODE_EXTRA_CA_CERTS)`);
  console.log(`now = archives (RFC 5005), topic pages, paginated index, sitemap, gzip + brotli copies; before = ${BASELINE.slice(0, 12)}`);
  printTable(Object.values(rows));

  // Serving: both sites as built above, each by its own herald start.
  const { default: autocannon } = await import('autocannon');
  const workers = [];
  try {
    for (const contender of contenders) workers.push({ ...contender, worker: await startWorker(contender.dir, ['--port', '0'], BENCH_ENV) });
    const load = (port, headers) => autocannon({ url: `http://127.0.0.1:${port}/rss.xml`, connections: 20, duration: 5, headers });
    const served = { before: { ok: [], notModified: [] }, now: { ok: [], notModified: [] } };
    // The anchor served no compressed copies: it answered with the whole feed whatever was asked.
    const asks = { before: {}, now: { 'accept-encoding': 'gzip, deflate, br' } };
    for (let i = 0; i < 3; i++) {
      for (const { name, worker } of workers) {
        const answer = await fetch(`http://127.0.0.1:${worker.port}/rss.xml`, { headers: asks[name] });
        const etag = answer.headers.get('etag');
        served[name].ok.push((await load(worker.port, asks[name])).requests.average);
        served[name].notModified.push((await load(worker.port, { ...asks[name], 'if-none-match': etag })).requests.average);
      }
    }
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const http = Object.fromEntries(Object.entries(served).map(([name, { ok, notModified }]) => [name, { ok: median(ok), notModified: median(notModified) }]));
    console.log('\nGET /rss.xml from herald start, autocannon, 20 connections, 5 s, median of 3 interleaved rounds');
    console.log(`before, uncompressed:  200 ${http.before.ok.toFixed(0)} req/s, 304 ${http.before.notModified.toFixed(0)} req/s`);
    console.log(`now, brotli:           200 ${http.now.ok.toFixed(0)} req/s, 304 ${http.now.notModified.toFixed(0)} req/s`);
    const verdicts = [
      verdict('full build with archives, topic pages, precompression vs before', rows.nowFull.medianMs / rows.beforeFull.medianMs, 1.5),
      verdict('no-change build vs before', rows.nowRebuild.medianMs / rows.beforeRebuild.medianMs, 1.1),
      atLeast('compressed feed requests a second vs uncompressed before', http.now.ok / http.before.ok, 1),
    ];
    writeFileSync(join(WORK, 'results-site.json'), `${JSON.stringify({ machine: host, posts: POSTS, runs: RUNS, baseline: BASELINE, rows, http, verdicts }, null, 2)}\n`);
  } finally {
    for (const { worker } of workers) await worker.stop();
    rmSync(trash, { recursive: true, force: true });
  }
}

export const SITE_SECTIONS = { site: siteSection };
