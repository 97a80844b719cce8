import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parse } from 'csv-parse';
import lockfile from 'proper-lockfile';
import type { Config } from '../config.js';
import { writeFileAtomic } from '../files.js';
import { parseSubscribers, parseTopicList, serializeSubscribers, STATUSES, validEmail, type Status, type Subscriber, type SubscriberList } from './model.js';

export const SUBSCRIBERS_FILE = 'subscribers.csv';

export function subscribersPath(config: Config): string {
  return join(config.paths.subscribers, SUBSCRIBERS_FILE);
}

/** The list as it is on disk now (an absent file is an empty list). */
export function readSubscribers(config: Config, cwd: string): SubscriberList {
  const path = subscribersPath(config);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return parseSubscribers(text, relative(cwd, path) || path);
}

/**
 * Changes the list under a lock, so no concurrent writer (another herald, the web side) loses a
 * row, and writes it atomically and durably. `change` returns what the caller wants back.
 * A lock left by a killed process is taken over once it is stale (not refreshed for 10 s).
 */
export async function updateSubscribers<T>(config: Config, cwd: string, change: (list: SubscriberList) => T): Promise<T> {
  const path = subscribersPath(config);
  await mkdir(dirname(path), { recursive: true });
  const release = await lockfile.lock(path, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 200, minTimeout: 5, maxTimeout: 100, randomize: true },
  });
  try {
    const list = readSubscribers(config, cwd);
    const before = serializeSubscribers(list);
    const result = change(list);
    const after = serializeSubscribers(list);
    if (after !== before) await writeFileAtomic(path, after);
    return result;
  } finally {
    await release();
  }
}

/**
 * Every valid subscriber, one row at a time: sending walks the list this way, so memory stays flat
 * however long it is. Rows that are not valid are skipped here; check and list report them.
 */
export async function* eachSubscriber(config: Config, skippedLines?: Set<number>): AsyncGenerator<Subscriber> {
  const path = subscribersPath(config);
  if (!existsSync(path)) return;
  const seen = new Set<string>();
  const rows = createReadStream(path).pipe(
    parse({
      bom: true,
      columns: (header: string[]) => header.map((name) => name.trim()),
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: Record<string, string>, context: { lines: number }) => ({ record, line: context.lines }),
    }),
  );
  for await (const { record, line } of rows as AsyncIterable<{ record: Record<string, string>; line: number }>) {
    const email = (record.email ?? '').trim();
    const status = (record.status ?? '').trim() || 'active';
    const key = email.toLowerCase();
    if (!validEmail(email) || !(STATUSES as readonly string[]).includes(status) || seen.has(key)) {
      skippedLines?.add(line);
      continue;
    }
    seen.add(key);
    yield { email, name: (record.name ?? '').trim(), status: status as Status, topics: parseTopicList(record.topics ?? ''), created_at: '', updated_at: '', extra: {} };
  }
}
