// npm run bench site: what complete archives, topic pages, sitemaps and precompressed files cost.
// The anchor is herald as it was before them (BASELINE, built from git into bench/work), timed in
// the same run on the same 10,000 posts with pages on: a full build, a build with nothing
// changed, and `herald start` answering GET /rss.xml (the anchor uncompressed, as it served it;
// herald now with the brotli copy a reader's app asks for).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { atLeast, BENCH_ENV, CLEAN_ENV, corpus, HERALD, HERALD_NODE_ARGS, machine, median, outputTrash, printTable, ROOT, runTimed, startWorker, summarize, under, verdict, WORK } from './common.js';

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
  const posts = corpus(POSTS);
  const contenders = [
    { name: 'before', cli: baselineHerald(), dir: site('site-before', posts) },
    { name: 'now', cli: HERALD, dir: site('site-now', posts) },
  ];
  // Each full build starts from no output (outputTrash).
  const trash = outputTrash('site-trash');
  const full = ({ cli, dir }) => {
    rmSync(join(dir, '.herald'), { recursive: true, force: true });
    trash.aside(join(dir, 'public'));
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
    trash.empty();
  }
}

/**
 * npm run bench pages: a full build with a page per post, herald against Hugo, on the same
 * generated posts at 1,000, 10,000 and 50,000. Hugo writes a page per post and the RSS feed (its
 * defaults otherwise off); herald writes what it always does with pages on: the pages, the
 * feeds with their complete archives, topic pages, the paginated index, the sitemap and the
 * gzip and brotli copies. Targets: at most 0.8x Hugo at each size, and under 250 MB at 50,000.
 */
async function pagesSection() {
  const host = machine();
  const hasHugo = spawnSync('hugo', ['version'], { encoding: 'utf8' }).status === 0;
  if (!hasHugo) {
    console.log('hugo is not on PATH (Debian: apt-get install -y hugo): the pages section compares with it, so it is skipped');
    return;
  }
  // As in the site section: the last output is moved aside, never deleted between timed runs.
  const trash = outputTrash('pages-trash');
  const results = [];
  try {
    for (const size of PAGE_SIZES) {
      const posts = corpus(size);
      const herald = site(`pages-herald-${size}`, posts);
      const hugo = hugoPagesSite(`pages-hugo-${size}`, posts);
      const runs = size >= 50_000 ? 3 : RUNS;
      const heraldRun = () => {
        rmSync(join(herald, '.herald'), { recursive: true, force: true });
        trash.aside(join(herald, 'public'));
        return runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', join(herald, 'herald.config.yml'), 'build'], { env: CLEAN_ENV });
      };
      const hugoRun = () => {
        trash.aside(join(hugo, 'public'));
        return runTimed('hugo', ['--quiet', '-s', hugo, '-d', join(hugo, 'public')]);
      };
      // One untimed round, so both meet a warm file cache; and a check that both wrote every page.
      heraldRun();
      hugoRun();
      const pagesOf = (dir) => readdirSync(dir, { recursive: true }).filter((name) => /(^|\/)index\.html$/.test(name)).length;
      console.log(`pages at ${size}: herald wrote ${pagesOf(join(herald, 'public'))} index.html files, Hugo ${pagesOf(join(hugo, 'public'))}`);
      // The floor: writing herald's own output (and its compressed copies) from memory, on two
      // threads, nothing rendered (bench/write-floor.js), from the last build's files.
      const floorFrom = join(WORK, `pages-floor-from-${size}`);
      trash.aside(floorFrom);
      renameSync(join(herald, 'public'), floorFrom);
      const floorTo = join(WORK, `pages-floor-${size}`);
      const floorRun = () => {
        trash.aside(floorTo);
        const run = runTimed('node', [join(ROOT, 'bench', 'write-floor.js'), floorFrom, floorTo], { env: CLEAN_ENV });
        return { ...run, ms: JSON.parse(run.stdout).ms, peakKb: NaN };
      };
      const samples = { herald: [], hugo: [], floor: [] };
      for (let i = 0; i < runs; i++) {
        samples.herald.push(heraldRun());
        samples.hugo.push(hugoRun());
        samples.floor.push(floorRun());
      }
      trash.aside(floorFrom);
      trash.aside(floorTo);
      const rows = { herald: summarize(`herald, ${size} posts`, samples.herald), hugo: summarize(`Hugo, ${size} posts`, samples.hugo), floor: summarize(`floor: write herald's files, ${size}`, samples.floor) };
      printTable(Object.values(rows));
      results.push({ size, runs, ...rows });
    }
  } finally {
    trash.empty();
  }
  console.log(`\npages: full build with a page per post, median of ${RUNS} interleaved runs (3 at 50,000; node ${process.version}; herald without NODE_EXTRA_CA_CERTS)`);
  printTable(results.flatMap(({ herald, hugo, floor }) => [herald, hugo, floor]));
  for (const { size, hugo, floor } of results) console.log(`floor at ${size}: merely writing herald's files and their compressed copies, on two threads, is ${(floor.medianMs / hugo.medianMs).toFixed(2)}x Hugo's whole build`);
  const verdicts = [
    ...results.map(({ size, herald, hugo }) => verdict(`pages build vs Hugo, ${size} posts`, herald.medianMs / hugo.medianMs, 0.8)),
    ...results.filter(({ size }) => size === 50_000).map(({ herald }) => under('pages build peak memory, 50,000 posts', herald.peakMb, 250, ' MB')),
  ];
  writeFileSync(join(WORK, 'results-pages.json'), `${JSON.stringify({ machine: host, results, verdicts }, null, 2)}\n`);
}

const PAGE_SIZES = [1_000, 10_000, 50_000];

