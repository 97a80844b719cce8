#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { commandContext, type GlobalOptions, type Io } from './commands/context.js';
import { formatProblem, HeraldError } from './errors.js';
import { HERALD_VERSION } from './version.js';

// Commands are imported when run, so a quick command loads only what it needs.

/** Runs one herald command and returns its exit code. Tests call this directly. */
export async function main(argv: string[], io: Io): Promise<number> {
  let exitCode = 0;
  const program = new Command('herald')
    .description('Publish markdown posts as RSS, Atom and JSON Feed, and mail them to subscribers.')
    .version(HERALD_VERSION, '-V, --version')
    .option('--config <file>', 'config file (default: $HERALD_CONFIG, else ./herald.config.yml)')
    .option('--now <iso-8601>', 'act as if it were this moment, e.g. 2026-02-10T14:00:00Z')
    .showHelpAfterError('(run herald --help to see the commands)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });
  const context = () => commandContext(program.opts<GlobalOptions>(), io);

  program
    .command('init')
    .argument('[dir]', 'the folder for the new site (default: the working directory)')
    .description('make a new site: a commented config, an example post and a .gitignore; with --from, a config that publishes an existing Jekyll, Hugo or Eleventy blog')
    .option('--from <dir>', "read the Jekyll, Hugo or Eleventy blog in this folder and write a herald.config.yml for it (the blog's files are not changed)")
    .option('--to <file>', 'with --from: where to write the config (default: ./herald.config.yml)')
    .action(async (dir: string | undefined, options: { from?: string; to?: string }) => {
      const { initCommand } = await import('./commands/init.js');
      exitCode = await initCommand(io, dir, { ...options, now: program.opts<GlobalOptions>().now });
    });
  program
    .command('build')
    .description('read the posts and write the feeds; print what was written and what was rejected')
    .action(async () => {
      const { buildCommand } = await import('./commands/build.js');
      exitCode = await buildCommand(await context(), true);
    });
  program
    .command('check')
    .description('validate the config, posts and templates; write nothing; exit 1 on any problem')
    .action(async () => {
      const { buildCommand } = await import('./commands/build.js');
      exitCode = await buildCommand(await context(), false);
    });
  program
    .command('status')
    .description('list each post with its state (draft, scheduled, published) and any problem')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      const { statusCommand } = await import('./commands/status.js');
      exitCode = await statusCommand(await context(), options.json === true);
    });

  program
    .command('start')
    .description('the worker: a pass now and on every tick of the schedule, and the web side (feeds, unsubscribe)')
    .option('--port <n>', 'HTTP port (default: $PORT, else 8080); with no site.url set, links point here')
    .option('--host <h>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface); with no site.url set, links name it (localhost for these two)')
    .option('--no-http', 'run passes only, serve nothing')
    .action(async (options: { port?: string; host?: string; http: boolean }) => {
      const { startCommand } = await import('./commands/start.js');
      exitCode = await startCommand(await context(), options);
    });
  program
    .command('run')
    .description('one pass: build the feeds, send every due post, exit')
    .option('--json', 'print the summary as JSON')
    .action(async (options: { json?: boolean }) => {
      const { runCommand } = await import('./commands/send.js');
      exitCode = await runCommand(await context(), options.json === true);
    });
  program
    .command('send')
    .argument('<post>', 'a slug or a post file')
    .description('send one post to every active subscriber who has not had it')
    .option('--to <email>', 'send only to this address, as a test')
    .option('--dry-run', 'list who would get it; send nothing')
    .option('--resend', 'send it again to everyone, even those who had it')
    .action(async (post: string, options: { to?: string; dryRun?: boolean; resend?: boolean }) => {
      const { sendCommand } = await import('./commands/send.js');
      exitCode = await sendCommand(await context(), post, options);
    });
  program
    .command('preview')
    .argument('<post>', 'a slug or a post file')
    .description('render the email for a post into files (HTML and text) and print their paths')
    .action(async (post: string) => {
      const { previewCommand } = await import('./commands/preview.js');
      exitCode = await previewCommand(await context(), post);
    });

  program
    .command('doctor')
    .description('check through DNS and the web what mail providers check before the first send: SPF, DKIM, DMARC and alignment, HTTPS, one-click unsubscribe; exit 1 on any problem')
    .option('--dns <server>', "ask this DNS server, such as 1.1.1.1 or 127.0.0.1:5353 (default: the system's)")
    .action(async (options: { dns?: string }) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      exitCode = await doctorCommand(await context(), options);
    });

  program
    .command('audit')
    .argument('<post>', 'slug or file of the post')
    .option('--resume', 'first send the post to exactly those still owed it (queued, or given up after refusals)')
    .option('--json', 'one JSON object per recipient')
    .description('for one post, every recipient it was due to, whether the provider accepted the message, and what came back; exit 1 if anyone is still owed it')
    .action(async (post: string, options: { resume?: boolean; json?: boolean }) => {
      const { auditCommand } = await import('./commands/audit.js');
      exitCode = await auditCommand(await context(), post, options);
    });

  program
    .command('inbound')
    .description('read one bounce (RFC 3464 DSN) or complaint (RFC 5965 ARF) message on standard input, as an MTA pipe or mailbox rule delivers it, and apply it')
    .action(async () => {
      const { inboundCommand, EX_TEMPFAIL } = await import('./commands/feedback.js');
      try {
        exitCode = await inboundCommand(await context(), io.stdin ?? process.stdin);
      } catch (error) {
        // Whatever stops herald here (a config, a database) is to be fixed, not the message lost:
        // the MTA keeps it and tries again only on this code.
        io.err(error instanceof HeraldError ? error.problems.map((problem) => `herald: ${formatProblem(problem)}`).join('\n') : `herald: ${(error as Error).stack ?? String(error)}`);
        exitCode = EX_TEMPFAIL;
      }
    });

  program
    .command('webhooks')
    .description("print the webhook addresses and keys to give a mail provider (SES through SNS, Postmark, or a signed generic one)")
    .action(async () => {
      const { webhooksCommand } = await import('./commands/feedback.js');
      exitCode = await webhooksCommand(await context());
    });

  program
    .command('backup')
    .argument('<file>', 'a new file for the copy')
    .description("copy herald's database (subscribers, what was sent to whom) to a file, safely while herald runs")
    .action(async (file: string) => {
      exitCode = await (await import('./commands/subscribers.js')).backupDatabase(await context(), file);
    });

  const subscribers = program.command('subscribers').description("manage the subscriber list (kept in herald's database)");
  const subscribersCommand = () => import('./commands/subscribers.js');
  subscribers
    .command('add')
    .argument('<email>')
    .description('add an active subscriber, or update the name and topics of one already on the list')
    .option('--name <name>', "the subscriber's name")
    .option('--topics <a,b>', 'only posts with one of these topics (default: every post)')
    .action(async (email: string, options: { name?: string; topics?: string }) => {
      exitCode = await (await subscribersCommand()).addSubscriber(await context(), email, options);
    });
  subscribers
    .command('remove')
    .argument('<email>')
    .description('mark a subscriber unsubscribed (--purge deletes the row)')
    .option('--purge', 'delete the row altogether')
    .action(async (email: string, options: { purge?: boolean }) => {
      exitCode = await (await subscribersCommand()).removeSubscriber(await context(), email, options);
    });
  subscribers
    .command('list')
    .description('list subscribers')
    .option('--status <status>', 'only those with this status: active, pending, unsubscribed, bounced or complained')
    .option('--json', 'print JSON')
    .action(async (options: { status?: string; json?: boolean }) => {
      exitCode = await (await subscribersCommand()).listSubscribers(await context(), options);
    });
  subscribers
    .command('import')
    .argument('<file.csv>')
    .description("import another service's CSV export (an email or Email Address column); safe to run twice")
    .action(async (file: string) => {
      exitCode = await (await subscribersCommand()).importSubscribers(await context(), file);
    });
  subscribers
    .command('export')
    .description('print the subscriber list as CSV (safe to open in a spreadsheet)')
    .action(async () => {
      exitCode = await (await subscribersCommand()).exportSubscribers(await context());
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof HeraldError) {
      for (const problem of error.problems) io.err(`herald: ${formatProblem(problem)}`);
      return error.code === 'E_USAGE' ? 2 : 1;
    }
    throw error;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that stops early (herald status | head -1) closes the pipe. The command still
  // finishes what it started (a build or a pass stopped half-way helps nobody) and exits with its
  // own code; what it would have printed has nowhere to go, and is dropped without a stack.
  const closed = new Set<NodeJS.WriteStream>();
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      closed.add(stream);
    });
  }
  const write = (stream: NodeJS.WriteStream, text: string) => {
    if (!closed.has(stream)) stream.write(text);
  };
  const io: Io = {
    cwd: process.cwd(),
    env: process.env,
    out: (line) => write(process.stdout, `${line}\n`),
    err: (line) => write(process.stderr, `${line}\n`),
    tty: process.stderr.isTTY,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      write(process.stderr, `herald: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
