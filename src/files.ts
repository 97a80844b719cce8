import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';

export interface WriteOptions {
  /**
   * The mode of a new file (less the umask); default 0o644, for what is published anyway.
   * Private data (subscribers, the ledger, the secret) passes 0o600. A file that exists keeps
   * its own mode: a user's chmod 600 must survive the next write.
   */
  mode?: number;
  /** The mode of folders created on the way (less the umask); 0o700 for private data. */
  dirMode?: number;
  /**
   * fsync the file and its folder, so the new content survives a power cut. Needed for state
   * that cannot be rebuilt (subscribers, the delivery ledger); feeds and caches are rebuilt
   * from the posts, so they skip the cost.
   */
  durable?: boolean;
  /** The caller just found no file at the path (a read failed): there is no mode to keep. */
  isNew?: boolean;
}

// Temp file in the same directory, then rename: readers see the old file or the new one,
// never half of either, and a crash or kill leaves the old file intact.
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string>, options: WriteOptions = {}): Promise<void> {
  const { mode = 0o644, dirMode, durable = true, isNew = false } = options;
  // The rename replaces the file with a new inode, which would take the temp file's mode.
  const existingMode = isNew
    ? undefined
    : await stat(path).then(
        (info) => info.mode & 0o777,
        () => undefined,
      );
  const temp = tempPath(path);
  try {
    // The folder is made only when it is missing: a build writes thousands of files into folders
    // that exist, and a mkdir for each was a tenth of a large build.
    const handle = await open(temp, 'w', existingMode ?? mode).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true, mode: dirMode });
      return open(temp, 'w', existingMode ?? mode);
    });
    try {
      // Exactly the old mode: open's mode is cut by the umask, and the user may have set more.
      if (existingMode !== undefined) await handle.chmod(existingMode);
      // fs.writeFile, whose types (unlike the handle's own method's) take text in pieces too.
      await writeFile(handle, data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (durable) await syncDirectory(dirname(path));
}

/**
 * writeFileAtomic for published files (feeds, pages and their copies), which are rebuilt from the
 * posts and need no fsync: the same temp file and rename, done synchronously. A build writes tens
 * of thousands of them, and each asynchronous call is a hand-off to the thread pool and back:
 * 15,000 files took 2.7 s and 4.4 s of CPU that way, 1.0 s and 1.0 s like this.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array, { isNew = false }: { isNew?: boolean } = {}): void {
  const existingMode = isNew ? undefined : statSync(path, { throwIfNoEntry: false })?.mode;
  const temp = tempPath(path);
  try {
    let fd: number;
    try {
      fd = openSync(temp, 'w', existingMode === undefined ? 0o644 : existingMode & 0o777);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(temp, 'w', existingMode === undefined ? 0o644 : existingMode & 0o777);
    }
    try {
      if (existingMode !== undefined) fchmodSync(fd, existingMode & 0o777);
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

// Unique to this process and write; another process has another pid. A dot file, as nothing that
// publishes a folder serves those (herald start, GitHub Pages, most deploy tools leave them out):
// a write under way, or one a killed build left behind, is never a page of the site.
let tempCounter = 0;
const tempPath = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.${(tempCounter++).toString(36)}.tmp`);

/** A file's bytes; null when there is no file, undefined when it could not be read. */
export function readExistingSync(path: string): Buffer | null | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}

// The rename itself is only durable once the directory entry is on disk.
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}

/**
 * Removes `dir` and the folders above it, up to but not including `root`, while they are empty: a
 * post unpublished leaves no empty folder at its old address (a fresh build would have none).
 */
export async function removeEmptyFolders(dir: string, root: string): Promise<void> {
  for (let at = dir; at.startsWith(root + sep); at = dirname(at)) {
    try {
      await rmdir(at);
    } catch {
      return;
    }
  }
}