/** A Hugo site over `posts` (a symlink) that writes a page per post and the RSS feed. */
function hugoPagesSite(name, posts) {
  const dir = join(WORK, name);
  const content = join(dir, 'content', 'posts');
  mkdirSync(dirname(content), { recursive: true });
  rmSync(content, { recursive: true, force: true });
  symlinkSync(posts, content, 'dir');
  mkdirSync(join(dir, 'layouts', '_default'), { recursive: true });
  writeFileSync(join(dir, 'hugo.toml'), ['baseURL = "https://example.com/"', 'title = "Bench"', 'disableKinds = ["taxonomy", "term", "section", "sitemap", "robotsTXT", "404"]', '[outputs]', 'home = ["RSS"]', 'page = ["HTML"]', '[services.rss]', 'limit = 20'].join('\n'));
  // The same page herald's post.html makes, in substance: the title, the date, the body.
  writeFileSync(join(dir, 'layouts', '_default', 'single.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ .Site.Title }}</title><link rel="alternate" type="application/rss+xml" href="{{ "index.xml" | absURL }}"></head><body><article><h1>{{ .Title }}</h1><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "January 2, 2006" }}</time>{{ .Content }}</article></body></html>\n');
  return dir;
}

/**
 * npm run bench worker: herald start on 10,000 posts with pages, its schedule ticking every
 * second. Each pass logs its duration; the figures are those: a pass in which nothing changed
 * (median of 15), and the pass that publishes one new post, against a full build of the same
 * site in the same run. Targets: at most 20 ms, and at most 10% of the full build.
 */
async function workerSection() {
  // Emptied once the worker has stopped, however the section ends: deleted earlier, the output
  // of the full builds would slow the files the publishing pass writes.
  const trash = outputTrash('worker-trash');
  try {
    await workerRuns(trash);
  } finally {
    trash.empty();
  }
}

/** How many new posts the worker section publishes, one pass each. */
const NEW_POSTS = 5;

async function workerRuns(trash) {
  const host = machine();
  const posts = corpus(POSTS);
  const dir = join(WORK, 'worker');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Its own copy of the posts: the new post must not land in the corpus the other sections share.
  cpSync(posts, join(dir, 'posts'), { recursive: true });
  writeFileSync(join(dir, 'herald.config.yml'), 'site:\n  title: Bench\n  url: https://example.com/\nposts: posts\noutput: public\nstate: .herald\nschedule: "* * * * * *"\n');
  const build = () => runTimed('node', [...HERALD_NODE_ARGS, HERALD, '--config', join(dir, 'herald.config.yml'), 'build'], { env: CLEAN_ENV });
  const full = [];
  for (let i = 0; i < 3; i++) {
    rmSync(join(dir, '.herald'), { recursive: true, force: true });
    trash.aside(join(dir, 'public'));
    full.push(build());
  }
  const fullRow = summarize('full build, 10,000 posts', full);

  const worker = await startWorker(dir, ['--no-http'], BENCH_ENV);
  // Each pass as logged: when it ended, and how long it took.
  const passLog = () => [...worker.log().matchAll(/^(\S+) pass done: [^\n]*\((\d+) ms\)$/gm)].map((match) => ({ end: Date.parse(match[1]), ms: Number(match[2]) }));
  const passes = () => passLog().map((pass) => pass.ms);
  const waitFor = async (count) => {
    while (passes().length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  let idle;
  // One pass is at the mercy of the disk (the full builds' files are still being written back):
  // five new posts, one at a time, and their median.
  const newPosts = [];
  try {
    // The first pass or two may still settle the newsletter's state; then 15 with nothing to do.
    await waitFor(passes().length + 3);
    const from = passes().length;
    await waitFor(from + 15);
    idle = passes().slice(from, from + 15);
    for (let n = 1; n <= NEW_POSTS; n++) {
      const title = `Post ${n} written while herald start was running`;
      writeFileSync(join(dir, 'posts', `zz-new-${n}.md`), `---\ntitle: "${title}"\ndate: 2026-11-0${n}T00:00:00Z\ntopics: [music]\n---\n\nJust published.\n`);
      // The pass that published it is the first to end after rss.xml was written with it. Not the
      // last pass logged when the post is seen: a pass that blocks the event loop past the next
      // tick is followed at once by that tick's pass, and both can end between two looks.
      for (let seen = passes().length; ; ) {
        await waitFor(seen + 1);
        seen = passes().length;
        const rss = join(dir, 'public', 'rss.xml');
        if (readFileSync(rss, 'utf8').includes(title)) {
          const written = statSync(rss).mtimeMs;
          newPosts.push(passLog().find((pass) => pass.end >= written).ms);
          break;
        }
      }
    }
  } finally {
    await worker.stop();
  }
  const idleMedian = median(idle);
  console.log(`\nworker: herald start on ${POSTS} posts with pages, a pass every second (node ${process.version}; without NODE_EXTRA_CA_CERTS)`);
  printTable([fullRow]);
  console.log(`passes with nothing changed (ms): ${idle.join(', ')}; median ${idleMedian}`);
  const newPost = median(newPosts);
  console.log(`the passes that published one new post each (ms): ${newPosts.join(', ')}; median ${newPost} ms (${((100 * newPost) / fullRow.medianMs).toFixed(1)}% of the full build)`);
  const verdicts = [verdict('worker pass with nothing changed, 10,000 posts', idleMedian, 20, ' ms'), verdict('worker pass with one new post vs a full build (median)', newPost / fullRow.medianMs, 0.1)];
  writeFileSync(join(WORK, 'results-worker.json'), `${JSON.stringify({ machine: host, full: fullRow, idle, idleMedian, newPosts, newPost, verdicts }, null, 2)}\n`);
}

export const SITE_SECTIONS = { site: siteSection, pages: pagesSection, worker: workerSection };
