import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { main } from '../src/cli.js';

export interface PostFields {
  title?: string;
  date?: string;
  topics?: string | string[];
  draft?: boolean;
  summary?: string;
  slug?: string;
  updated?: string;
  body?: string;
}

/** A real-looking post file: YAML front matter and a markdown body. */
export function post(fields: PostFields = {}): string {
  const { body = 'A paragraph of the post.\n', ...front } = { title: 'A post', date: '2026-01-26', ...fields };
  const lines = Object.entries(front)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? `[${value.join(', ')}]` : typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  return `---\n${lines.join('\n')}\n---\n\n${body}`;
}

export interface Site {
  dir: string;
  /** Runs herald in the site's folder, in-process. */
  run(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  write(path: string, text: string): Promise<void>;
  read(path: string): Promise<string>;
}

export const SITE_CONFIG = `site:
  title: Test site
  url: https://example.com/
  description: A site for tests
  author:
    name: Ada Writer
    email: ada@example.com
`;

/** A temp folder with a config and posts, removed when the test ends. */
export async function makeSite(t: TestContext, posts: Record<string, string> = {}, config: string | null = SITE_CONFIG): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  };
  if (config !== null) await write('herald.config.yml', config);
  await mkdir(join(dir, 'posts'), { recursive: true });
  for (const [name, text] of Object.entries(posts)) await write(join('posts', name), text);
  return {
    dir,
    write,
    read: (path) => readFile(join(dir, path), 'utf8'),
    run: async (...args) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(args, { cwd: dir, env: {}, out: (line) => out.push(line), err: (line) => err.push(line) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
  };
}

/** The built herald, as installed (`npm test` builds it first). */
export const BUILT_CLI = join(import.meta.dirname, '../dist/cli.js');

/** Runs the built herald in `cwd` as its own process. */
export function runBuilt(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BUILT_CLI, ...args], { cwd }, (error, out, err) => resolve({ code: error ? Number(error.code) : 0, out, err }));
  });
}

/** A seeded random number generator (mulberry32): the same numbers in [0, 1) every run. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A loopback port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The newsletter core on a site's real database, closed when the test ends. */
export async function testApp(t: TestContext, dir: string, config: import('../src/config.js').Config, env: NodeJS.ProcessEnv = {}): Promise<import('../src/app.js').App> {
  const { openApp } = await import('../src/app.js');
  const app = await openApp(config, { cwd: dir, env: { HERALD_SECRET: 'a-test-secret-that-is-long-enough-0123456789', ...env }, clock: { now: () => new Date() } });
  t.after(() => app.close());
  return app;
}
