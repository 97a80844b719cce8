// The files of a blog herald init --from reads. The readers ask only these three questions, so they
// stay pure functions of what is on disk (tests can hand them a tree too), and nothing they do can
// write, run or follow anything outside the blog's folder.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import yaml from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import { BUNDLE_INDEX, POST_FILE } from '../posts/scan.js';

export interface SourceTree {
  /** A file's text, or undefined when it is missing or not a file. Paths are relative, with /. */
  read(path: string): string | undefined;
  /** A folder's entries, sorted by name; empty when it is missing. */
  list(path: string): readonly { name: string; folder: boolean }[];
  isFolder(path: string): boolean;
}

export function diskTree(root: string): SourceTree {
  const at = (path: string) => join(root, ...path.split('/').filter(Boolean));
  return {
    read: (path) => {
      try {
        return readFileSync(at(path), 'utf8').replace(/^\uFEFF/, '');
      } catch {
        return undefined;
      }
    },
    list: (path) => {
      try {
        return readdirSync(at(path), { withFileTypes: true })
          .map((entry) => ({ name: entry.name, folder: entry.isDirectory() || (entry.isSymbolicLink() && statSync(join(at(path), entry.name), { throwIfNoEntry: false })?.isDirectory() === true) }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch {
        return [];
      }
    },
    isFolder: (path) => statSync(at(path), { throwIfNoEntry: false })?.isDirectory() === true,
  };
}

/** Parts joined into a path relative to the blog's folder, without ./ or a trailing /; '' is the folder itself. */
export function joinPath(...parts: string[]): string {
  const joined = posix.normalize(parts.filter(Boolean).join('/') || '.').replace(/\/+$/, '');
  return joined === '.' ? '' : joined.replace(/^\.\//, '');
}

// Folders that hold no posts in any of the three generators: dependencies and built output.
const NEVER = new Set(['node_modules', '_site', 'public', 'resources', 'vendor']);

/** Post files below `folder` as herald's scan sees them: no hidden or _ names, a bundle is its index. */
export function postFiles(tree: SourceTree, folder: string): string[] {
  const found: string[] = [];
  const walk = (path: string, top: boolean) => {
    const entries = tree.list(path);
    const index = top ? undefined : entries.find((entry) => !entry.folder && BUNDLE_INDEX.test(entry.name));
    for (const entry of index ? [index] : entries) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
      const child = joinPath(path, entry.name);
      if (entry.folder) walk(child, false);
      else if (POST_FILE.test(entry.name)) found.push(child);
    }
  };
  walk(folder, true);
  return found;
}

/** Every folder below `root` (itself included) with how many markdown files it holds directly. */
export function markdownCounts(tree: SourceTree, root: string, depth = 4): Map<string, number> {
  const counts = new Map<string, number>();
  const walk = (path: string, level: number) => {
    let count = 0;
    for (const entry of tree.list(path)) {
      if (entry.name.startsWith('.') || NEVER.has(entry.name)) continue;
      if (entry.folder) {
        if (level < depth && !entry.name.startsWith('_')) walk(joinPath(path, entry.name), level + 1);
        // A page bundle counts as one post of the folder it is in.
        if (tree.read(joinPath(path, entry.name, 'index.md')) !== undefined) count++;
      } else if (/\.(md|markdown)$/i.test(entry.name) && !/^(readme|license|changelog|contributing)\./i.test(entry.name)) count++;
    }
    counts.set(path, count);
  };
  walk(root, 0);
  return counts;
}

export interface PostHead {
  file: string;
  /** The front matter, or {} when it is missing or cannot be read (herald check will say why). */
  data: Record<string, unknown>;
  body: string;
}

/** Each post's front matter (YAML between ---, TOML between +++, or JSON) and body. */
export function readPosts(tree: SourceTree, folder: string): PostHead[] {
  return postFiles(tree, folder).map((file) => {
    const text = tree.read(file) ?? '';
    const match = /^(---|\+\+\+)[ \t]*\r?\n([\s\S]*?)\r?\n\1[ \t]*(?:\r?\n|$)/.exec(text);
    if (!match) return { file, data: {}, body: text };
    let data: unknown;
    try {
      data = match[1] === '+++' ? parseToml(match[2]!) : yaml.load(match[2]!, { schema: yaml.CORE_SCHEMA });
    } catch {
      data = {};
    }
    return { file, data: data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {}, body: text.slice(match[0].length) };
  });
}
