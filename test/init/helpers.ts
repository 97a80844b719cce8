import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import yaml from 'js-yaml';
import { main } from '../../src/cli.js';
import type { SourceTree } from '../../src/init/tree.js';

export interface Workspace {
  root: string;
  write(files: Record<string, string>): Promise<void>;
  read(path: string): Promise<string>;
  /** Runs herald in-process in `dir` (relative to root). */
  run(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** The config written at `path`, parsed as herald parses it. */
  config(path: string): Promise<Record<string, unknown>>;
}

/** A temp folder for a blog and the herald site next to it, removed when the test ends. */
export async function workspace(t: TestContext, files: Record<string, string> = {}): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), 'herald-init-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const write = async (more: Record<string, string>) => {
    for (const [path, text] of Object.entries(more)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  };
  await write(files);
  const read = (path: string) => readFile(join(root, path), 'utf8');
  return {
    root,
    write,
    read,
    run: async (dir, ...args) => {
      const cwd = join(root, dir);
      await mkdir(cwd, { recursive: true });
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(args, { cwd, env: {}, out: (line) => out.push(line), err: (line) => err.push(line) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
    config: async (path) => yaml.load(await read(path), { schema: yaml.CORE_SCHEMA }) as Record<string, unknown>,
  };
}

/** A blog's files in memory, for the readers' pure functions. */
export function memoryTree(files: Record<string, string>): SourceTree {
  const folders = new Set<string>(['']);
  for (const path of Object.keys(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  return {
    read: (path) => files[path],
    isFolder: (path) => folders.has(path),
    list: (path) => {
      const prefix = path ? `${path}/` : '';
      const names = new Map<string, boolean>();
      for (const candidate of [...Object.keys(files), ...folders]) {
        if (!candidate.startsWith(prefix) || candidate === path) continue;
        const name = candidate.slice(prefix.length).split('/')[0]!;
        if (name) names.set(name, (names.get(name) ?? false) || folders.has(prefix + name));
      }
      return [...names].map(([name, folder]) => ({ name, folder })).sort((a, b) => (a.name < b.name ? -1 : 1));
    },
  };
}

/** A post file with YAML front matter. */
export function frontMatter(fields: Record<string, unknown>, body = 'A paragraph.\n'): string {
  return `---\n${yaml.dump(fields, { lineWidth: -1 })}---\n\n${body}`;
}
