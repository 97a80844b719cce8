import { diagnose, dnsResolver, type Check, type Resolver } from '../doctor.js';
import { HeraldError } from '../errors.js';
import type { CommandContext } from './context.js';

/** Prints one line per check; exit 1 if any is a problem (warnings alone pass). */
export async function doctorCommand({ config, io }: CommandContext, options: { dns?: string }): Promise<number> {
  const { checks } = await diagnose(config, { resolver: resolverFor(options.dns) });
  for (const check of checks) io.out(formatCheck(check));
  const count = (status: Check['status']) => checks.filter((check) => check.status === status).length;
  const problems = count('problem');
  const warnings = count('warning');
  io.out(`${checks.length} checks: ${problems} problem${problems === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return problems ? 1 : 0;
}

function formatCheck({ name, status, detail, fix }: Check): string {
  return `${status.padEnd(7)} ${name}: ${detail}${fix ? `; fix: ${fix}` : ''}`;
}

function resolverFor(servers: string | undefined): Resolver {
  try {
    return dnsResolver(servers?.split(',').map((server) => server.trim()));
  } catch {
    throw new HeraldError({
      code: 'E_USAGE',
      field: '--dns',
      message: `--dns ${servers}: not a DNS server address`,
      hint: 'give an IP address, with :port if not 53, such as 1.1.1.1 or 127.0.0.1:5353 (several separated by commas)',
    });
  }
}
