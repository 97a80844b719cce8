// A feed's own updated time (Atom updated, RSS lastBuildDate and pubDate). Readers and caches
// take a time that goes back, or 1970, as a broken feed; a time that moves while nothing changed
// makes every build rewrite the feed. So the time is remembered per document with what it showed.

/** What the last build made of one feed document, kept in the build state. */
export interface FeedRecord {
  /** What the document was made from (entry ids, post file stamps, its links): unchanged, and its files intact, it is not made again. */
  made: string;
  /** What it shows readers: its entries as rendered. */
  shows: string;
  /** Its updated time, in milliseconds. */
  updated: number;
}

/**
 * The newest change a document shows. Unchanged, it keeps its time. A change a newer entry
 * explains (a new post, an edit with a later `updated`) takes that entry's time; any other (a post
 * removed or backdated, a post edited without a new `updated`) happened at this build, `now`.
 * Without a record (a new document, or the build state was lost) it has its newest entry's time,
 * or `now` when it is empty; but never less than the time the document already published says.
 * The time never goes back.
 */
export function documentUpdated(record: FeedRecord | undefined, shows: string, newestEntry: number | undefined, now: number, published?: number): number {
  if (!record) return newestEntry === undefined ? (published ?? now) : Math.max(newestEntry, published ?? -Infinity);
  if (record.shows === shows) return record.updated;
  if (newestEntry !== undefined && newestEntry > record.updated) return newestEntry;
  return Math.max(record.updated, now);
}
