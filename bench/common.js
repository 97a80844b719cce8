// What every bench section shares: where things are, how herald is run, and small helpers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { GENERATOR_VERSION, generateCorpus } from './gen-corpus.js';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const WORK = join(ROOT, 'bench', 'work');
export const HERALD = join(ROOT, 'dist', 'cli.js');
// Extra node options for every herald the bench starts, e.g. BENCH_NODE_ARGS="--cpu-prof
// --cpu-prof-dir=bench/work/profiles" to see where a section's time goes (it slows herald a little).
export const HERALD_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
// NODE_EXTRA_CA_CERTS makes every Node process parse the whole CA bundle before running a line:
// 36 ms per start on the sandbox this bench was written on, which sets it for its registry proxy.
// A writer's machine does not, and a feed build makes no TLS connection, so herald's timed runs go
// without it; when it is set, the feeds section also times herald with it, and prints both.
export const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'));
// herald refuses a signing secret under 32 characters; with one in the environment it writes none.
export const SECRET = 'bench-only-secret-not-for-any-real-list-0123456789';
export const BENCH_ENV = { ...CLEAN_ENV, HERALD_SECRET: SECRET };

export const thousands = (n) => n.toLocaleString('en-US');

/**
 * Where a section moves the output of its last full build, so the next starts from none: moved
 * aside, not deleted, and the pile goes once the section is done (empty()). This machine's ext4
 * runs without a journal, and there creating a file within a minute of deleting tens of thousands
 * makes the kernel step over every recently freed inode (perf: recently_deleted, 40% of a build's
 * time): a cost of the bench's own cleanup that no writer's first build meets.
 */
export function outputTrash(name) {
  const trash = join(WORK, name);
  rmSync(trash, { recursive: true, force: true });
  mkdirSync(trash, { recursive: true });
  let moved = 0;
  return {
    aside(dir) {
      if (existsSync(dir)) renameSync(dir, join(trash, String(moved++)));
    },
    empty() {
      rmSync(trash, { recursive: true, force: true });
    },
  };
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The 1-minute load average before a section starts: other work on the machine shows in every figure. */
export function machine() {
  const load = loadavg()[0];
  const cores = cpus().length;
  if (load > cores / 2) console.log(`note: load average ${load.toFixed(1)} on ${cores} cores before this section; something else is running, and the figures will show it`);
  return { load: Number(load.toFixed(2)), cores, node: process.version };
}

// GNU time's last line of stderr: peak RSS in KB, then user and system CPU seconds.
export const TIME_FORMAT = ['-f', '%M %U %S'];

export function timeLine(stderr) {
  if (!GNU_TIME) return { peakKb: NaN, cpuMs: NaN };
  const [peakKb, user, system] = stderr.trim().split('\n').pop().split(' ').map(Number);
  return { peakKb, cpuMs: (user + system) * 1000 };
}

/**
 * Runs a command once from the project root: wall time in ms, peak RSS in KB and CPU time in ms
 * (user + system; both from GNU time, NaN without it), and its stdout. Prints the output and
 * aborts on a non-zero exit.
 */
export function runTimed(command, args, { env = process.env } = {}) {
  const [file, argv] = GNU_TIME ? [GNU_TIME, [...TIME_FORMAT, command, ...args]] : [command, args];
  const started = process.hrtime.bigint();
  const child = spawnSync(file, argv, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (${child.error?.message ?? `exit ${child.status ?? child.signal}`}):\n${child.stdout ?? ''}\n${child.stderr ?? ''}`);
    process.exit(1);
  }
  return { ms, ...timeLine(child.stderr), stdout: child.stdout };
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const toMb = (kb) => kb / 1024;
export const mb = (value) => (Number.isNaN(value) ? 'n/a' : value.toFixed(0));

export function summarize(label, samples) {
  const ms = samples.map((s) => s.ms);
  return { label, runs: ms.length, medianMs: median(ms), minMs: Math.min(...ms), peakMb: toMb(Math.max(...samples.map((s) => s.peakKb))) };
}

export function printTable(rows) {
  console.log(`${'command'.padEnd(34)}${'median ms'.padStart(11)}${'min ms'.padStart(9)}${'peak MB'.padStart(9)}`);
  for (const row of rows) {
    console.log(`${row.label.padEnd(34)}${row.medianMs.toFixed(0).padStart(11)}${row.minMs.toFixed(0).padStart(9)}${mb(row.peakMb).padStart(9)}`);
  }
}

export function verdict(name, value, target, unit = 'x', digits = unit === 'x' ? 3 : 0) {
  if (Number.isNaN(value)) {
    console.log(`n/a   ${name}: not measured (target <= ${target}${unit})`);
    return { name, value: null, target, ok: null };
  }
  const ok = value <= target;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${value.toFixed(digits)}${unit} (target <= ${target}${unit})`);
  return { name, value, target, ok };
}

/** Like verdict, for targets written as "under": the value must stay strictly below. */
export function under(name, value, target, unit, digits = 0) {
  if (Number.isNaN(value)) {
    console.log(`n/a   ${name}: not measured (target < ${target}${unit})`);
    return { name, value: null, target, ok: null };
  }
  const ok = value < target;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${value.toFixed(digits)}${unit} (target < ${target}${unit})`);
  return { name, value, target, ok };
}

export function atLeast(name, value, target) {
  const ok = value >= target;
  console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${value.toFixed(3)}x (target >= ${target}x)`);
  return { name, value, target, ok };
}

export function countItems(xml) {
  return (xml.match(/<item>/g) ?? []).length;
}

/**
 * The generated corpus of `count` posts the sections share, written if need be: bench/work/posts
 * for 10,000 (the feeds and site sections' own), bench/work/posts-N for other sizes.
 */
export function corpus(count) {
  const posts = join(WORK, count === 10_000 ? 'posts' : `posts-${count}`);
  ensureCorpus(posts, count);
  return posts;
}

/** Writes `count` generated posts to the folder `posts` unless the same generator already wrote them there. */
export function ensureCorpus(posts, count) {
  // Beside the folder, not in it: herald and Hugo would read it as content.
  const marker = `${posts}.corpus.json`;
  const wanted = JSON.stringify({ generator: GENERATOR_VERSION, posts: count });
  const current = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
  const files = existsSync(posts) ? readdirSync(posts).filter((name) => name.endsWith('.md')).length : 0;
  if (current === wanted && files === count) return;
  console.log(`generating ${count} posts in ${posts} ...`);
  rmSync(marker, { force: true });
  rmSync(posts, { recursive: true, force: true });
  generateCorpus(count, posts);
  writeFileSync(marker, wanted);
}

/** Starts `herald start` in dir; resolves once its first pass is done, with its port and a way to stop it. */
export async function startWorker(dir, args, env) {
  const { spawn } = await import('node:child_process');
  const child = spawn('node', [...HERALD_NODE_ARGS, HERALD, '--config', join(dir, 'herald.config.yml'), 'start', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const port = Number(/serving http:\/\/\S+:(\d+)\//.exec(log)?.[1] ?? NaN);
  // A bench that stops early (process.exit on a failed run) must not leave herald running.
  const kill = () => child.kill('SIGTERM');
  process.on('exit', kill);
  const stop = () =>
    new Promise((resolve) => {
      process.off('exit', kill);
      child.on('exit', resolve);
      kill();
    });
  return { port, pid: child.pid, log: () => log, stop };
}
