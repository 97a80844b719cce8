import { loadConfig, locateConfig, type Config } from '../config.js';
import { HeraldError } from '../errors.js';

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
}

export interface CommandContext {
  config: Config;
  now: Date;
  io: Io;
  /** True once SIGINT or SIGTERM asked herald to stop starting new work. */
  stopped?: () => boolean;
}

/** Config and clock for one command: --config/HERALD_CONFIG/./herald.config.yml, and --now or the real time. */
export async function commandContext(options: GlobalOptions, io: Io): Promise<CommandContext> {
  const file = locateConfig(options.config, io.env, io.cwd);
  const config = loadConfig(file, io.cwd, io.env);
  if (!file) io.err('herald: no herald.config.yml here, so the embedded defaults apply (see "Configuration" in the README)');
  return { config, now: await parseNow(options.now, config.site.timezone), io };
}

async function parseNow(value: string | undefined, zone: string): Promise<Date> {
  if (value === undefined) return new Date();
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
