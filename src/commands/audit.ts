// herald audit POST: the proof a send finished, or the list of who is still owed the post.
import type { AuditEntry } from '../newsletter/audit.js';
import { withApp, stoppable, type CommandContext } from './context.js';
import { findPost } from './preview.js';
import { printSendReport } from './send.js';

export function auditCommand(context: CommandContext, name: string, options: { resume?: boolean; json?: boolean }): Promise<number> {
  return stoppable(context, (running) => audit(running, name, options));
}

async function audit(context: CommandContext, name: string, options: { resume?: boolean; json?: boolean }): Promise<number> {
  const { io } = context;
  const post = await findPost(context, name);
  return withApp(
    context,
    async (app) => {
      if (options.resume) {
        const report = await app.newsletter.resume(post, { stopped: context.stopped });
        if (!report) return notSent(context, post.slug);
        printSendReport(context, report);
      }
      const pages = await app.newsletter.audit(post);
      if (!pages) return notSent(context, post.slug);
      const totals = new Map<string, number>();
      let owed = 0;
      for await (const page of pages) {
        for (const entry of page) {
          const fate = fateOf(entry);
          totals.set(fate, (totals.get(fate) ?? 0) + 1);
          if (!entry.explained) owed++;
          io.out(options.json ? JSON.stringify(entry) : `${entry.recipient}\t${fate}${entry.providerId ? `\t${entry.providerId}` : ''}${entry.reason ? `\t${entry.reason}` : ''}`);
        }
      }
      const summary = [...totals].map(([fate, n]) => `${n} ${fate}`).join(', ') || 'nobody';
      const due = [...totals.values()].reduce((sum, n) => sum + n, 0);
      io.err(`${post.slug}: due to ${due}: ${summary}`);
      if (owed) io.err(`${post.slug}: ${owed} still owed the post (neither accepted nor explained): herald audit ${post.slug} --resume sends to exactly them`);
      else io.err(`${post.slug}: everyone due was accepted by the provider or is explained`);
      return owed ? 1 : 0;
    },
    { mail: options.resume },
  );
}

/** One word for where a recipient stands: accepted and what came back, or why not. */
function fateOf(entry: AuditEntry): string {
  if (entry.state === 'sent') return entry.after === 'nothing' ? 'accepted' : `accepted, ${entry.after}`;
  if (entry.state === 'bounced') return 'refused (bounced)';
  if (entry.state === 'skipped') return 'skipped';
  if (entry.state === 'submitted') return 'submitted, unconfirmed';
  return entry.state === 'failed' ? 'given up' : 'queued';
}

function notSent(context: CommandContext, slug: string): number {
  context.io.err(`herald: ${slug} was never sent: there is nothing to audit (herald status shows what is due)`);
  return 1;
}
