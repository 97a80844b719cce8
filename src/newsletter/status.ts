import { postState } from '../build.js';
import type { PostMeta } from '../posts/parse.js';
import { SendingCaps } from './caps.js';
import { duePosts, PostIndex } from './due.js';
import type { NewsletterDeps } from './pass.js';
import type { DeliveryState } from './ports.js';
import { wantsPost } from './subscriber.js';

/**
 * What became of a post's messages (its round 0): accepted by the provider, and of those, what
 * came back: `delivered`, the provider's delivery notices (SES and Postmark send them; an SMTP
 * relay does not); `bounced` counts those refused at once too. Rates are percentages: bounces of
 * all messages answered, complaints of those accepted.
 */
export interface Returns {
  accepted: number;
  delivered: number;
  bounced: number;
  softBounced: number;
  complained: number;
  bounceRate: number;
  complaintRate: number;
}

/** Above these, mailbox providers start to refuse a sender (SES reviews an account at 5% and 0.1%). */
export const BOUNCE_WARNING_PERCENT = 5;
export const COMPLAINT_WARNING_PERCENT = 0.1;
/** The newest sent posts whose returns status counts (each is a walk of that post's deliveries). */
const RETURNS_OF_NEWEST = 10;

/** The newsletter's view of one published post. */
export type MailStatus =
  | { state: 'sent'; sentAt: string; recipients: number; returns?: Returns }
  /** Due, and some of its round is done: `delivered` of `recipients` accepted so far; paused when a sending cap holds the rest. */
  | { state: 'sending'; delivered: number; recipients: number; returns: Returns; paused?: { until: string; cap: string } }
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
  const newestSent = new Set(
    published
      .filter((post) => index.find(post)?.sentAt)
      .sort((a, b) => b.date - a.date)
      .slice(0, RETURNS_OF_NEWEST),
  );
  const caps = await SendingCaps.read(config, store.deliveries, now);
  for (const post of published) {
    const record = index.find(post);
    if (record?.sentAt) {
      const returns = newestSent.has(post) ? await returnsOf(deps, record.key, await store.deliveries.tally(record.key, 0)) : undefined;
      result.set(post.file, { state: 'sent', sentAt: record.sentAt, recipients: record.recipients ?? 0, ...(returns ? { returns } : {}) });
    } else if (due.has(post)) {
      const tally = record ? await store.deliveries.tally(record.key, 0) : undefined;
      const recipients = tally ? tally.queued + tally.submitted + tally.sent + tally.bounced + tally.failed : 0;
      if (tally?.sent) {
        const verdict = caps?.check(now);
        const paused = verdict && !verdict.go && 'until' in verdict ? { until: verdict.until.toISOString(), cap: verdict.cap } : undefined;
        result.set(post.file, { state: 'sending', delivered: tally.sent, recipients, returns: await returnsOf(deps, record!.key, tally), ...(paused ? { paused } : {}) });
      }
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

/** From the post's round-0 tally (read already by the caller) and what came back. */
async function returnsOf({ store }: NewsletterDeps, post: string, tally: Record<DeliveryState, number>): Promise<Returns> {
  const returned = await store.deliveries.returnedTally(post, 0);
  const bounced = tally.bounced + returned.bounced;
  const answered = tally.sent + tally.bounced;
  const percent = (part: number, whole: number) => (whole ? Math.round((part / whole) * 10_000) / 100 : 0);
  return {
    accepted: tally.sent,
    delivered: returned.delivered,
    bounced,
    softBounced: returned['soft-bounced'],
    complained: returned.complained,
    bounceRate: percent(bounced, answered),
    complaintRate: percent(returned.complained, tally.sent),
  };
}
