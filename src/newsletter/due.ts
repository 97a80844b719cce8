// What the newsletter owes: which published posts are due, and how a post is recognised again
// after an edit or a rename. Pure: the pass reads the records and the posts, and asks.
import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import { entryId } from '../feeds/model.js';
import type { PostMeta } from '../posts/parse.js';
import type { PostRecord } from './ports.js';

/** Title and date together: the same post after a rename that changes its slug and file. (No NUL: SQLite text ends there.) */
export function titleDateKey(title: string, date: number): string {
  return `${date} ${title}`;
}

const titleDate = (post: PostMeta) => titleDateKey(post.title, post.date);

/** The records of posts the newsletter knows, searchable by every name a post could come back under. */
export class PostIndex {
  private readonly byEntryId = new Map<string, PostRecord>();
  private readonly byFile = new Map<string, PostRecord>();
  private readonly byTitleDate = new Map<string, PostRecord>();

  constructor(records: PostRecord[]) {
    for (const record of records) this.add(record);
  }

  private add(record: PostRecord): void {
    this.byEntryId.set(record.entryId, record);
    this.byFile.set(record.file, record);
    this.byTitleDate.set(record.titleDate, record);
  }

  /** The record of this post, by its id, else its file, else its title and date together. */
  find(post: PostMeta): PostRecord | undefined {
    return this.byEntryId.get(entryId(post)) ?? this.byFile.get(post.file) ?? this.byTitleDate.get(titleDate(post));
  }

  /**
   * The record to keep for this post from now on: the one found (its key never changes, so the
   * delivery log stays attached), brought up to date with the post's current names; else a new one.
   */
  recordFor(post: PostMeta): PostRecord {
    const found = this.find(post);
    const names = this.namesOf(post);
    const record: PostRecord = found ? { ...found, ...names } : { key: names.entryId, atBaseline: false, ...names };
    this.add(record);
    return record;
  }

  /**
   * The records of these posts that were found under an older name (renamed, or retitled in
   * place), brought up to the posts' current names: saved, they let a second change later (a
   * rename, then a corrected title) still find the post. A record two posts claim (a new post
   * under a renamed one's old file or slug) is left as it is.
   */
  movedRecords(posts: PostMeta[]): PostRecord[] {
    const claims = new Map<PostRecord, PostMeta[]>();
    for (const post of posts) {
      const record = this.find(post);
      if (record) claims.set(record, [...(claims.get(record) ?? []), post]);
    }
    const moved: PostRecord[] = [];
    for (const [record, [post, ...others]] of claims) {
      const names = this.namesOf(post!);
      if (others.length || (names.entryId === record.entryId && names.file === record.file && names.titleDate === record.titleDate)) continue;
      moved.push(this.recordFor(post!));
    }
    return moved;
  }

  private namesOf(post: PostMeta): Pick<PostRecord, 'entryId' | 'file' | 'titleDate'> {
    return { entryId: entryId(post), file: post.file, titleDate: titleDate(post) };
  }
}

/** The records that set a baseline: every post published by then stays out of the newsletter. */
export function baselineRecords(published: PostMeta[]): PostRecord[] {
  const index = new PostIndex([]);
  return published.map((post) => ({ ...index.recordFor(post), atBaseline: true }));
}

/**
 * Published posts the newsletter has not finished sending: not there at the baseline, and newer
 * than it. A post dated with a day and no time counts from that whole day, so one dated today
 * and added after an earlier pass today still goes out. Oldest first.
 */
export function duePosts(published: PostMeta[], baseline: string | undefined, index: PostIndex, config: Config): PostMeta[] {
  if (!baseline) return [];
  const at = Date.parse(baseline);
  const zone = config.site.timezone;
  const baselineDay = DateTime.fromMillis(at, { zone }).toISODate() ?? '';
  return published
    .filter((post) => {
      const record = index.find(post);
      if (record?.atBaseline || record?.sentAt) return false;
      if (post.dateHasTime) return post.date > at;
      return (DateTime.fromMillis(post.date, { zone }).toISODate() ?? '') >= baselineDay;
    })
    .sort((a, b) => a.date - b.date || a.file.localeCompare(b.file));
}
