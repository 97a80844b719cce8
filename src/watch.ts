// A long-running herald asks on every pass whether a post, template or static file changed. Looking
// at every file answers it in tens of milliseconds for a large site; the kernel can say so for free.
import { watch, readdirSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Whether anything below some folders changed since it was last asked, from one inotify watch per
 * folder (Node 20's recursive fs.watch polls every file on Linux). What it cannot vouch for, it
 * reports as a change, so the caller looks at the files as it would without it: the first ask; a
 * folder that could not be watched (too many folders for the kernel's limit, a folder that is
 * not there yet); a watch that failed; and once every `fullLookEveryMs`, in case the disk's
 * changes do not reach this kernel (a network share).
 */
export class FolderWatch {
  private changed = true;
  /** A folder was added or removed: the set of watched folders is looked at again. */
  private stale = true;
  private blind = false;
  private lookedAt = -Infinity;
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(
    private readonly roots: readonly string[],
    private readonly fullLookEveryMs = 15 * 60_000,
  ) {
    this.rewatch();
  }

  /** Whether anything changed since the last call; the answer is reset by asking. */
  takeChanged(now = performance.now()): boolean {
    if (this.stale) this.rewatch();
    const changed = this.changed || this.blind || now - this.lookedAt >= this.fullLookEveryMs;
    this.changed = false;
    if (changed) this.lookedAt = now;
    return changed;
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private rewatch(): void {
    this.stale = false;
    this.blind = false;
    const folders = new Set<string>();
    for (const root of this.roots) {
      if (this.collect(root, folders)) continue;
      // A folder that is not there yet (most sites have no static folder) is seen coming by a watch
      // on the nearest folder that is.
      let parent = root;
      while (parent !== dirname(parent) && !this.collect((parent = dirname(parent)), folders, false));
    }
    for (const [folder, watcher] of this.watchers) {
      if (folders.has(folder)) continue;
      watcher.close();
      this.watchers.delete(folder);
    }
    for (const folder of folders) {
      if (this.watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, (event) => {
          this.changed = true;
          // A name came or went: it may be a folder to watch, or one no longer there.
          if (event === 'rename') this.stale = true;
        });
        watcher.on('error', () => this.lose(folder));
        this.watchers.set(folder, watcher);
      } catch {
        this.lose(folder);
      }
    }
    // Whatever changed while the watches were being set up is only seen by a look at the files.
    this.changed = true;
  }

  /** Adds the folder (and those below it, with `below`) to `into`; false when it is not a folder. */
  private collect(folder: string, into: Set<string>, below = true): boolean {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return false;
    }
    into.add(folder);
    if (below) for (const entry of entries) if (entry.isDirectory()) this.collect(join(folder, entry.name), into);
    return true;
  }

  private lose(folder: string): void {
    this.watchers.get(folder)?.close();
    this.watchers.delete(folder);
    this.blind = true;
    this.stale = true;
  }
}
