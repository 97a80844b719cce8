import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

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
}

// Temp file in the same directory, then rename: readers see the old file or the new one,
// never half of either, and a crash or kill leaves the old file intact.
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  const { mode = 0o644, dirMode, durable = true } = options;
  await mkdir(dirname(path), { recursive: true, mode: dirMode });
  // The rename replaces the file with a new inode, which would take the temp file's mode.
  const existingMode = await stat(path).then(
    (info) => info.mode & 0o777,
    () => undefined,
  );
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w', existingMode ?? mode);
    try {
      // Exactly the old mode: open's mode is cut by the umask, and the user may have set more.
      if (existingMode !== undefined) await handle.chmod(existingMode);
      await handle.writeFile(data);
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

/** Writes only when the bytes differ, so an unchanged file keeps its mtime (and HTTP caches stay valid). */
export async function writeIfChanged(path: string, data: string): Promise<boolean> {
  const bytes = Buffer.from(data, 'utf8');
  const current = await readFile(path).catch(() => undefined);
  if (current && current.equals(bytes)) return false;
  await writeFileAtomic(path, bytes, { durable: false });
  return true;
}
