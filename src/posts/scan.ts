import { lstatSync, readdirSync, statSync } from 'node:fs';
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

/** What scanPostFolder found. */
export interface PostScan {
  files: PostFile[];
  /** A symbolic link below the posts folder: no watch sees what it leads to (see rescanPostFiles). */
  linked: boolean;
  /** The page bundles' folders, their index post skipped or not. */
  bundles: string[];
}

/**
 * Every post file below `dir` with its size and mtime, sorted by path. Skipped: hidden files and
 * folders, those starting with `_` (Hugo's _index.md, Jekyll's _drafts), those matching
 * `exclude` (globs relative to `dir`), files that are not .md, .markdown or .html (data files,
 * images), and everything else in a page bundle's folder. Cheap on purpose (names and stats
 * only): it is all a no-change rebuild reads.
 */
export function scanPostFiles(dir: string, cwd: string, exclude: readonly string[] = []): PostFile[] {
  return scanPostFolder(dir, cwd, exclude).files;
}

// What a writer reads in place of the system's error codes.
const FOLDER_ERRORS: Record<string, string> = { ENOENT: 'there is no such folder (ENOENT)', ENOTDIR: 'it is a file, not a folder (ENOTDIR)', EACCES: 'herald may not read it (EACCES)' };

/** scanPostFiles, with what rescanPostFiles needs besides: whether the folder holds a symbolic link, and its page bundles. */
export function scanPostFolder(dir: string, cwd: string, exclude: readonly string[] = []): PostScan {
  const root = dir.endsWith(sep) ? dir.slice(0, -1) : dir;
  const files: PostFile[] = [];
  const bundles: string[] = [];
  let linked = false;
  const skips = skipRule(root, exclude);
  const walk = (folder: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      if (folder !== root) throw error;
      throw new HeraldError({
        code: 'E_CONFIG',
        field: 'posts',
        file: relative(cwd, root) || root,
        message: `cannot read the posts folder: ${FOLDER_ERRORS[(error as NodeJS.ErrnoException).code ?? ''] ?? (error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        hint: 'create it, or set "posts:" in herald.config.yml to the folder that holds your posts',
      });
    }
    // A folder with an index post is a page bundle: that file is the post, the rest its resources.
    const index = folder === root ? undefined : entries.find((entry) => BUNDLE_INDEX.test(entry.name));
    if (index) bundles.push(folder);
    for (const entry of index ? [index] : entries) {
      const { name } = entry;
      const path = folder + sep + name;
      if (skips(name, path)) continue;
      if (entry.isSymbolicLink()) linked = true;
      const stat = statSync(path, STAT_OPTIONS);
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && POST_FILE.test(name)) files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  walk(root);
  return { files: files.sort(byPath), linked, bundles };
}

/**
 * What scanPostFolder would answer now, from its last answer and the paths that changed since
 * (as a watch names them): only those paths are looked at, so a new post costs one stat, not one
 * per post. Undefined when a change may reach past the paths named, for the caller to scan
 * everything: the posts folder itself went, came back or was replaced; a folder below it came,
 * went or was renamed; a page bundle or a symbolic link is involved (no watch follows a link).
 */
export function rescanPostFiles(previous: PostScan, changed: Iterable<string>, dir: string, exclude: readonly string[] = []): PostScan | undefined {
  if (previous.linked) return undefined;
  const root = dir.endsWith(sep) ? dir.slice(0, -1) : dir;
  if (!statSync(root, STAT_OPTIONS)?.isDirectory()) return undefined;
  const skips = skipRule(root, exclude);
  const files = new Map(previous.files.map((file) => [file.path, file]));
  // Every folder below the root that holds a post; the page bundles.
  const folders = new Set<string>();
  for (const { path } of previous.files) for (let at = dirname(path); at !== root && !folders.has(at); at = dirname(at)) folders.add(at);
  const bundles = new Set(previous.bundles);
  for (const path of changed) {
    // The posts folder itself, or a folder above it, came, went or was moved.
    if (path === root || root.startsWith(path + sep)) return undefined;
    if (!path.startsWith(root + sep)) continue;
    // Below a folder scanPostFiles skips, nothing counts; below a page bundle, only its index.
    let skipped = false;
    let inBundle = false;
    for (let at = path; at !== root; at = dirname(at)) {
      skipped ||= skips(basename(at), at);
      inBundle ||= at !== path && bundles.has(at);
    }
    if (skipped) continue;
    if (inBundle || folders.has(path) || (dirname(path) !== root && BUNDLE_INDEX.test(basename(path)))) return undefined;
    const stat = lstatSync(path, STAT_OPTIONS);
    if (stat?.isDirectory() || stat?.isSymbolicLink()) return undefined;
    if (stat?.isFile() && POST_FILE.test(basename(path))) files.set(path, { path, size: stat.size, mtimeMs: stat.mtimeMs });
    else files.delete(path);
  }
  return { files: [...files.values()].sort(byPath), linked: false, bundles: previous.bundles };
}
