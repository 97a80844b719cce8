import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';

const LOCK_OPTIONS = { realpath: false, stale: 20_000, update: 5_000, retries: { retries: 3, minTimeout: 200 } };

function ownerPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim() || NaN);
  } catch {
    return NaN;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Only one herald sends at a time. The lock is refreshed while held, so one left by a killed
 * herald on another machine goes stale after 20 s; on this machine the owner's pid, kept beside
 * the lock, lets the next herald take over at once when that process is gone.
 */
export async function acquireSendLock(config: Config): Promise<() => Promise<void>> {
  mkdirSync(config.paths.state, { recursive: true });
  const target = join(config.paths.state, 'send');
  const owner = `${target}.pid`;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, LOCK_OPTIONS);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const pid = ownerPid(owner);
    if (!Number.isInteger(pid) || alive(pid)) {
      throw new HeraldError({
        code: 'E_LOCKED',
        file: `${target}.lock`,
        message: `another herald${Number.isInteger(pid) ? ` (pid ${pid})` : ''} is sending right now`,
        hint: 'wait for it to finish; a lock left by a killed herald is taken over',
      });
    }
    rmSync(`${target}.lock`, { recursive: true, force: true });
    release = await lockfile.lock(target, LOCK_OPTIONS);
  }
  writeFileSync(owner, String(process.pid));
  return async () => {
    rmSync(owner, { force: true });
    await release();
  };
}
