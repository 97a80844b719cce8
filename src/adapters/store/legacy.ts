// Before the database, herald kept its list in subscribers/subscribers.csv, its baseline and sent
// posts in .herald/newsletter.json, and who got what in .herald/deliveries/*.log (one file per job).
// On first use of a new database they are brought in once, so an upgrade forgets nobody and sends
// nothing twice. The old files are left as they were.
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Config } from '../../config.js';
import { HeraldError, type Problem } from '../../errors.js';
import { legacyEntryId } from '../../feeds/model.js';
import { titleDateKey } from '../../newsletter/due.js';
import type { Newsletter } from '../../newsletter/newsletter.js';
import type { DeliveryUpdate, PostRecord, Store } from '../../newsletter/ports.js';
import { addressKey } from '../../newsletter/subscriber.js';
import type { PostMeta } from '../../posts/parse.js';

const DONE = 'legacy_files_read';

/** newsletter.json wrote "title NUL date"; the database keeps "date title". */
function legacyTitleDate(value: string): string {
  const [title = '', date = ''] = value.split('\0');
  return titleDateKey(title, Number(date));
}

interface LegacyState {
  baseline: string | null;
  baselinePosts: string[];
  sent: { id: string; file: string; titleDate: string; sentAt: string; recipients: number }[];
}

export interface LegacyReport {
  /** What was brought in, one line each, for the command to print. */
  notes: string[];
  /** Rows of the old list that could not be read: they stay in the CSV only. */
  problems: Problem[];
}

/** A store that keeps small facts about itself: whether the older files were brought in (SQLite answers at once, PostgreSQL later). */
export interface LegacyTarget extends Store {
  readonly meta: { get(key: string): string | undefined | Promise<string | undefined>; set(key: string, value: string): void | Promise<void> };
}

export async function importLegacyFiles(store: LegacyTarget, newsletter: Newsletter, config: Config, cwd: string, posts: () => Promise<PostMeta[]>): Promise<LegacyReport> {
  const report: LegacyReport = { notes: [], problems: [] };
  if (await store.meta.get(DONE)) return report;
  const shown = (path: string) => relative(cwd, path) || path;
  const database = config.database.url ? store.description : shown(config.database.file);

  const csv = join(config.paths.subscribers, 'subscribers.csv');
  if (existsSync(csv)) {
    const firstLine = readFileSync(csv, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    const imported = await newsletter.importCsv(createReadStream(csv), firstLine, shown(csv));
    report.problems.push(...imported.rejected);
    report.notes.push(
      `moved the subscriber list into ${database}: ${imported.added} subscribers from ${shown(csv)}` +
        `${imported.rejected.length ? ` (${imported.rejected.length} unreadable rows stay in the CSV only, see below)` : ''}. ` +
        `The list lives in the database now: ${shown(csv)} is left as it was and no longer read (herald subscribers export writes the list as CSV)`,
    );
  }

  const stateFile = join(config.paths.state, 'newsletter.json');
  if (existsSync(stateFile)) {
    let state: LegacyState;
    try {
      state = JSON.parse(readFileSync(stateFile, 'utf8')) as LegacyState;
      if (!Array.isArray(state.baselinePosts) || !Array.isArray(state.sent)) throw new Error('it is not the file herald wrote');
    } catch (error) {
      throw new HeraldError({
        code: 'E_STATE',
        file: shown(stateFile),
        message: `cannot read what the newsletter has sent: ${(error as Error).message}`,
        hint: 'restore it from a backup, or delete it if nothing was ever mailed (the next run then sets a new baseline and mails no post already published)',
      });
    }
    if (state.baseline) {
      const records = new Map<string, PostRecord>();
      for (const id of state.baselinePosts) records.set(id, { key: id, entryId: id, file: '', titleDate: '', atBaseline: true });
      for (const sent of state.sent) records.set(sent.id, { key: sent.id, entryId: sent.id, file: sent.file, titleDate: legacyTitleDate(sent.titleDate), atBaseline: records.has(sent.id), sentAt: sent.sentAt, recipients: sent.recipients });
      await store.state.setBaseline(state.baseline, [...records.values()]);
      const resumed = await importLedgers(store, config, state, posts);
      report.notes.push(`brought in the newsletter's baseline (${state.baseline}) and ${state.sent.length} sent posts from ${shown(stateFile)}${resumed ? `, and ${resumed} deliveries of posts still going out` : ''}`);
    }
  }
  await store.meta.set(DONE, new Date().toISOString());
  return report;
}

/**
 * The old per-job ledgers of posts that were still going out: a job's file name is a hash of its
 * key (`post:<id>`, or `digest:<id>,<id>...` of the posts due together), so the keys are rebuilt
 * from the posts the old rules found due. Returns how many deliveries were brought in.
 */
async function importLedgers(store: Store, config: Config, state: LegacyState, posts: () => Promise<PostMeta[]>): Promise<number> {
  const folder = join(config.paths.state, 'deliveries');
  const files = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.log')) : [];
  if (!files.length || !state.baseline) return 0;
  const sent = new Set(state.sent.flatMap((post) => [post.id, post.file, legacyTitleDate(post.titleDate)]));
  const atBaseline = new Set(state.baselinePosts);
  const baseline = Date.parse(state.baseline);
  const zone = config.site.timezone;
  const baselineDay = DateTime.fromMillis(baseline, { zone }).toISODate() ?? '';
  const due = (await posts())
    .filter((post) => !post.draft && post.date <= Date.now())
    .filter((post) => {
      const id = legacyEntryId(post, config.site.url);
      if (atBaseline.has(id) || sent.has(id) || sent.has(post.file) || sent.has(titleDateKey(post.title, post.date))) return false;
      return post.dateHasTime ? post.date > baseline : (DateTime.fromMillis(post.date, { zone }).toISODate() ?? '') >= baselineDay;
    })
    .sort((a, b) => a.date - b.date);
  const jobs = new Map<string, PostMeta[]>();
  const ledgerName = (key: string) => `${createHash('sha256').update(key).digest('base64url').slice(0, 24)}.log`;
  for (const post of due) jobs.set(ledgerName(`post:${legacyEntryId(post, config.site.url)}`), [post]);
  if (due.length > 1) jobs.set(ledgerName(`digest:${due.map((post) => legacyEntryId(post, config.site.url)).join(',')}`), due);
  let count = 0;
  for (const file of files) {
    const job = jobs.get(file);
    if (!job) continue;
    const updates: DeliveryUpdate[] = [];
    for (const line of readFileSync(join(folder, file), 'utf8').split('\n')) {
      // A line cut short by a crash has no tab: it never counted.
      const [email, at] = line.split('\t');
      const recipient = email && at ? addressKey(email) : undefined;
      if (!recipient) continue;
      for (const post of job) updates.push({ post: legacyEntryId(post, config.site.url), round: 0, recipient, state: 'sent', at: at!, tried: true });
    }
    for (const post of job) {
      const id = legacyEntryId(post, config.site.url);
      await store.state.savePost({ key: id, entryId: id, file: post.file, titleDate: titleDateKey(post.title, post.date), atBaseline: false });
    }
    await store.deliveries.record(updates);
    count += updates.length;
  }
  return count;
}
