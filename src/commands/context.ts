import type { App } from '../app.js';
import { clockFrom } from '../clock.js';
import { loadConfig, locateConfig, type Config } from '../config.js';
import { formatProblem, HeraldError } from '../errors.js';
import type { Clock } from '../newsletter/ports.js';

export interface GlobalOptions {
  config?: string;
  now?: string;
}

export interface Io {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  /** A terminal on stderr: progress bars are drawn. */
  tty?: boolean;
  /** Where `herald inbound` reads its message (process.stdin unless given). */
  stdin?: NodeJS.ReadableStream;
}

export interface CommandContext {
  config: Config;
  /** The moment the command started, by `clock`. */
  now: Date;
  /** The one clock of the whole run: the real time, or --now's moment (see clockFrom). */
  clock: Clock;
  /** The --now moment, if one was given. */
  nowGiven?: Date;
  io: Io;
  /** True once SIGINT or SIGTERM asked herald to stop starting new work. */
  stopped?: () => boolean;
}

/** Config and clock for one command: --config/HERALD_CONFIG/./herald.config.yml, and --now or the real time. */
export async function commandContext(options: GlobalOptions, io: Io): Promise<CommandContext> {
  const file = locateConfig(options.config, io.env, io.cwd);
  const config = loadConfig(file, io.cwd, io.env);
  if (!file) io.err('herald: no herald.config.yml here, so the embedded defaults apply (see "Configuration" in the README)');
  const nowGiven = await parseNow(options.now, config.site.timezone);
  const clock = clockFrom(nowGiven);
  return { config, now: clock.now(), clock, io, nowGiven };
}

/**
 * The context with its config read again, site.url being `siteUrl` where the config sets none:
 * herald start's own address, so every URL made from site.url (web.url, email.from) follows it.
 */
export function withDefaultSiteUrl(context: CommandContext, siteUrl: string): CommandContext {
  return { ...context, config: loadConfig(context.config.file, context.io.cwd, context.io.env, { siteUrl }) };
}

/**
 * Opens the newsletter (its database, created on first use) for the length of `body`; with
 * `mail`, its mail transport too. What the first use brought in from older files is printed once.
 */
export async function withApp<T>(context: CommandContext, body: (app: App) => Promise<T>, options: { mail?: boolean } = {}): Promise<T> {
  const { config, clock, io } = context;
  // Loaded here, not at the top: the database and mail modules are for the commands that use them.
  const { openApp } = await import('../app.js');
  const app = await openApp(config, { cwd: io.cwd, env: io.env, clock, mail: options.mail });
  try {
    for (const note of app.legacy.notes) io.err(`herald: ${note}`);
    for (const problem of app.legacy.problems) io.err(formatProblem(problem));
    return await body(app);
  } finally {
    await app.close();
  }
}

async function parseNow(value: string | undefined, zone: string): Promise<Date | undefined> {
  if (value === undefined) return undefined;
  const { parsePostDate } = await import('../posts/dates.js');
  const parsed = parsePostDate(value, zone);
  if (parsed.ok) return parsed.date;
  throw new HeraldError({
    code: 'E_USAGE',
    field: '--now',
    message: `--now ${parsed.reason}`,
    hint: 'give an ISO 8601 moment such as 2026-02-10T14:00:00Z',
  });
}

/**
 * Runs a sending command so that Ctrl-C or SIGTERM stops it cleanly: no new message starts, those
 * in flight finish and are recorded, the rest stay due. A second signal ends herald at once.
 */
export async function stoppable<T>(context: CommandContext, body: (context: CommandContext) => Promise<T>): Promise<T> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    context.io.err(`herald: ${signal}: stopping; messages in flight finish, the rest stay due (again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body({ ...context, stopped: () => stopping || (context.stopped?.() ?? false) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
