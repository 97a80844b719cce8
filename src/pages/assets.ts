// Files published as they are: the static folders (images, CSS, a favicon), and the files beside a
// page bundle's post (Hugo's posts/my-post/index.md with its images), which go beside its page, so
// a post's relative images load in the archive, the feeds and the emails. Copied only when they
// changed, each atomically; a copy whose source is gone is removed.
import { readdirSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Config } from '../config.js';
import { removeEmptyFolders, writeFileAtomic } from '../files.js';
import type { PostMeta } from '../posts/parse.js';
import { pagePath } from './paths.js';

export interface CopiedFiles {
  /** Copies made now, relative to the working directory. */
  written: string[];
  /** Every copy in output, with the size and mtime of its source when it was made. */
  copies: Record<string, string>;
  /** How many copies were removed, their source gone. */
  removed: number;
}

// Posts themselves and hidden files are never copied; nor are a bundle's other markdown files,
// which Hugo treats as the post's resources, not as pages.
const SKIP = /(^|[\\/])\.|\.(md|markdown)$/i;
// Save one: .well-known at a static folder's root (RFC 8615: security.txt, ACME challenges) is
// published, as herald start serves it.
const WELL_KNOWN = /^\.well-known(?=[\\/]|$)/;
const skippedStatic = (rel: string) => SKIP.test(rel.replace(WELL_KNOWN, 'well-known'));

/** Every file below `folder` (hidden ones aside), with its size and mtime. */
function filesBelow(folder: string): { path: string; stamp: string }[] {
  const found: { path: string; stamp: string }[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.') && !(dir === folder && name === '.well-known')) continue;
      const path = join(dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(path);
      else if (stat?.isFile()) found.push({ path, stamp: `${stat.size}:${stat.mtimeMs}` });
    }
  };
  walk(folder);
  return found;
}

/** What should be in output: destination -> [source, stamp]. */
function wanted(config: Config, cwd: string, published: PostMeta[]): Map<string, [string, string]> {
  const copies = new Map<string, [string, string]>();
  for (const { folder, path } of config.paths.static) {
    for (const file of filesBelow(folder)) {
      if (skippedStatic(relative(folder, file.path))) continue;
      copies.set(join(config.paths.output, path, relative(folder, file.path)), [file.path, file.stamp]);
    }
  }
  for (const post of published) {
    if (!post.bundle) continue;
    const bundle = resolve(cwd, post.bundle);
    const beside = dirname(pagePath(config, post.url));
    for (const file of filesBelow(bundle)) {
      if (SKIP.test(relative(bundle, file.path)) || file.path.split(sep).some((part) => part.startsWith('_'))) continue;
      copies.set(join(beside, relative(bundle, file.path)), [file.path, file.stamp]);
    }
  }
  return copies;
}

/**
 * Whether a static folder holds a file that is copied to `path` in output: the writer's own
 * robots.txt, say, which herald then does not write, so the two never take turns.
 */
export function fromStatic(config: Config, path: string): boolean {
  return config.paths.static.some(({ folder, path: below }) => {
    const rel = relative(join(config.paths.output, below), path);
    if (rel.startsWith('..') || isAbsolute(rel) || skippedStatic(rel)) return false;
    return statSync(join(folder, rel), { throwIfNoEntry: false })?.isFile() ?? false;
  });
}

/**
 * The names, sizes and mtimes of every file in the static folders and in these bundle folders:
 * a build that finds them and the posts unchanged has nothing to copy.
 */
export function assetsStamp(config: Config, bundles: string[]): string {
  return [...config.paths.static.map(({ folder }) => folder), ...bundles].flatMap((folder) => filesBelow(folder).map((file) => `${file.path}\0${file.stamp}`)).join('\n');
}

export async function copyAssets(config: Config, cwd: string, published: PostMeta[], previous: Record<string, string>): Promise<CopiedFiles> {
  const result: CopiedFiles = { written: [], copies: {}, removed: 0 };
  for (const [to, [from, stamp]] of wanted(config, cwd, published)) {
    result.copies[to] = stamp;
    if (previous[to] === stamp && statSync(to, { throwIfNoEntry: false })) continue;
    await writeFileAtomic(to, await readFile(from), { durable: false });
    result.written.push(relative(cwd, to));
  }
  for (const path of Object.keys(previous)) {
    if (path in result.copies) continue;
    await rm(path, { force: true });
    await removeEmptyFolders(dirname(path), config.paths.output);
    result.removed++;
  }
  return result;
}
