import type { App } from '../app.js';
import { build, readPosts, type BuildMemory } from '../build.js';
import { keepHeapNear } from '../heap.js';
import { formatProblem, HeraldError } from '../errors.js';
import { GIVE_UP_MS, type PassReport, type SendReport } from '../newsletter/pass.js';
import { parseAddress } from '../newsletter/subscriptions.js';
import type { PostMeta } from '../posts/parse.js';
import { stoppable, withApp, type CommandContext } from './context.js';
import { plural } from '../text.js';
import { findPost } from './preview.js';
import { notificationWarnings, notifiedLine } from './build.js';
import { hubPolicy, type Notification } from '../websub.js';

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

function warnIfNotHttps(context: CommandContext): void {
  const { config, io } = context;
  if (config.smtp.url && !config.site.url.startsWith('https:')) {
    io.err(`warning: site.url (${config.site.url}) is not https: mail providers expect an https unsubscribe link (List-Unsubscribe)`);
  }
}

/** The lines a send report prints: one per post, then the failures and bounces by name. */
export function printSendReport(context: CommandContext, report: SendReport): void {
  const { io } = context;
  for (const post of report.posts) {
    const round = post.round ? ` (resend round ${post.round})` : '';
    const extra = [post.alreadySent ? `${post.alreadySent} already had it` : '', post.skipped ? `${post.skipped} skipped (no longer want it, or had it by a resend)` : '', post.givenUp ? `${post.givenUp} given up after ${GIVE_UP_MS / 3_600_000} hours of refusals` : '']
      .filter(Boolean)
      .map((part) => `, ${part}`)
      .join('');
    io.out(`${post.slug}${round}: ${post.sent} sent, ${post.failed} failed, ${post.bounced} bounced${extra}`);
  }
  for (const warning of report.warnings) io.err(`warning: ${warning}`);
  for (const failure of report.failures.slice(0, 5)) io.err(`  failed ${failure.email}: ${failure.reason}`);
  const failed = report.posts.reduce((sum, post) => sum + post.failed, 0);
  if (failed > 5) io.err(`  ... and ${failed - 5} more failed`);
  for (const bounce of report.bounces) io.err(`  bounced ${bounce.email}: ${bounce.reason}`);
  if (report.halted) io.err(`warning: the send stopped early: ${report.halted}`);
  if (report.paused) io.out(`paused by ${report.paused.cap} until ${report.paused.until}: the rest stays queued, and a pass from then on goes on`);
}

function totals(report: SendReport) {
  const sum = (field: 'sent' | 'failed' | 'bounced') => report.posts.reduce((total, post) => total + post[field], 0);
  return { sent: sum('sent'), failed: sum('failed'), bounced: sum('bounced'), due: report.posts.filter((post) => !post.finished).length };
}

/** One pass with an open app: build the feeds, then send what is due. The worker calls this on every tick. */
export async function pass(context: CommandContext, app: App, memory?: BuildMemory): Promise<{ report: PassReport; problems: number; written: number; unchanged: number; notifications: Notification[] }> {
  const { config, io } = context;
  const now = app.clock.now();
  const built = await build(config, { now, cwd: io.cwd, write: true, hubs: hubPolicy(io.env), memory });
  for (const problem of built.problems) io.err(formatProblem(problem));
  for (const warning of built.warnings) io.err(`warning: ${formatProblem(warning)}`);
  for (const warning of notificationWarnings(built.notifications)) io.err(warning);
  // The build loaded the posts unless nothing changed (and it had none in memory); then the post cache has them all.
  const posts: PostMeta[] = built.posts ?? (await readPosts(config, io.cwd)).posts;
  const report = await withSmallHeap(() => app.newsletter.runPass(posts, { stopped: context.stopped, onProgress: progress(context) }));
  return { report, problems: built.problems.length, written: built.written.length, unchanged: built.unchanged, notifications: built.notifications };
}

