import type { Config } from '../config.js';
import { renderEmail, type EmailDraft, type EmailPost } from '../email/render.js';
import { loadEmailTemplates } from '../email/templates.js';
import { loadSecret, unsubscribeUrl } from '../email/unsubscribe.js';
import type { PostMeta } from '../posts/parse.js';
import { renderPost } from '../posts/render.js';
import type { Subscriber } from '../subscribers/model.js';
import { updateSubscribers } from '../subscribers/store.js';
import { emailKey } from '../subscribers/model.js';
import { Ledger } from './ledger.js';
import { deliver, recipientsFor, type DeliveryLedger, type DeliveryOutcome } from './sender.js';
import type { Transport } from './transport.js';

/** One email job: a post (or a digest of several) to a set of recipients, with its own ledger. */
export interface Job {
  key: string;
  posts: PostMeta[];
  recipients: Subscriber[];
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
}

export function emailPostOf(post: PostMeta, config: Config, cwd: string): EmailPost {
  const rendered = renderPost(post, config, cwd);
  return { title: post.title, url: post.url, html: rendered.html, summary: rendered.summary, date: new Date(post.date), topics: post.topics.map((topic) => topic.name) };
}

/**
 * Sends jobs one after another. In a digest job each subscriber gets the posts they want, so
 * recipients are grouped by that set of posts and each group gets one rendering.
 */
export async function runJobs(jobs: Job[], context: SendContext, ledgerFor: (key: string) => DeliveryLedger): Promise<JobResult[]> {
  const { config, cwd } = context;
  const templates = loadEmailTemplates(config, cwd);
  const secret = loadSecret(config, context.env);
  const rendered = new Map<string, EmailPost>();
  const emailPost = (post: PostMeta) => {
    let found = rendered.get(post.file);
    if (!found) rendered.set(post.file, (found = emailPostOf(post, config, cwd)));
    return found;
  };
  const results: JobResult[] = [];
  for (const job of jobs) {
    const ledger = ledgerFor(job.key);
    const result: JobResult = { key: job.key, posts: job.posts, sent: 0, skipped: 0, failed: [], bounced: [], warnings: [] };
    try {
      const groups = new Map<string, { posts: PostMeta[]; recipients: Subscriber[] }>();
      for (const recipient of job.recipients) {
        const wanted = job.posts.length === 1 ? job.posts : job.posts.filter((post) => recipientsFor([recipient], post.topics).length);
        const key = wanted.map((post) => post.file).join('\0');
        const group = groups.get(key) ?? { posts: wanted, recipients: [] };
        group.recipients.push(recipient);
        groups.set(key, group);
      }
      for (const group of groups.values()) {
        if (!group.posts.length) continue;
        const draft: EmailDraft = await renderEmail(group.posts.map(emailPost), templates, config);
        result.warnings.push(...draft.warnings);
        const outcome = await deliver(draft, job.key, group.recipients, context.transport, ledger, config, {
          concurrency: config.smtp.maxConnections * 4,
          attempts: 4,
          backoffMs: Number(context.env.HERALD_RETRY_BACKOFF_MS ?? 1000),
          unsubscribeUrl: (email) => unsubscribeUrl(config, email, secret),
          onSent: context.onProgress,
          stopped: context.stopped,
        });
        result.sent += outcome.sent;
        result.skipped += outcome.skipped;
        result.failed.push(...outcome.failed);
        result.bounced.push(...outcome.bounced);
      }
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
