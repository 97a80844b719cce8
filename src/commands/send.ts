import { build, postState } from '../build.js';
import { readPostCache } from '../cache.js';
import { acquireSendLock } from '../deliver/lock.js';
import { duePosts, findSent, readNewsletterState, sentRecord, writeNewsletterState } from '../deliver/newsletter.js';
import { openLedger, recipientsOf, runJobs, type Job, type JobResult, type SendContext } from '../deliver/pass.js';
import type { DeliveryLedger } from '../deliver/sender.js';
import { createTransport, type Transport } from '../deliver/transport.js';
import { entryId } from '../feeds/model.js';
import { formatProblem, HeraldError } from '../errors.js';
import { loadPosts } from '../posts/load.js';
import type { PostMeta } from '../posts/parse.js';
import { scanPostFiles } from '../posts/scan.js';
import { emailKey, validEmail, type Subscriber } from '../subscribers/model.js';
import type { CommandContext } from './context.js';
import { findPost } from './preview.js';

function progress(context: CommandContext): ((done: number, total: number) => void) | undefined {
  if (!context.io.tty) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

function logJob(context: CommandContext, result: JobResult): void {
  const what = result.posts.length === 1 ? result.posts[0]!.slug : `digest of ${result.posts.map((post) => post.slug).join(', ')}`;
  context.io.out(
    `${what}: ${result.sent} sent, ${result.failed.length} failed, ${result.bounced.length} bounced${result.skipped ? `, ${result.skipped} already had it` : ''}`,
  );
  for (const warning of result.warnings) context.io.err(`warning: ${warning}`);
  for (const failure of result.failed.slice(0, 5)) context.io.err(`  failed ${failure.email}: ${failure.reason}`);
  if (result.failed.length > 5) context.io.err(`  ... and ${result.failed.length - 5} more failed`);
  for (const bounce of result.bounced) context.io.err(`  bounced ${bounce.email}: ${bounce.reason}`);
}

function sendContext(context: CommandContext, transport: Transport, skippedLines: Set<number>): SendContext {
  return { config: context.config, cwd: context.io.cwd, env: context.io.env, transport, onProgress: progress(context), stopped: context.stopped, skippedLines };
}

// Unreadable rows are left out of every send; herald subscribers list says what is wrong with them.
function reportSkipped(context: CommandContext, skippedLines: Set<number>): void {
  if (!skippedLines.size) return;
  const lines = [...skippedLines].sort((a, b) => a - b);
  context.io.err(`warning: ${lines.length} row${lines.length === 1 ? '' : 's'} of the subscriber list could not be read and got nothing (lines ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', ...' : ''}; herald subscribers list shows why)`);
}

async function withTransport<T>(context: CommandContext, body: (transport: Transport) => Promise<T>): Promise<T> {
  const transport = createTransport(context.config);
  if (context.config.smtp.url && !context.config.site.url.startsWith('https:')) {
    context.io.err(`warning: site.url (${context.config.site.url}) is not https: mail providers expect an https unsubscribe link (List-Unsubscribe)`);
  }
  try {
    return await body(transport);
  } finally {
    transport.close();
  }
}

/** herald run: one pass. Build the feeds, then send every due post. */
export async function runCommand(context: CommandContext, json: boolean): Promise<number> {
  const { config, now, io } = context;
  const report = await build(config, { now, cwd: io.cwd, write: true });
  for (const problem of report.problems) io.err(formatProblem(problem));
  if (report.written.length && !json) io.out(`wrote ${report.written.length} files (feeds and pages), ${report.unchanged} feeds unchanged`);
  const release = await acquireSendLock(config);
  try {
    const state = readNewsletterState(config);
    // The build loaded the posts unless nothing changed; then the post cache has them all.
    const posts = report.posts ?? (await loadPosts(config, io.cwd, scanPostFiles(config.paths.posts, io.cwd), readPostCache(config, io.cwd))).posts;
    const published = posts.filter((post) => postState(post, now) === 'published');
    if (!state.baseline) {
      state.baseline = now.toISOString();
      state.baselinePosts = published.map((post) => entryId(post, config.site.url));
      await writeNewsletterState(config, state);
      const line = `first run: baseline set at ${state.baseline}; the ${published.length} posts already published stay in the feeds and are not mailed (herald send POST mails one by hand)`;
      if (json) io.out(JSON.stringify({ baseline: state.baseline, sent: 0, failed: 0, due: 0, bounced: 0, posts: [] }));
      else io.out(line);
      return report.problems.length ? 1 : 0;
    }
    const skipped = new Set<number>();
    const due = duePosts(published, state, config).sort((a, b) => a.date - b.date);
    const jobs: Job[] =
      config.email.mode === 'digest' && due.length > 1
        ? [{ key: `digest:${due.map((post) => entryId(post, config.site.url)).join(',')}`, posts: due }]
        : due.map((post) => ({ key: `post:${entryId(post, config.site.url)}`, posts: [post] }));
    const results = await withTransport(context, (transport) =>
      runJobs(jobs, sendContext(context, transport, skipped), openLedger(config)),
    );
    reportSkipped(context, skipped);
    for (const result of results) {
      if (!json) logJob(context, result);
      if (result.failed.length) continue;
      for (const post of result.posts) state.sent.push(sentRecord(post, config, new Date(), result.sent + result.skipped));
    }
    await writeNewsletterState(config, state);
    const totals = {
      sent: results.reduce((sum, result) => sum + result.sent, 0),
      failed: results.reduce((sum, result) => sum + result.failed.length, 0),
      bounced: results.reduce((sum, result) => sum + result.bounced.length, 0),
      due: results.filter((result) => result.failed.length).reduce((sum, result) => sum + result.posts.length, 0),
    };
    if (json) {
      io.out(JSON.stringify({ baseline: state.baseline, ...totals, posts: results.map((result) => ({ posts: result.posts.map((post) => post.slug), sent: result.sent, skipped: result.skipped, failed: result.failed, bounced: result.bounced })) }, null, 2));
    } else {
      io.out(due.length ? `pass done: ${totals.sent} sent, ${totals.failed} failed, ${totals.due} posts still due, ${totals.bounced} bounced` : 'pass done: nothing due');
    }
    return totals.failed || report.problems.length ? 1 : 0;
  } finally {
    await release();
  }
}

class MemoryLedger implements DeliveryLedger {
  private readonly done = new Set<string>();
  has(email: string) {
    return this.done.has(emailKey(email));
  }
  record(email: string) {
    this.done.add(emailKey(email));
  }
  sync() {}
  close() {}
}

/** herald send POST: by hand, to everyone who has not had it, to one test address, or again to all. */
export async function sendCommand(context: CommandContext, name: string, options: { to?: string; dryRun?: boolean; resend?: boolean }): Promise<number> {
  const { config, now, io } = context;
  const post: PostMeta = await findPost(context, name);
  if (options.to !== undefined && !validEmail(options.to)) {
    throw new HeraldError({ code: 'E_USAGE', field: '--to', message: `--to "${options.to}" is not an email address`, hint: 'give an address such as you@example.com' });
  }
  const resendKey = options.resend ? `:resend:${now.toISOString()}` : '';
  const testAddress: Subscriber | undefined = options.to ? { email: options.to.trim(), name: '', status: 'active', topics: [], created_at: '', updated_at: '', extra: {} } : undefined;
  const job: Job = testAddress
    ? { key: `test:${entryId(post, config.site.url)}:${now.toISOString()}`, posts: [post], audience: async function* () { yield testAddress; } }
    : { key: `post:${entryId(post, config.site.url)}${resendKey}`, posts: [post] };

  if (options.dryRun) {
    const ledger = options.to || options.resend ? new MemoryLedger() : openLedger(config)(job.key);
    let pending = 0;
    let all = 0;
    try {
      for await (const recipient of recipientsOf(job, config)) {
        all++;
        if (ledger.has(recipient.email)) continue;
        pending++;
        io.out(recipient.email);
      }
    } finally {
      ledger.close();
    }
    io.out(`would send "${post.title}" to ${pending} of ${all} recipients (dry run: nothing sent)`);
    return 0;
  }
  const release = await acquireSendLock(config);
  const skipped = new Set<number>();
  try {
    const [result] = await withTransport(context, (transport) =>
      runJobs([job], sendContext(context, transport, skipped), options.to ? () => new MemoryLedger() : openLedger(config)),
    );
    reportSkipped(context, skipped);
    logJob(context, result!);
    if (!options.to && !result!.failed.length) {
      const state = readNewsletterState(config);
      if (!findSent(state, post, config)) state.sent.push(sentRecord(post, config, new Date(), result!.sent + result!.skipped));
      await writeNewsletterState(config, state);
    }
    return result!.failed.length ? 1 : 0;
  } finally {
    await release();
  }
}
