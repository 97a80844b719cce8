import { readdirSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
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
  const excluded = exclude.length ? loadPicomatch()([...exclude], { dot: true }) : undefined;
  const isExcluded = (path: string) => excluded !== undefined && excluded(relative(root, path).split(sep).join('/'));
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
      if (name.startsWith('.') || name.startsWith('_')) continue;
      const path = folder + sep + name;
      if (isExcluded(path)) continue;
      const stat = statSync(path, STAT_OPTIONS);
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && POST_FILE.test(name)) files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  walk(root);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
