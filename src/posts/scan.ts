import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, relative, sep } from 'node:path';
import { HeraldError } from '../errors.js';
import { loadPicomatch } from '../lazy.js';

export interface PostFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** A post's file: markdown or HTML. */
export const POST_FILE = /\.(md|markdown|html?)$/i;
/** A page bundle's post: the folder is the post, its other files are published beside it (Hugo). */
export const BUNDLE_INDEX = /^index\.(md|markdown|html?)$/i;
const STAT_OPTIONS = { throwIfNoEntry: false } as const;

/** Which names below the posts folder are never looked at: hidden ones, `_` ones, and those matching `exclude`. */
function skipRule(root: string, exclude: readonly string[]): (name: string, path: string) => boolean {
  const excluded = exclude.length ? loadPicomatch()([...exclude], { dot: true }) : undefined;
  return (name, path) => name.startsWith('.') || name.startsWith('_') || (excluded !== undefined && excluded(relative(root, path).split(sep).join('/')));
}

const byPath = (a: PostFile, b: PostFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Every post file below `dir` with its size and mtime, sorted by path. Skipped: hidden files and
 * folders, those starting with `_` (Hugo's _index.md, Jekyll's _drafts), those matching
 * `exclude` (globs relative to `dir`), files that are not .md, .markdown or .html (data files,
 * images), and everything else in a page bundle's folder. Cheap on purpose (names and stats
 * only): it is all a no-change rebuild reads.
 */
export function scanPostFiles(dir: string, cwd: string, exclude: readonly string[] = []): PostFile[] {
  const root = dir.endsWith(sep) ? dir.slice(0, -1) : dir;
  const files: PostFile[] = [];
  const skips = skipRule(root, exclude);
  const walk = (folder: string) => {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch (error) {
      if (folder !== root) throw error;
      throw new HeraldError({
        code: 'E_CONFIG',
        field: 'posts',
        file: relative(cwd, root) || root,
        message: `cannot read the posts folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        hint: 'create it, or set "posts:" in herald.config.yml to the folder that holds your posts',
      });
    }
    // A folder with an index post is a page bundle: that file is the post, the rest its resources.
    const index = folder === root ? undefined : names.find((name) => BUNDLE_INDEX.test(name));
    for (const name of index ? [index] : names) {
      const path = folder + sep + name;
      if (skips(name, path)) continue;
      const stat = statSync(path, STAT_OPTIONS);
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && POST_FILE.test(name)) files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  walk(root);
  return files.sort(byPath);
}

/**
 * What scanPostFiles would answer now, from its last answer and the paths that changed since
 * (as a watch names them): only those paths are looked at, so a new post costs one stat, not one
 * per post. Undefined when a change may reach past the paths named, for the caller to scan
 * everything: a folder came, went or was renamed, or a page bundle's file changed.
 */
export function rescanPostFiles(previous: readonly PostFile[], changed: Iterable<string>, dir: string, exclude: readonly string[] = []): PostFile[] | undefined {
  const root = dir.endsWith(sep) ? dir.slice(0, -1) : dir;
  const skips = skipRule(root, exclude);
  const files = new Map(previous.map((file) => [file.path, file]));
  const bundles = new Set(previous.filter((file) => BUNDLE_INDEX.test(basename(file.path))).map((file) => dirname(file.path)));
  for (const path of changed) {
    if (!path.startsWith(root + sep)) continue;
    // Below a folder scanPostFiles skips, nothing counts.
    let skipped = false;
    for (let at = path; at !== root && !skipped; at = dirname(at)) skipped = skips(basename(at), at);
    if (skipped) continue;
    const folder = dirname(path);
    if (bundles.has(folder) || (folder !== root && BUNDLE_INDEX.test(basename(path)))) return undefined;
    const stat = statSync(path, STAT_OPTIONS);
    if (stat?.isDirectory()) return undefined;
    if (stat?.isFile() && POST_FILE.test(basename(path))) {
      files.set(path, { path, size: stat.size, mtimeMs: stat.mtimeMs });
    } else if (!files.delete(path) && !stat) {
      // Gone, and not a post: a folder of posts, maybe.
      const below = path + sep;
      if (previous.some((file) => file.path.startsWith(below))) return undefined;
    }
  }
  return [...files.values()].sort(byPath);
}
