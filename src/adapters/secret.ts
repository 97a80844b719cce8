import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import { checkSecret } from '../newsletter/tokens.js';

const SECRET_FILE = 'secret';

/**
 * The key that signs unsubscribe and confirmation links: HERALD_SECRET, else one generated on
 * first use into the state folder. It is written whole to a temp file (mode 0600) and linked into
 * place, which fails if the file exists: two processes starting at once agree on one secret, and
 * none ever reads a half-written one. An empty or short secret is an error, never used.
 */
export function loadSecret(config: Config, env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.HERALD_SECRET !== undefined) return checkSecret(env.HERALD_SECRET, { field: 'HERALD_SECRET' });
  return localSecret(config, cwd);
}

/**
 * With a database several machines share, one secret for all of them, kept in the database: a
 * link one machine signed must work on the others (a reader's unsubscribe, a provider's webhook).
 * HERALD_SECRET still wins; the first machine brings its own secret file if it has one, so links
 * already in readers' inboxes keep working after a move from the embedded database.
 */
export async function sharedSecret(config: Config, env: NodeJS.ProcessEnv, cwd: string, meta: { setOnce(key: string, value: string): Promise<string> }): Promise<string> {
  if (env.HERALD_SECRET !== undefined) return checkSecret(env.HERALD_SECRET, { field: 'HERALD_SECRET' });
  const own = existsSync(join(config.paths.state, SECRET_FILE)) ? localSecret(config, cwd) : randomBytes(32).toString('base64url');
  return checkSecret(await meta.setOnce('secret', own), { field: "the database's signing secret (meta 'secret')" });
}

/** The secret file in the state folder, made on first use. */
function localSecret(config: Config, cwd: string): string {
  const path = join(config.paths.state, SECRET_FILE);
  mkdirSync(config.paths.state, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  const shown = relative(cwd, path) || path;
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new HeraldError({ code: 'E_SECRET', file: shown, message: `cannot read the signing secret: ${(error as NodeJS.ErrnoException).code}`, hint: 'check the permissions of the state folder' });
  }
  return checkSecret(secret, { file: shown });
}
