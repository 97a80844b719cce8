import { build } from '../build.js';
import type { Config } from '../config.js';
import { formatProblem, HeraldError, type Problem } from '../errors.js';
import type { CommandContext } from './context.js';

export async function buildCommand({ config, now, io }: CommandContext, write: boolean): Promise<number> {
  const started = performance.now();
  const report = await build(config, { now, cwd: io.cwd, write });
  if (!write) report.problems.push(...(await checkMail(config, io.cwd)));
  for (const path of report.written) io.out(`wrote ${path}`);
  for (const problem of report.problems) io.err(formatProblem(problem));
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

// check also reads what sending needs: the templates, the subscriber list and the DKIM key.
async function checkMail(config: Config, cwd: string): Promise<Problem[]> {
  const [{ loadEmailTemplates }, { readSubscribers }, { createTransport }, { validateSchedule }] = await Promise.all([
    import('../email/templates.js'),
    import('../subscribers/store.js'),
    import('../deliver/transport.js'),
    import('./start.js'),
  ]);
  const problems: Problem[] = [];
  const attempt = (step: () => unknown) => {
    try {
      step();
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      problems.push(...error.problems);
    }
  };
  attempt(() => loadEmailTemplates(config, cwd));
  attempt(() => problems.push(...readSubscribers(config, cwd).problems));
  attempt(() => createTransport(config).close());
  attempt(() => validateSchedule({ config, now: new Date(), io: { cwd, env: {}, out: () => {}, err: () => {} } }));
  return problems;
}
