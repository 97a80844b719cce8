import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatProblem, HeraldError } from '../errors.js';
import { parseImport } from '../subscribers/import.js';
import { emailKey, findSubscriber, parseTopicList, serializeSubscribers, STATUSES, validEmail } from '../subscribers/model.js';
import { readSubscribers, updateSubscribers } from '../subscribers/store.js';
import type { CommandContext } from './context.js';

function requireEmail(email: string): string {
  const trimmed = email.trim();
  if (!validEmail(trimmed)) {
    throw new HeraldError({ code: 'E_USAGE', field: 'EMAIL', message: `"${email}" is not an email address`, hint: 'give an address such as ada@example.com' });
  }
  return trimmed;
}

export async function addSubscriber({ config, now, io }: CommandContext, email: string, options: { name?: string; topics?: string }): Promise<number> {
  const address = requireEmail(email);
  const at = now.toISOString();
  const outcome = await updateSubscribers(config, io.cwd, (list) => {
    const existing = findSubscriber(list, address);
    if (existing?.status === 'unsubscribed' || existing?.status === 'bounced') return existing.status;
    if (existing) {
      if (options.name !== undefined) existing.name = options.name.trim();
      if (options.topics !== undefined) existing.topics = parseTopicList(options.topics);
      existing.status = 'active';
      existing.updated_at = at;
      return 'updated';
    }
    list.rows.push({
      ok: true,
      subscriber: { email: address, name: options.name?.trim() ?? '', status: 'active', topics: parseTopicList(options.topics ?? ''), created_at: at, updated_at: at, extra: {} },
    });
    return 'added';
  });
  if (outcome === 'unsubscribed' || outcome === 'bounced') {
    io.err(`herald: ${address} is ${outcome}; herald does not re-add them (they can subscribe again themselves, or edit subscribers.csv if you are sure)`);
    return 1;
  }
  io.out(`${outcome} ${address}`);
  return 0;
}

export async function removeSubscriber({ config, now, io }: CommandContext, email: string, options: { purge?: boolean }): Promise<number> {
  const key = emailKey(requireEmail(email));
  const found = await updateSubscribers(config, io.cwd, (list) => {
    const index = list.rows.findIndex((row) => row.ok && emailKey(row.subscriber.email) === key);
    if (index < 0) return false;
    const row = list.rows[index]!;
    if (options.purge) list.rows.splice(index, 1);
    else if (row.ok && row.subscriber.status !== 'unsubscribed') {
      row.subscriber.status = 'unsubscribed';
      row.subscriber.updated_at = now.toISOString();
    }
    return true;
  });
  if (!found) {
    io.err(`herald: ${email.trim()} is not on the list`);
    return 1;
  }
  io.out(options.purge ? `deleted ${email.trim()}` : `unsubscribed ${email.trim()}`);
  return 0;
}

export function listSubscribers({ config, io }: CommandContext, options: { status?: string; json?: boolean }): number {
  if (options.status !== undefined && !(STATUSES as readonly string[]).includes(options.status)) {
    throw new HeraldError({ code: 'E_USAGE', field: '--status', message: `--status "${options.status}" is not a status`, hint: `use one of ${STATUSES.join(', ')}` });
  }
  const list = readSubscribers(config, io.cwd);
  const subscribers = list.rows.flatMap((row) => (row.ok && (!options.status || row.subscriber.status === options.status) ? [row.subscriber] : []));
  if (options.json) {
    io.out(JSON.stringify(subscribers.map(({ extra: _extra, ...subscriber }) => subscriber), null, 2));
  } else {
    for (const s of subscribers) io.out(`${s.status.padEnd(12)} ${s.email}${s.name ? ` (${s.name})` : ''}${s.topics.length ? `  topics: ${s.topics.join(', ')}` : ''}`);
    const counts = STATUSES.map((status) => `${list.rows.filter((row) => row.ok && row.subscriber.status === status).length} ${status}`);
    io.out(`${subscribers.length} shown; ${counts.join(', ')}`);
  }
  for (const problem of list.problems) io.err(formatProblem(problem));
  return list.problems.length ? 1 : 0;
}

export async function importSubscribers({ config, now, io }: CommandContext, file: string): Promise<number> {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new HeraldError({ code: 'E_USAGE', file, message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`, hint: 'give the path of a CSV file' });
  }
  const { candidates, rejected } = parseImport(text, file);
  const at = now.toISOString();
  const counts = await updateSubscribers(config, io.cwd, (list) => {
    const tally = { added: 0, unchanged: 0 };
    for (const candidate of candidates) {
      // Idempotent, and never a way back onto the list for someone who left it.
      if (findSubscriber(list, candidate.email)) {
        tally.unchanged++;
        continue;
      }
      list.rows.push({ ok: true, subscriber: { email: candidate.email, name: candidate.name, status: candidate.status, topics: [], created_at: at, updated_at: at, extra: {} } });
      tally.added++;
    }
    return tally;
  });
  for (const problem of rejected) io.err(formatProblem(problem));
  io.out(`imported ${counts.added}, already on the list ${counts.unchanged}, rejected ${rejected.length}`);
  return rejected.length ? 1 : 0;
}

export function exportSubscribers({ config, io }: CommandContext): number {
  const list = readSubscribers(config, io.cwd);
  io.out(serializeSubscribers(list).trimEnd());
  return 0;
}

