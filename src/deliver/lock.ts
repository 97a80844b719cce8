import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';

/**
 * Only one herald sends at a time. The lock is refreshed while held, so one left by a killed
 * process goes stale after 20 s and the next herald takes it over.
 */
export async function acquireSendLock(config: Config): Promise<() => Promise<void>> {
  mkdirSync(config.paths.state, { recursive: true });
  const target = join(config.paths.state, 'send');
  try {
    return await lockfile.lock(target, { realpath: false, stale: 20_000, update: 5_000, retries: { retries: 3, minTimeout: 200 } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new HeraldError({
      code: 'E_LOCKED',
      file: `${target}.lock`,
      message: 'another herald is sending right now',
      hint: 'wait for it to finish; a lock left by a killed herald is taken over after 20 seconds',
    });
  }
}
