import { DateTime } from 'luxon';
import { countStates, postState, type PostState } from '../build.js';
import { readPostCache } from '../cache.js';
import { formatProblem, type Problem } from '../errors.js';

import { loadPosts } from '../posts/load.js';
import { Ledger } from '../deliver/ledger.js';
import { duePosts, findSent, readNewsletterState } from '../deliver/newsletter.js';
import { wantsPost } from '../deliver/sender.js';
import { entryId, newestFirstOrder } from '../feeds/model.js';
import type { PostMeta } from '../posts/parse.js';
import { scanPostFiles } from '../posts/scan.js';
import { readSubscribers } from '../subscribers/store.js';
import type { CommandContext } from './context.js';

interface StatusRow {
  file: string;
  state: PostState | 'invalid';
  slug?: string;
  title?: string;
  date?: string;
  url?: string;
  topics?: string[];
  /** The newsletter's view: sent, due (with progress), or from before the baseline. */
  mail?: { state: 'sent' | 'due' | 'sending' | 'before-baseline' | 'not-mailed'; sentAt?: string; delivered?: number; recipients?: number };
  problems: string[];
}

export async function statusCommand({ config, now, io }: CommandContext, json: boolean): Promise<number> {
  const { posts, problems } = await loadPosts(config, io.cwd, scanPostFiles(config.paths.posts, io.cwd), readPostCache(config, io.cwd));
  const zone = config.site.timezone;
  const newsletter = readNewsletterState(config);
  const published = posts.filter((post) => postState(post, now) === 'published');
  const due = new Set(duePosts(published, newsletter, config));
  const baselinePosts = new Set(newsletter.baselinePosts);
  const list = readSubscribers(config, io.cwd);
  const subscribers = list.rows.flatMap((row) => (row.ok ? [row.subscriber] : []));
  const mailOf = (post: PostMeta): StatusRow['mail'] => {
    if (postState(post, now) !== 'published') return undefined;
    const sent = findSent(newsletter, post, config);
    if (sent) return { state: 'sent', sentAt: sent.sentAt, recipients: sent.recipients };
    if (due.has(post)) {
      const delivered = Ledger.count(config, `post:${entryId(post, config.site.url)}`);
      return { state: delivered ? 'sending' : 'due', delivered, recipients: subscribers.filter((subscriber) => wantsPost(subscriber, post.topics)).length };
    }
    return { state: baselinePosts.has(entryId(post, config.site.url)) ? 'before-baseline' : 'not-mailed' };
  };
  const rows: StatusRow[] = [...posts].sort(newestFirstOrder).map((post) => ({
    file: post.file,
    state: postState(post, now),
    slug: post.slug,
    title: post.title,
    date: DateTime.fromMillis(post.date, { zone }).toISO() ?? undefined,
    url: post.url,
    topics: post.topics.map((topic) => topic.name),
    mail: mailOf(post),
    problems: [],
  }));
  const invalid = new Map<string, Problem[]>();
  for (const problem of problems) invalid.set(problem.file ?? '', [...(invalid.get(problem.file ?? '') ?? []), problem]);
  for (const [file, list] of invalid) rows.push({ file, state: 'invalid', problems: list.map(formatProblem) });

  if (json) {
    io.out(JSON.stringify({ now: now.toISOString(), timezone: zone, baseline: newsletter.baseline, posts: rows }, null, 2));
    return problems.length ? 1 : 0;
  }
  const local = (iso: string) => DateTime.fromISO(iso, { setZone: true }).setZone(zone).toFormat('yyyy-MM-dd HH:mm');
  const describe = (row: StatusRow) => {
    const when = row.date ? local(row.date) : '';
    if (row.state === 'scheduled') return `scheduled for ${when}`;
    if (row.state === 'invalid') return 'invalid';
    return row.state === 'published' ? `published ${when}` : 'draft';
  };
  const mailText = (mail: StatusRow['mail']) => {
    if (!mail) return '';
    if (mail.state === 'sent') return `  [sent ${local(mail.sentAt!)} to ${mail.recipients}]`;
    if (mail.state === 'sending') return `  [sending: ${mail.delivered} of ${mail.recipients}]`;
    if (mail.state === 'due') return `  [due: ${mail.recipients} recipients]`;
    return mail.state === 'before-baseline' ? '  [before the baseline: not mailed]' : '';
  };
  io.out(newsletter.baseline ? `newsletter baseline: ${local(newsletter.baseline)}` : 'newsletter baseline: not set yet (the first herald run sets it)');
  const width = Math.max(0, ...rows.map((row) => describe(row).length));
  for (const row of rows) {
    io.out(`${describe(row).padEnd(width)}  ${row.file}${row.title ? `  ${row.title}` : ''}${mailText(row.mail)}`);
    for (const problem of row.problems) io.out(`${' '.repeat(width)}  ! ${problem}`);
  }
  const counts = countStates(posts, now);
  io.out(`${rows.length} posts: ${counts.published} published, ${counts.scheduled} scheduled, ${counts.draft} draft, ${invalid.size} invalid (times in ${zone})`);
  return problems.length ? 1 : 0;
}
