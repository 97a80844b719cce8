// A long-running herald asks on every pass whether a post, template or static file changed. Looking
// at every file answers it in tens of milliseconds for a large site; the kernel can say so for free.
import { watch, readdirSync, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** How many events since the last ask are still named one by one (see the watch's callback). */
const NAMED_EVENTS = 500;

/**
 * Whether anything below some folders changed since it was last asked, from one inotify watch per
 * folder (Node 20's recursive fs.watch polls every file on Linux), and which paths, as the kernel
 * named them (lastChangedPaths). What it cannot vouch for, it reports as a change, so the caller
 * looks at the files as it would without it: the first ask; a folder that could not be watched
 * (too many folders for the kernel's limit, a folder that is not there yet); a watch that failed;
 * and once every `fullLookEveryMs`, in case the disk's changes do not reach this kernel (a
 * network share).
 */
export class FolderWatch {
  private changed = true;
  /** A folder was added or removed: the set of watched folders is looked at again. */
  private stale = true;
  private blind = false;
  private lookedAt = -Infinity;
  private lastWasFull = true;
  /** The paths the kernel named since the last ask; undefined once that is not all that changed. */
  private named: Set<string> | undefined = new Set();
  private events = 0;
  private lastNamed: ReadonlySet<string> | undefined;
  /** Each watch, with the identity of the folder it was set on (folderIdentity). */
  private readonly watchers = new Map<string, { watcher: FSWatcher; identity: string | undefined }>();
  /** Watched folders an event said went away: watched anew, whatever is at their path now. */
  private readonly gone = new Set<string>();
  private scopes = new Map<string, Set<string> | 'all'>();

  constructor(
    private readonly roots: readonly string[],
    private readonly fullLookEveryMs = 15 * 60_000,
  ) {
    this.rewatch();
  }

  /** Whether anything changed since the last call; the answer is reset by asking. */
  takeChanged(now = performance.now()): boolean {
    // A watched folder given as a symbolic link (posts/ pointed at a new release) is re-pointed
    // without an event to any watch: the link's target is looked at on every ask.
    for (const root of this.roots) {
      const watched = this.watchers.get(root);
      if (watched && folderIdentity(root) !== watched.identity) this.stale = true;
    }
    if (this.stale) this.rewatch();
    this.lastWasFull = this.blind || now - this.lookedAt >= this.fullLookEveryMs;
    const changed = this.changed || this.lastWasFull;
    this.lastNamed = this.lastWasFull ? undefined : this.named;
    this.named = new Set();
    this.events = 0;
    this.changed = false;
    // Only a full look resets its clock: a folder that changes all the time still gets one.
    if (this.lastWasFull) this.lookedAt = now;
    return changed;
  }

  /**
   * What changed before the last takeChanged(), as the kernel named it: each file or folder added,
   * removed, renamed or written, by its path. Undefined when that may not be all (the first ask, a
   * full look, an event that named nothing, a folder watched anew, a burst of events the kernel
   * may have dropped some of), for the caller to look at everything.
   */
  get lastChangedPaths(): ReadonlySet<string> | undefined {
    return this.lastNamed;
  }

  /**
   * Whether the last takeChanged() answered without the kernel's word (the first ask, a folder it
   * could not watch, the look every `fullLookEveryMs`): the time to look again at what a caller
   * otherwise takes on trust between passes.
   */
  get lastWasFullLook(): boolean {
    return this.lastWasFull;
  }

  close(): void {
    for (const { watcher } of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private rewatch(): void {
    this.stale = false;
    this.blind = false;
    // Each folder to watch, and which of its names matter: all of them, or (for the nearest folder
    // that is there, above one that is not yet: most sites have no static folder) the name that
    // would start it, so the writer's other files beside it (a log, an editor's swap file) are not
    // taken for changes.
    const scopes = new Map<string, Set<string> | 'all'>();
    for (const root of this.roots) {
      const folders = new Set<string>();
      if (this.collect(root, folders)) {
        for (const folder of folders) scopes.set(folder, 'all');
        continue;
      }
      let missing = root;
      let parent = dirname(missing);
      for (; parent !== missing && !this.collect(parent, new Set(), false); missing = parent, parent = dirname(parent));
      const scope = scopes.get(parent) ?? new Set<string>();
      if (scope !== 'all') scopes.set(parent, scope.add(basename(missing)));
    }
    this.scopes = scopes;
    // A watch stays on the folder it was set on: one moved away, or removed and made again (git
    // checkout, a folder restored from a copy), is watched anew.
    const identities = new Map([...scopes.keys()].map((folder) => [folder, folderIdentity(folder)]));
    for (const [folder, { watcher, identity }] of this.watchers) {
      if (scopes.has(folder) && !this.gone.has(folder) && identities.get(folder) === identity) continue;
      watcher.close();
      this.watchers.delete(folder);
    }
    this.gone.clear();
    for (const folder of scopes.keys()) {
      if (this.watchers.has(folder)) continue;
      // What changed in it before now was named by no one.
      this.named = undefined;
      try {
        const watcher = watch(folder, { persistent: false }, (event, name) => {
          // The kernel drops events past its queue's length (fs.inotify.max_queued_events, 16,384
          // by default, shared by every watch), and Node does not say so: past a few hundred,
          // counting those about names out of scope too, everything is looked at.
          if (++this.events > NAMED_EVENTS) {
            this.named = undefined;
            this.changed = true;
          }
          const scope = this.scopes.get(folder);
          if (scope !== 'all' && name && !scope?.has(name)) return;
          this.changed = true;
          const path = name ? join(folder, name) : undefined;
          if (path) this.named?.add(path);
          else this.named = undefined;
          // A name came or went: it may be a folder to watch, or one no longer there: named by its
          // parent, or by itself under its own name (a folder whose parent is not watched).
          if (event === 'rename') {
            this.stale = true;
            if (path && this.watchers.has(path)) this.gone.add(path);
            if (name === basename(folder)) this.gone.add(folder);
          }
        });
        watcher.on('error', () => this.lose(folder));
        this.watchers.set(folder, { watcher, identity: identities.get(folder) });
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
    this.watchers.get(folder)?.watcher.close();
    this.watchers.delete(folder);
    this.blind = true;
    this.stale = true;
  }
}

/**
 * What tells a folder from another made at the same path: its inode and, where the file system
 * keeps one, its birth time (a folder removed and made again at once often gets the same inode).
 */
function folderIdentity(folder: string): string | undefined {
  const stat = statSync(folder, { throwIfNoEntry: false });
  return stat && `${stat.ino}:${stat.birthtimeMs}`;
}
