import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import { writeFileAtomic } from '../files.js';
import { entryId } from '../feeds/model.js';
import type { PostMeta } from '../posts/parse.js';

/** A post that went out, remembered by every name it could come back under. */
export interface SentPost {
  id: string;
  file: string;
  /** Title and date: the post is still the same one after a rename that changes its slug. */
  titleDate: string;
  sentAt: string;
  recipients: number;
}

/** What the newsletter has done, kept in the state folder. */
export interface NewsletterState {
  /** The first run's moment. Posts published by then are in the feeds but never mailed by run. */
  baseline: string | null;
  baselinePosts: string[];
  sent: SentPost[];
}

const STATE_FILE = 'newsletter.json';

export function readNewsletterState(config: Config): NewsletterState {
  try {
    return JSON.parse(readFileSync(join(config.paths.state, STATE_FILE), 'utf8')) as NewsletterState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { baseline: null, baselinePosts: [], sent: [] };
    throw error;
  }
}

export function writeNewsletterState(config: Config, state: NewsletterState): Promise<void> {
  return writeFileAtomic(join(config.paths.state, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

const titleDate = (post: PostMeta) => `${post.title}\0${post.date}`;

export function findSent(state: NewsletterState, post: PostMeta, config: Config): SentPost | undefined {
  const id = entryId(post, config.site.url);
  const key = titleDate(post);
  return state.sent.find((sent) => sent.id === id || sent.file === post.file || sent.titleDate === key);
}

export function sentRecord(post: PostMeta, config: Config, at: Date, recipients: number): SentPost {
  return { id: entryId(post, config.site.url), file: post.file, titleDate: titleDate(post), sentAt: at.toISOString(), recipients };
}

/**
 * Published posts the newsletter has not sent: newer than the baseline and not there at it. A
 * post dated with a day and no time counts from that whole day, so one dated today and added
 * after an earlier run today still goes out.
 */
export function duePosts(published: PostMeta[], state: NewsletterState, config: Config): PostMeta[] {
  if (!state.baseline) return [];
  const baseline = new Date(state.baseline).getTime();
  const zone = config.site.timezone;
  const baselineDay = DateTime.fromMillis(baseline, { zone }).toISODate();
  const atBaseline = new Set(state.baselinePosts);
  return published.filter((post) => {
    if (atBaseline.has(entryId(post, config.site.url)) || findSent(state, post, config)) return false;
    if (post.dateHasTime) return post.date > baseline;
    return (DateTime.fromMillis(post.date, { zone }).toISODate() ?? '') >= (baselineDay ?? '');
  });
}
