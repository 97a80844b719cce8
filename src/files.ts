import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WriteOptions {
  mode?: number;
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
  const { mode = 0o644, durable = true } = options;
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w', mode);
    try {
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
async function syncDirectory(dir: string): Promise<void> {
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