/** What the first pass of a newsletter says it did. */
export function baselineLine(baseline: { at: string; posts: number }): string {
  const posts = baseline.posts === 1 ? 'the 1 post already published stays in the feeds and is' : `the ${baseline.posts} posts already published stay in the feeds and are`;
  return `first run: baseline set at ${baseline.at}; ${posts} not mailed (herald send POST mails one by hand)`;
}

/** herald run: one pass. Build the feeds, then send every due post. */
export function runCommand(context: CommandContext, json: boolean): Promise<number> {
  return stoppable(context, (running) => runOnce(running, json));
}

/** A send of a million messages holds little at a time: keep its memory to that (see heap.ts). */
async function withSmallHeap<T>(body: () => Promise<T>): Promise<T> {
  const stop = keepHeapNear(24);
  try {
    return await body();
  } finally {
    stop();
  }
}

async function runOnce(context: CommandContext, json: boolean): Promise<number> {
  const { io } = context;
  warnIfNotHttps(context);
  return withApp(context, async (app) => {
    const { report, problems, written, unchanged, notifications } = await pass(context, app);
    const sums = totals(report);
    if (json) {
      io.out(JSON.stringify({ baseline: report.baseline?.at, ...sums, posts: report.posts, failures: report.failures, bounces: report.bounces, halted: report.halted, paused: report.paused, hubs: notifications }, null, 2));
    } else {
      if (written) io.out(`wrote ${written} files (feeds and pages), ${unchanged} feeds unchanged`);
      const notified = notifiedLine(notifications);
      if (notified) io.out(notified);
      if (report.baseline) {
        io.out(baselineLine(report.baseline));
      }
      printSendReport(context, report);
      if (!report.baseline) {
        io.out(report.posts.length ? `pass done: ${sums.sent} sent, ${sums.failed} failed, ${plural(sums.due, 'post')} still due, ${sums.bounced} bounced` : 'pass done: nothing due');
      }
    }
    return sums.failed || problems || report.halted ? 1 : 0;
  }, { mail: true });
}

/** herald send POST: by hand, to everyone who has not had it, to one test address, or again to all. */
export function sendCommand(context: CommandContext, name: string, options: { to?: string; dryRun?: boolean; resend?: boolean }): Promise<number> {
  return stoppable(context, (running) => sendOnce(running, name, options));
}

async function sendOnce(context: CommandContext, name: string, options: { to?: string; dryRun?: boolean; resend?: boolean }): Promise<number> {
  const { io } = context;
  const post = await findPost(context, name);
  const to = options.to === undefined ? undefined : parseAddress(options.to);
  if (options.to !== undefined && !to) {
    throw new HeraldError({ code: 'E_USAGE', field: '--to', message: `--to "${options.to}" is not an email address`, hint: 'give an address such as you@example.com' });
  }
  return withApp(context, async (app) => {
    if (options.dryRun) {
      const planned = to ? { recipients: [to.email], alreadySent: 0 } : await app.newsletter.plannedRecipients(post, { resend: options.resend });
      for (const email of planned.recipients) io.out(email);
      io.out(`would send "${post.title}" to ${planned.recipients.length} of ${planned.recipients.length + planned.alreadySent} recipients (dry run: nothing sent)`);
      return 0;
    }
    warnIfNotHttps(context);
    if (to) {
      const { result, warnings } = await app.newsletter.testSend(post, to);
      for (const warning of warnings) io.err(`warning: ${warning}`);
      if (!result.ok) {
        io.err(`herald: the test message to ${to.email} was not sent: ${result.reason}`);
        return 1;
      }
      io.out(`${post.slug}: test message sent to ${to.email} (not a delivery: the post is still due to everyone else)`);
      return 0;
    }
    const report = await withSmallHeap(() => app.newsletter.sendPost(post, { resend: options.resend, stopped: context.stopped, onProgress: progress(context) }));
    printSendReport(context, report);
    return totals(report).failed || report.halted ? 1 : 0;
  }, { mail: !options.dryRun });
}
