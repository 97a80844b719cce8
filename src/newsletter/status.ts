import { postState } from '../build.js';
import type { PostMeta } from '../posts/parse.js';
import { duePosts, PostIndex } from './due.js';
import type { NewsletterDeps } from './pass.js';
import { wantsPost } from './subscriber.js';

/** The newsletter's view of one published post. */
export type MailStatus =
  | { state: 'sent'; sentAt: string; recipients: number }
  /** Due, and some of its round is done: `delivered` of `recipients` accepted so far. */
  | { state: 'sending'; delivered: number; recipients: number }
  /** Due, nobody reached yet: `recipients` is who it is queued for, or who would get it now. */
  | { state: 'due'; recipients: number }
  | { state: 'before-baseline' }
  /** Published, but neither due nor sent: a post newer than the baseline by date, but not by day. */
  | { state: 'not-mailed' };

/** The baseline, and for each published post (by file) where its mail stands, from the delivery log. */
export async function mailStatus(deps: NewsletterDeps, posts: PostMeta[]): Promise<{ baseline?: string; posts: Map<string, MailStatus> }> {
  const { store, config, clock } = deps;
  const now = clock.now();
  const published = posts.filter((post) => postState(post, now) === 'published');
  const baseline = await store.state.baseline();
  const index = new PostIndex(await store.state.posts());
  const due = new Set(duePosts(published, baseline, index, config));
  const result = new Map<string, MailStatus>();
  const notStarted: PostMeta[] = [];
  for (const post of published) {
    const record = index.find(post);
    if (record?.sentAt) result.set(post.file, { state: 'sent', sentAt: record.sentAt, recipients: record.recipients ?? 0 });
    else if (due.has(post)) {
      const tally = record ? await store.deliveries.tally(record.key, 0) : undefined;
      const recipients = tally ? tally.queued + tally.sent + tally.bounced + tally.failed : 0;
      if (tally?.sent) result.set(post.file, { state: 'sending', delivered: tally.sent, recipients });
      else if (recipients) result.set(post.file, { state: 'due', recipients });
      else notStarted.push(post);
    } else if (baseline) result.set(post.file, { state: record?.atBaseline ? 'before-baseline' : 'not-mailed' });
  }
  // Who a post not started would reach: one walk of the list for all of them.
  const counts = new Map(notStarted.map((post) => [post.file, 0]));
  if (notStarted.length) {
    for (let after: string | undefined; ; ) {
      const page = await store.subscribers.list({ status: 'active', after, limit: 2000 });
      if (!page.length) break;
      after = page.at(-1)!.key;
      for (const subscriber of page) for (const post of notStarted) if (wantsPost(subscriber, post.topics)) counts.set(post.file, counts.get(post.file)! + 1);
    }
  }
  for (const post of notStarted) result.set(post.file, { state: 'due', recipients: counts.get(post.file)! });
  return { baseline, posts: result };
}
