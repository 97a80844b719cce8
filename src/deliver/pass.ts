import type { Config } from '../config.js';
import { renderEmail, type EmailDraft, type EmailPost } from '../email/render.js';
import { loadEmailTemplates } from '../email/templates.js';
import { loadSecret, unsubscribeUrl } from '../email/unsubscribe.js';
import type { PostMeta } from '../posts/parse.js';
import { renderPost } from '../posts/render.js';
import { emailKey, type Subscriber } from '../subscribers/model.js';
import { eachSubscriber, updateSubscribers } from '../subscribers/store.js';
import { Ledger } from './ledger.js';
import { deliver, wantsPost, type DeliveryLedger, type DeliveryOutcome } from './sender.js';
import type { Transport } from './transport.js';

/** One email job: a post (or a digest of several) with its own ledger. */
export interface Job {
  key: string;
  posts: PostMeta[];
  /** Who could get it; default: the subscriber list. */
  audience?: () => AsyncIterable<Subscriber>;
}

export interface JobResult extends DeliveryOutcome {
  key: string;
  posts: PostMeta[];
  warnings: string[];
}

export interface SendContext {
  config: Config;
  cwd: string;
  env: NodeJS.ProcessEnv;
  transport: Transport;
  onProgress?: (done: number, total: number) => void;
  stopped?: () => boolean;
  /** Lines of the subscriber list skipped as unreadable, for the command to report. */
  skippedLines?: Set<number>;
}

// Recipients are read from the list and sent to in batches of this many: memory stays flat.
const BATCH = 500;

export function emailPostOf(post: PostMeta, config: Config, cwd: string): EmailPost {
  const rendered = renderPost(post, config, cwd);
  return { title: post.title, url: post.url, html: rendered.html, summary: rendered.summary, date: new Date(post.date), topics: post.topics.map((topic) => topic.name) };
}

/** The posts of a job one subscriber gets: in a digest, only those of their topics. */
export function postsFor(job: Job, subscriber: Subscriber): PostMeta[] {
  return job.posts.filter((post) => wantsPost(subscriber, post.topics));
}

/** Everyone in the job's audience who gets at least one of its posts. */
export async function* recipientsOf(job: Job, config: Config, skippedLines?: Set<number>): AsyncGenerator<Subscriber> {
  for await (const subscriber of (job.audience ?? (() => eachSubscriber(config, skippedLines)))()) {
    if (postsFor(job, subscriber).length) yield subscriber;
  }
}

/** Sends jobs one after another. Each distinct set of posts is rendered once and shared. */
export async function runJobs(jobs: Job[], context: SendContext, ledgerFor: (key: string) => DeliveryLedger): Promise<JobResult[]> {
  const { config, cwd } = context;
  const templates = loadEmailTemplates(config, cwd);
  const secret = loadSecret(config, context.env);
  const emailPosts = new Map<string, EmailPost>();
  const emailPost = (post: PostMeta) => {
    let found = emailPosts.get(post.file);
    if (!found) emailPosts.set(post.file, (found = emailPostOf(post, config, cwd)));
    return found;
  };
  const results: JobResult[] = [];
  for (const job of jobs) {
    const ledger = ledgerFor(job.key);
    const result: JobResult = { key: job.key, posts: job.posts, sent: 0, skipped: 0, failed: [], bounced: [], warnings: [] };
    const drafts = new Map<string, EmailDraft>();
    let total = 0;
    for await (const subscriber of recipientsOf(job, config, context.skippedLines)) if (!ledger.has(subscriber.email)) total++;
    const sendBatch = async (batch: Subscriber[]) => {
      const groups = new Map<string, { posts: PostMeta[]; recipients: Subscriber[] }>();
      for (const recipient of batch) {
        const posts = postsFor(job, recipient);
        const key = posts.map((post) => post.file).join('\0');
        const group = groups.get(key) ?? { posts, recipients: [] };
        group.recipients.push(recipient);
        groups.set(key, group);
      }
      for (const [key, group] of groups) {
        let draft = drafts.get(key);
        if (!draft) {
          drafts.set(key, (draft = await renderEmail(group.posts.map(emailPost), templates, config)));
          result.warnings.push(...draft.warnings);
        }
        const before = result.sent;
        const outcome = await deliver(draft, job.key, group.recipients, context.transport, ledger, config, {
          concurrency: config.smtp.maxConnections * 4,
          attempts: 4,
          backoffMs: Number(context.env.HERALD_RETRY_BACKOFF_MS ?? 1000),
          unsubscribeUrl: (email) => unsubscribeUrl(config, email, secret),
          onSent: context.onProgress && ((done) => context.onProgress!(before + done, total)),
          stopped: context.stopped,
        });
        result.sent += outcome.sent;
        result.skipped += outcome.skipped;
        result.failed.push(...outcome.failed);
        result.bounced.push(...outcome.bounced);
      }
    };
    try {
      let batch: Subscriber[] = [];
      for await (const subscriber of recipientsOf(job, config)) {
        batch.push(subscriber);
        if (batch.length === BATCH) {
          await sendBatch(batch);
          batch = [];
        }
      }
      if (batch.length) await sendBatch(batch);
    } finally {
      ledger.close();
    }
    results.push(result);
  }
  const bounced = new Set(results.flatMap((result) => result.bounced.map((bounce) => emailKey(bounce.email))));
  if (bounced.size) await markBounced(config, cwd, bounced, new Date());
  return results;
}

async function markBounced(config: Config, cwd: string, emails: Set<string>, at: Date): Promise<void> {
  await updateSubscribers(config, cwd, (list) => {
    for (const row of list.rows) {
      if (row.ok && emails.has(emailKey(row.subscriber.email)) && row.subscriber.status !== 'bounced') {
        row.subscriber.status = 'bounced';
        row.subscriber.updated_at = at.toISOString();
      }
    }
  });
}

export function openLedger(config: Config) {
  return (key: string) => Ledger.open(config, key);
}
