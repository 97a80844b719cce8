// What every bench section shares: where things are, how herald is run, and small helpers.
import { existsSync } from 'node:fs';
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
