import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatProblem, HeraldError } from '../errors.js';
import { cleanText, isStatus, parseTopicList, STATUSES, type Subscriber } from '../newsletter/subscriber.js';
import { parseAddress, type Address } from '../newsletter/subscriptions.js';
import { withApp, type CommandContext } from './context.js';

function requireAddress(email: string): Address {
  const address = parseAddress(email);
  if (!address) throw new HeraldError({ code: 'E_USAGE', field: 'EMAIL', message: `"${email}" is not an email address`, hint: 'give an address such as ada@example.com' });
  return address;
}

export async function addSubscriber(context: CommandContext, email: string, options: { name?: string; topics?: string }): Promise<number> {
  const address = requireAddress(email);
  return withApp(context, async ({ newsletter }) => {
    const outcome = await newsletter.add(address, { name: options.name === undefined ? undefined : cleanText(options.name, 200), topics: options.topics === undefined ? undefined : parseTopicList(options.topics) });
    if (outcome === 'refused') {
      const status = (await newsletter.get(address.key))?.status;
      context.io.err(
        status === 'complained'
          ? `herald: ${address.email} marked a message as spam; herald never mails them again`
          : `herald: ${address.email} is ${status}; herald does not re-add them (they can subscribe again themselves, through the form and its confirmation link)`,
      );
      return 1;
    }
    context.io.out(`${outcome} ${address.email}`);
    return 0;
  });
}

export async function removeSubscriber(context: CommandContext, email: string, options: { purge?: boolean }): Promise<number> {
  const address = requireAddress(email);
  return withApp(context, async ({ newsletter }) => {
    const outcome = await newsletter.remove(address, options.purge === true);
    if (outcome === 'gone') {
      context.io.err(`herald: ${address.email} is not on the list`);
      return 1;
    }
    if (outcome === 'unchanged') {
      context.io.out(`${address.email} is ${(await newsletter.get(address.key))?.status}: left as it is (nothing is sent to it)`);
      return 0;
    }
    context.io.out(outcome === 'purged' ? `deleted ${address.email} and what was sent to them` : `unsubscribed ${address.email}`);
    return 0;
  });
}

export async function listSubscribers(context: CommandContext, options: { status?: string; json?: boolean }): Promise<number> {
  const { status } = options;
  if (status !== undefined && !isStatus(status)) {
    throw new HeraldError({ code: 'E_USAGE', field: '--status', message: `--status "${status}" is not a status`, hint: `use one of ${STATUSES.join(', ')}` });
  }
  return withApp(context, async ({ newsletter }) => {
    const { io } = context;
    const shown: Omit<Subscriber, 'extra' | 'confirmSentAt'>[] = [];
    let count = 0;
    for await (const subscriber of newsletter.list(status)) {
      count++;
      if (options.json) {
        const { extra: _extra, confirmSentAt: _sent, ...rest } = subscriber;
        shown.push(rest);
      } else io.out(`${subscriber.status.padEnd(12)} ${subscriber.email}${subscriber.name ? ` (${subscriber.name})` : ''}${subscriber.topics.length ? `  topics: ${subscriber.topics.join(', ')}` : ''}`);
    }
    if (options.json) io.out(JSON.stringify(shown, null, 2));
    else {
      const counts = await newsletter.counts();
      io.out(`${count} shown; ${STATUSES.map((name) => `${counts[name]} ${name}`).join(', ')}`);
    }
    return 0;
  });
}

/** The first line of a file, without reading all of it (exports can be large). */
function firstLineOf(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

export async function importSubscribers(context: CommandContext, file: string): Promise<number> {
  const { io } = context;
  const path = resolve(io.cwd, file);
  let firstLine: string;
  try {
    firstLine = firstLineOf(path);
  } catch (error) {
    throw new HeraldError({ code: 'E_USAGE', file, message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`, hint: 'give the path of a CSV file' });
  }
  return withApp(context, async ({ newsletter }) => {
    const report = await newsletter.importCsv(createReadStream(path), firstLine, file);
    for (const problem of report.rejected.slice(0, 1000)) io.err(formatProblem(problem));
    if (report.rejected.length > 1000) io.err(`... and ${report.rejected.length - 1000} more rows rejected`);
    io.out(`imported ${report.added}, already on the list ${report.unchanged}, rejected ${report.rejected.length}`);
    return report.rejected.length ? 1 : 0;
  });
}

export async function exportSubscribers(context: CommandContext): Promise<number> {
  return withApp(context, async ({ newsletter }) => {
    await newsletter.exportCsv((chunk) => context.io.out(chunk.replace(/\n$/, '')));
    return 0;
  });
}

export async function backupDatabase(context: CommandContext, file: string): Promise<number> {
  const target = resolve(context.io.cwd, file);
  return withApp(context, async (app) => {
    if (!('backup' in app.store)) {
      throw new HeraldError({ code: 'E_USAGE', message: `herald backup copies the embedded database; ${app.store.description} is a PostgreSQL server`, hint: 'back it up with pg_dump, or take the list alone with herald subscribers export' });
    }
    await app.store.backup(target);
    context.io.out(`backed up ${app.store.description} to ${file}`);
    return 0;
  });
}
