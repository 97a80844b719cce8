import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { hash } from '../cache.js';
import type { Config } from '../config.js';
import { emailKey } from '../subscribers/model.js';
import type { DeliveryLedger } from './sender.js';

const SYNC_EVERY = 200;

function ledgerPath(config: Config, jobKey: string): string {
  return join(config.paths.state, 'deliveries', `${hash(jobKey).slice(0, 24)}.log`);
}

/**
 * Who already has a message: one append-only file per delivery job in the state folder. A line is
 * written the moment the server accepts a message, so it survives a kill of herald at once (it is
 * in the kernel); fsync every few hundred lines and on close covers a power cut too.
 */
export class Ledger implements DeliveryLedger {
  private readonly delivered: Set<string>;
  private readonly fd: number;
  private unsynced = 0;

  constructor(readonly path: string) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // A line cut short by a crash has no tab: it never counted.
    this.delivered = new Set(text.split('\n').flatMap((line) => (line.includes('\t') ? [line.split('\t')[0]!] : [])));
    this.fd = openSync(path, 'a');
  }

  static open(config: Config, jobKey: string): Ledger {
    mkdirSync(join(config.paths.state, 'deliveries'), { recursive: true });
    return new Ledger(ledgerPath(config, jobKey));
  }

  /** How many recipients a job has reached so far, without opening it for writing. */
  static count(config: Config, jobKey: string): number {
    try {
      return readFileSync(ledgerPath(config, jobKey), 'utf8').split('\n').filter((line) => line.includes('\t')).length;
    } catch {
      return 0;
    }
  }

  has(email: string): boolean {
    return this.delivered.has(emailKey(email));
  }

  get size(): number {
    return this.delivered.size;
  }

  record(email: string, at: Date): void {
    const key = emailKey(email);
    if (this.delivered.has(key)) return;
    this.delivered.add(key);
    writeSync(this.fd, `${key}\t${at.toISOString()}\n`);
    if (++this.unsynced >= SYNC_EVERY) this.sync();
  }

  sync(): void {
    if (!this.unsynced) return;
    fsyncSync(this.fd);
    this.unsynced = 0;
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }
}
