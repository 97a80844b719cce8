// npm run bench serve: `herald start` serving a built site against nginx (Debian's package) serving
// the same public/ folder, both on loopback, both loaded by autocannon in turn (interleaved rounds),
// with GET /rss.xml as a feed reader asks for it: the whole feed (200, brotli) and a revalidation
// with the ETag it holds (304).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atLeast, BENCH_ENV, machine, median, startWorker, WORK } from './common.js';
import { generateCorpus } from './gen-corpus.js';

const NGINX = '/usr/sbin/nginx';
const BROTLI_MODULE = '/usr/lib/nginx/modules/ngx_http_brotli_static_module.so';
const POSTS = 200;
const ROUNDS = 5;
const SECONDS = 4;
const CONNECTIONS = 20;
// What feed readers send; both servers answer it with the brotli copy the build wrote.
const ASK = { 'accept-encoding': 'gzip, deflate, br' };

/**
 * nginx as an unprivileged process in the foreground, with a config of its own in `dir`: one worker
 * per herald process, static files with the precompressed copies (gzip_static, brotli_static),
 * keep-alive as long as the client wants it (as Node's server does), no access log (herald keeps none).
 */
async function startNginx(dir, root, port, workers) {
  const brotli = existsSync(BROTLI_MODULE);
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${join(dir, 'temp', name)};`).join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${brotli ? `load_module ${BROTLI_MODULE};\n` : ''}worker_processes ${workers};
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
${temps}
  server {
    listen 127.0.0.1:${port};
    root ${root};
    gzip_static on;
    gzip_vary on;
${brotli ? '    brotli_static on;\n' : ''}  }
}
`,
  );
  // Run as root, the bench starts nginx as nobody: the site is world-readable, its own folder is given to it.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  if (asNobody.uid !== undefined) for (const path of [dir, join(dir, 'temp')]) chownSync(path, asNobody.uid, asNobody.gid);
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'], ...asNobody });
  let log = '';
  child.stderr.on('data', (data) => (log += data));
  const kill = () => child.kill('SIGTERM');
  process.on('exit', kill);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${log}`);
    const answer = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    if (answer) break;
    if (Date.now() > deadline) throw new Error(`nginx did not answer on port ${port}: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    brotli,
    stop: () =>
      new Promise((resolve) => {
        process.off('exit', kill);
        child.on('exit', resolve);
        kill();
      }),
  };
}

