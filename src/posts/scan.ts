import { readdirSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { HeraldError } from '../errors.js';

export interface PostFile {
  path: string;
  size: number;
  mtimeMs: number;
}

const POST_FILE = /\.(md|markdown)$/i;
const STAT_OPTIONS = { throwIfNoEntry: false } as const;

/**
 * Every post file below `dir` with its size and mtime, sorted by path; hidden files and folders
 * are skipped. Cheap on purpose (names and stats only): it is all a no-change rebuild reads.
 */
export function scanPostFiles(dir: string, cwd: string): PostFile[] {
  const root = dir.endsWith(sep) ? dir.slice(0, -1) : dir;
  const files: PostFile[] = [];
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
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = folder + sep + name;
      const stat = statSync(path, STAT_OPTIONS);
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && POST_FILE.test(name)) files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  };
  walk(root);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
