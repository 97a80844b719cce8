import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import isEmailModule from 'validator/lib/isEmail.js';
import { HeraldError, type Problem } from '../errors.js';

export const STATUSES = ['active', 'pending', 'unsubscribed', 'bounced'] as const;
export type Status = (typeof STATUSES)[number];

export const COLUMNS = ['email', 'name', 'status', 'topics', 'created_at', 'updated_at'] as const;

export interface Subscriber {
  email: string;
  name: string;
  status: Status;
  /** Empty means every post. */
  topics: string[];
  created_at: string;
  updated_at: string;
  /** Columns the writer added in a spreadsheet: kept as they are. */
  extra: Record<string, string>;
}

/** One row of subscribers.csv: a valid subscriber, or a row kept verbatim because it is not. */
export type Row = { ok: true; subscriber: Subscriber } | { ok: false; line: number; values: Record<string, string> };

export interface SubscriberList {
  rows: Row[];
  /** Extra columns, in file order. */
  extraColumns: string[];
  problems: Problem[];
}

/** Trimmed; the same address in any case is the same subscriber. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export function validEmail(email: string): boolean {
  // validator ships CommonJS with the function as both module.exports and .default.
  return isEmailModule.default(email.trim(), { allow_display_name: false, require_tld: true, allow_ip_domain: false });
}

/** The subscriber with this address, in any case. Rows are unique by address (parseSubscribers). */
export function findSubscriber(list: Pick<SubscriberList, 'rows'>, email: string): Subscriber | undefined {
  const key = emailKey(email);
  for (const row of list.rows) if (row.ok && emailKey(row.subscriber.email) === key) return row.subscriber;
  return undefined;
}

/** "a, b" or "a;b" -> ["a", "b"]. */
export function parseTopicList(value: string): string[] {
  return [...new Set(value.split(/[,;]/).map((topic) => topic.trim()).filter(Boolean))];
}

export function parseSubscribers(text: string, file: string): SubscriberList {
  const problems: Problem[] = [];
  // on_record keeps just the line number: csv-parse's full info object per row is heavy on big lists.
  const records = parse(text, {
    bom: true,
    columns: (header: string[]) => header.map((name) => name.trim()),
    skip_empty_lines: true,
    relax_column_count: true,
    on_record: (record: Record<string, string>, context: { lines: number }) => ({ record, info: { lines: context.lines } }),
  }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const columns = header ? (parse(header) as string[][])[0]!.map((name) => name.trim()) : [];
  if (text.trim() && !columns.includes('email')) {
    throw new HeraldError({ code: 'E_SUBSCRIBERS', file, line: 1, message: 'the first row has no "email" column', hint: `start the file with the header row ${COLUMNS.join(',')}` });
  }
  const seen = new Map<string, number>();
  const rows = records.map(({ record, info }): Row => {
    const line = info.lines;
    const keep = (message: string, hint: string): Row => {
      problems.push({ code: 'E_SUBSCRIBERS', file, line, message, hint });
      return { ok: false, line, values: record };
    };
    const email = (record.email ?? '').trim();
    if (!validEmail(email)) return keep(`"${email}" is not an email address`, 'fix the address or delete the row');
    const status = (record.status ?? '').trim() || 'active';
    if (!(STATUSES as readonly string[]).includes(status)) return keep(`status "${status}" is not one of ${STATUSES.join(', ')}`, 'fix the status');
    const earlier = seen.get(emailKey(email));
    if (earlier) return keep(`${email} is already on line ${earlier}`, 'delete one of the two rows');
    seen.set(emailKey(email), line);
    const extra = Object.fromEntries(Object.entries(record).filter(([key]) => !(COLUMNS as readonly string[]).includes(key)));
    return {
      ok: true,
      subscriber: {
        email,
        name: (record.name ?? '').trim(),
        status: status as Status,
        topics: parseTopicList(record.topics ?? ''),
        created_at: (record.created_at ?? '').trim(),
        updated_at: (record.updated_at ?? '').trim(),
        extra,
      },
    };
  });
  return { rows, extraColumns: columns.filter((name) => name && !(COLUMNS as readonly string[]).includes(name)), problems };
}

export function serializeSubscribers(list: Pick<SubscriberList, 'rows' | 'extraColumns'>): string {
  const columns = [...COLUMNS, ...list.extraColumns];
  const records = list.rows.map((row) => {
    if (!row.ok) return columns.map((column) => row.values[column] ?? '');
    const { subscriber } = row;
    const known: Record<string, string> = { ...subscriber, topics: subscriber.topics.join(',') } as unknown as Record<string, string>;
    return columns.map((column) => ((COLUMNS as readonly string[]).includes(column) ? known[column] : subscriber.extra[column]) ?? '');
  });
  return stringify([columns, ...records]);
}