async function serve() {
  if (!existsSync(NGINX)) {
    console.log('\nserve: skipped, no nginx (Debian: apt-get install -y nginx libnginx-mod-http-brotli-static)');
    return;
  }
  const { default: autocannon } = await import('autocannon');
  const host = machine();
  const dir = join(WORK, 'serve');
  const posts = join(dir, 'posts');
  if (!existsSync(posts) || readdirSync(posts).length !== POSTS) {
    rmSync(posts, { recursive: true, force: true });
    generateCorpus(POSTS, posts);
  }
  const ports = { herald: 18_090, nginx: 18_091 };
  writeFileSync(join(dir, 'herald.config.yml'), `site:\n  title: Bench\n  url: http://127.0.0.1:${ports.herald}/\noutput: public\nschedule: "0 0 1 1 *"\n`);
  // herald's first pass builds public/, which nginx then serves as it is.
  const herald = await startWorker(dir, ['--port', String(ports.herald)], BENCH_ENV);
  const workers = Number(/serving .* with (\d+) processes/.exec(herald.log())?.[1] ?? 1);
  let nginx;
  try {
    nginx = await startNginx(join(dir, 'nginx'), join(dir, 'public'), ports.nginx, workers);
    const servers = { nginx: ports.nginx, herald: ports.herald };
    const tags = {};
    for (const [name, port] of Object.entries(servers)) {
      const answer = await fetch(`http://127.0.0.1:${port}/rss.xml`, { headers: ASK });
      if (answer.status !== 200) throw new Error(`${name} answered GET /rss.xml with ${answer.status}`);
      tags[name] = { etag: answer.headers.get('etag'), encoding: answer.headers.get('content-encoding') };
      const revalidated = await fetch(`http://127.0.0.1:${port}/rss.xml`, { headers: { ...ASK, 'if-none-match': tags[name].etag } });
      if (revalidated.status !== 304) throw new Error(`${name} answered a revalidation with ${revalidated.status}`);
    }
    const load = (port, headers) => autocannon({ url: `http://127.0.0.1:${port}/rss.xml`, connections: CONNECTIONS, duration: SECONDS, headers });
    const kinds = { ok: () => ASK, notModified: (name) => ({ ...ASK, 'if-none-match': tags[name].etag }) };
    const runs = Object.fromEntries(Object.keys(servers).map((name) => [name, { ok: [], notModified: [] }]));
    // One short untimed run each, so both meet warm caches and a JIT that has seen the path.
    for (const [name, port] of Object.entries(servers)) await autocannon({ url: `http://127.0.0.1:${port}/rss.xml`, connections: CONNECTIONS, duration: 1, headers: kinds.notModified(name) });
    for (let round = 0; round < ROUNDS; round++) {
      // Who goes first alternates, so neither always meets the machine as the other left it.
      const order = round % 2 ? ['herald', 'nginx'] : ['nginx', 'herald'];
      for (const kind of Object.keys(kinds)) {
        for (const name of order) {
          const result = await load(servers[name], kinds[kind](name));
          if (result.errors || result.non2xx !== (kind === 'ok' ? 0 : result.requests.total)) {
            // autocannon counts a 304 as non-2xx: every answer must be one, and no 200 may slip in.
            throw new Error(`${name} ${kind}: ${result.errors} errors, ${result.non2xx} non-2xx of ${result.requests.total}`);
          }
          runs[name][kind].push({ rps: result.requests.average, p99: result.latency.p99 });
        }
      }
    }
    const figures = Object.fromEntries(
      Object.entries(runs).map(([name, kinds]) => [name, Object.fromEntries(Object.entries(kinds).map(([kind, list]) => [kind, { rps: median(list.map((run) => run.rps)), p99: median(list.map((run) => run.p99)), runs: list }]))]),
    );
    // Each round's herald against the nginx run next to it: the machine's load drifts less within a pair.
    const ratio = (kind) => median(runs.herald[kind].map((run, round) => run.rps / runs.nginx[kind][round].rps));
    console.log(`\nserve: GET /rss.xml (${POSTS}-post site, ${tags.herald.encoding ?? 'identity'} from herald, ${tags.nginx.encoding ?? 'identity'} from nginx), autocannon ${CONNECTIONS} connections, ${SECONDS} s, medians of ${ROUNDS} interleaved rounds; ${workers} process(es) each`);
    for (const [label, kind] of [['200', 'ok'], ['304', 'notModified']]) {
      const row = (name) => `${name} ${figures[name][kind].rps.toFixed(0).padStart(6)} req/s p99 ${figures[name][kind].p99} ms`;
      console.log(`${label}: ${row('nginx')}   ${row('herald')}   ${ratio(kind).toFixed(2)}x (rounds: ${runs.herald[kind].map((run, round) => (run.rps / runs.nginx[kind][round].rps).toFixed(2)).join(' ')})`);
    }
    const verdicts = [atLeast('herald 200s a second vs nginx', ratio('ok'), 0.8), atLeast('herald 304s a second vs nginx', ratio('notModified'), 0.7)];
    writeFileSync(join(WORK, 'results-serve.json'), `${JSON.stringify({ machine: host, posts: POSTS, workers, nginx: spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim(), figures, verdicts }, null, 2)}\n`);
  } finally {
    await nginx?.stop();
    await herald.stop();
  }
}

export const SERVE_SECTIONS = { serve };
