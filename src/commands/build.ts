import { build, postState } from '../build.js';
import type { Config } from '../config.js';
import { formatProblem, HeraldError, type Problem } from '../errors.js';
import type { PostMeta } from '../posts/parse.js';
import { plural } from '../text.js';
import { hubPolicy, type Notification } from '../websub.js';
import type { CommandContext } from './context.js';

export async function buildCommand({ config, now, io }: CommandContext, write: boolean): Promise<number> {
  const started = performance.now();
  const report = await build(config, { now, cwd: io.cwd, write, hubs: hubPolicy(io.env) });
  if (!write) report.problems.push(...(await checkMail(config, io, report.posts ?? [], now)));
  for (const path of report.written) io.out(`wrote ${path}`);
  for (const problem of report.problems) io.err(formatProblem(problem));
  for (const warning of report.warnings) io.err(`warning: ${formatProblem(warning)}`);
  for (const told of report.notifications.filter((notification) => notification.ok)) io.out(`notified ${told.hub}: ${told.feed} changed`);
  for (const warning of notificationWarnings(report.notifications)) io.err(warning);
  const { counts } = report;
  const rejected = report.problems.length ? `, ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}` : '';
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (write) {
    io.out(
      `built ${counts.published} published post${counts.published === 1 ? '' : 's'} (${counts.draft} draft, ${counts.scheduled} scheduled${rejected}): ` +
        `${report.written.length} file${report.written.length === 1 ? "" : "s"} written, ${report.unchanged} feeds unchanged, in ${seconds}s`,
    );
  } else {
    io.out(`checked config, posts, templates and subscribers: ${counts.published} published, ${counts.draft} draft, ${counts.scheduled} scheduled${rejected || ', no problems'}`);
  }
  return report.problems.length ? 1 : 0;
}

/** The WebSub notices no hub took, as warnings: the feeds are published all the same. */
export function notificationWarnings(notifications: readonly Notification[]): string[] {
  return notifications
    .filter((notification) => !notification.ok)
    .map(({ hub, feed, reason, pending }) =>
      pending
        ? `warning: the WebSub hub ${hub} was not told that ${feed} changed: ${reason} (herald tells it on the next build)`
        : `warning: the WebSub hub ${hub} refused the notice that ${feed} changed: ${reason} (check that feed.hubs lists the hub's publish URL; herald does not send this notice again)`,
    );
}

/** What the hubs were told, in one line, for the passes of herald run and herald start. */
export function notifiedLine(notifications: readonly Notification[]): string | undefined {
  const told = notifications.filter((notification) => notification.ok);
  if (!told.length) return undefined;
  return `told ${plural(new Set(told.map((notification) => notification.hub)).size, 'WebSub hub')} of ${plural(new Set(told.map((notification) => notification.feed)).size, 'changed feed')}`;
}

// check also reads what sending needs: the mail templates, the subscriber list, the secret and
// the DKIM key, and the schedule the worker would run on.
async function checkMail(config: Config, io: CommandContext['io'], posts: PostMeta[], now: Date): Promise<Problem[]> {
  const [{ checkMailSetup }, { validateSchedule }, { newestFirstOrder }] = await Promise.all([import('../app.js'), import('./start.js'), import('../feeds/model.js')]);
  const published = posts.filter((post) => postState(post, now) === 'published');
  const { problems, warnings, due } = await checkMailSetup(config, io.cwd, io.env, published);
  for (const warning of warnings) io.err(`warning: ${warning}`);
  if (!problems.length) {
    // What the major mail clients drop from the writer's own templates.
    const { lintMailTemplates } = await import('../newsletter/email/client-support.js');
    for (const warning of await lintMailTemplates(config, io.cwd)) io.err(`warning: ${warning}`);
    // The emails the next pass would send, as it would make them: what their readers would miss.
    // With nothing due, the post at the top of the feed shows what the next one will look like.
    const lint = due.length ? due : published.sort(newestFirstOrder).slice(0, 1);
    if (lint.length) {
      const [{ emailPostOf }, { renderEmail }, { loadMailTemplates }] = await Promise.all([import('../newsletter/pass.js'), import('../newsletter/email/render.js'), import('../newsletter/email/templates.js')]);
      const templates = loadMailTemplates(config, io.cwd, 'email');
      // In digest mode the due posts go out together, in one email.
      const emails = config.email.mode === 'digest' && lint.length > 1 ? [{ posts: lint, name: `the digest of ${lint.map((post) => post.file).join(', ')}` }] : lint.map((post) => ({ posts: [post], name: `${post.file}: its email` }));
      for (const email of emails) {
        const draft = await renderEmail(email.posts.map((post) => emailPostOf(post, config, io.cwd)), templates, config);
        for (const warning of draft.warnings) io.err(`warning: ${email.name}: ${warning}`);
      }
    }
  }
  try {
    validateSchedule(config);
  } catch (error) {
    if (!(error instanceof HeraldError)) throw error;
    problems.push(...error.problems);
  }
  return problems;
}
