import { DateTime } from 'luxon';
import { countStates, postState, readPosts, type PostState } from '../build.js';
import { formatProblem, type Problem } from '../errors.js';

import { newestFirstOrder } from '../feeds/model.js';
import type { Newsletter } from '../newsletter/newsletter.js';
import { BOUNCE_WARNING_PERCENT, COMPLAINT_WARNING_PERCENT, type MailStatus, type Returns } from '../newsletter/status.js';
import { withApp, type CommandContext } from './context.js';

interface StatusRow {
  file: string;
  state: PostState | 'invalid';
  slug?: string;
  title?: string;
  date?: string;
  url?: string;
  topics?: string[];
  /** The newsletter's view: sent, due, sending (with progress), or from before the baseline. */
  mail?: MailStatus;
  problems: string[];
}

export async function statusCommand(context: CommandContext, json: boolean): Promise<number> {
  return withApp(context, (app) => status(context, app.newsletter, json));
}

async function status({ config, now, io }: CommandContext, newsletter: Newsletter, json: boolean): Promise<number> {
  const { posts, problems } = await readPosts(config, io.cwd);
  const zone = config.site.timezone;
  const mail = await newsletter.mailStatus(posts);
  const rows: StatusRow[] = [...posts].sort(newestFirstOrder).map((post) => ({
    file: post.file,
    state: postState(post, now),
    slug: post.slug,
    title: post.title,
    date: DateTime.fromMillis(post.date, { zone }).toISO() ?? undefined,
    url: post.url,
    topics: post.topics.map((topic) => topic.name),
    mail: mail.posts.get(post.file),
    problems: [],
  }));
  const invalid = new Map<string, Problem[]>();
  for (const problem of problems) invalid.set(problem.file ?? '', [...(invalid.get(problem.file ?? '') ?? []), problem]);
  for (const [file, list] of invalid) rows.push({ file, state: 'invalid', problems: list.map(formatProblem) });

  if (json) {
    io.out(JSON.stringify({ now: now.toISOString(), timezone: zone, baseline: mail.baseline, posts: rows }, null, 2));
    return problems.length ? 1 : 0;
  }
  const local = (iso: string) => DateTime.fromISO(iso, { setZone: true }).setZone(zone).toFormat('yyyy-MM-dd HH:mm');
  const describe = (row: StatusRow) => {
    const when = row.date ? local(row.date) : '';
    if (row.state === 'scheduled') return `scheduled for ${when}`;
    if (row.state === 'invalid') return 'invalid';
    return row.state === 'published' ? `published ${when}` : 'draft';
  };
  const returnsText = (returns: Returns | undefined) =>
    returns ? `: ${returns.accepted} accepted${returns.delivered ? ` (${returns.delivered} delivered)` : ''}, ${returns.bounced} bounced (${returns.bounceRate}%), ${returns.complained} complained (${returns.complaintRate}%)` : '';
  const mailText = (mail: StatusRow['mail']) => {
    if (!mail) return '';
    if (mail.state === 'sent') return `  [sent ${local(mail.sentAt)} to ${mail.recipients}${returnsText(mail.returns)}]`;
    if (mail.state === 'sending') {
      const paused = mail.paused ? `, paused by ${mail.paused.cap} until ${local(mail.paused.until)}` : '';
      return `  [sending: ${mail.delivered} of ${mail.recipients}${paused}${returnsText(mail.returns)}]`;
    }
    if (mail.state === 'due') return `  [due: ${mail.recipients} recipients]`;
    return mail.state === 'before-baseline' ? '  [before the baseline: not mailed]' : '  [not mailed: dated before the baseline; herald send mails it by hand]';
  };
  io.out(mail.baseline ? `newsletter baseline: ${local(mail.baseline)}` : 'newsletter baseline: not set yet (the first herald run sets it)');
  const width = Math.max(0, ...rows.map((row) => describe(row).length));
  for (const row of rows) {
    io.out(`${describe(row).padEnd(width)}  ${row.file}${row.title ? `  ${row.title}` : ''}${mailText(row.mail)}`);
    for (const problem of row.problems) io.out(`${' '.repeat(width)}  ! ${problem}`);
    for (const warning of returnsWarnings(row.mail)) io.err(`warning: ${row.file}: ${warning}`);
  }
  const counts = countStates(posts, now);
  io.out(`${rows.length} posts: ${counts.published} published, ${counts.scheduled} scheduled, ${counts.draft} draft, ${invalid.size} invalid (times in ${zone})`);
  return problems.length ? 1 : 0;
}

/** What mailbox providers would hold against the sender, from one post's returns. */
function returnsWarnings(mail: MailStatus | undefined): string[] {
  const returns = mail && 'returns' in mail ? mail.returns : undefined;
  if (!returns) return [];
  const warnings: string[] = [];
  if (returns.bounceRate > BOUNCE_WARNING_PERCENT) {
    warnings.push(`${returns.bounceRate}% of its messages bounced (over ${BOUNCE_WARNING_PERCENT}%): providers slow or refuse a sender with a list like this; the bounced addresses are no longer mailed, but check where the list came from`);
  }
  if (returns.complaintRate > COMPLAINT_WARNING_PERCENT) {
    warnings.push(`${returns.complaintRate}% of its readers marked it as spam (over ${COMPLAINT_WARNING_PERCENT}%): Gmail and Yahoo refuse senders above 0.3%; make unsubscribing easy and mail only people who asked`);
  }
  return warnings;
}
