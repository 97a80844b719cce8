// The one place that knows which adapters herald runs on: config in, the newsletter core wired to
// its store and mail transport out. Commands, the worker and the web side all start here.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readPosts } from './build.js';
import { aligned } from './dmarc.js';
import { mailboxDomain, type Config } from './config.js';
import { HeraldError, type Problem } from './errors.js';
import type { PostMeta } from './posts/parse.js';
import { compose, dkimSigner } from './adapters/mail/compose.js';
import { createTransport, mailTarget } from './adapters/mail/index.js';
import { loadSecret, sharedSecret } from './adapters/secret.js';
import { importLegacyFiles, type LegacyReport } from './adapters/store/legacy.js';
import type { PostgresStore } from './adapters/store/postgres.js';
import { openSqliteStore, type SqliteStore } from './adapters/store/sqlite.js';
import { readImport } from './newsletter/csv.js';
import { duePosts, PostIndex } from './newsletter/due.js';
import { oneClickProblem } from './newsletter/email/message.js';
import { loadMailTemplates } from './newsletter/email/templates.js';
import { Newsletter } from './newsletter/newsletter.js';
import type { Clock, MailTransport, OutgoingMessage } from './newsletter/ports.js';
import { checkSecret } from './newsletter/tokens.js';

/** The embedded SQLite file, or a PostgreSQL server several machines share (database.url). */
export type AppStore = SqliteStore | PostgresStore;

export interface App {
  readonly config: Config;
  readonly clock: Clock;
  readonly newsletter: Newsletter;
  readonly store: AppStore;
  /** What the first use of a new database brought in from older files, for the command to print. */
  readonly legacy: LegacyReport;
  /** Closes the mail transport, if one was opened, and the database. */
  close(): Promise<void>;
}

export interface AppOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Open the mail transport now, so a broken DKIM key stops a sending command before it does anything. */
  mail?: boolean;
}

/** The store the config names: PostgreSQL with database.url (or HERALD_DATABASE_URL), else the SQLite file, made on first use. */
export async function openStore(config: Config, cwd: string, env: NodeJS.ProcessEnv): Promise<AppStore> {
  if (config.database.url) {
    // Loaded only for it: the pg driver is for those who run several machines.
    const { openPostgresStore } = await import('./adapters/store/postgres.js');
    // How long a dead sender's claimed readers wait for another (default 5 minutes).
    const leaseMs = Number(env.HERALD_CLAIM_LEASE_MS) || undefined;
    return openPostgresStore(config.database.url, leaseMs ? { leaseMs } : {});
  }
  const file = config.database.file;
  return openSqliteStore(file, { shown: relative(cwd, file) || file });
}

export async function openApp(config: Config, { cwd, env, clock, mail = false }: AppOptions): Promise<App> {
  const store = await openStore(config, cwd, env);
  let transport: MailTransport | undefined;
  try {
    if (mail) transport = createTransport(config);
    const newsletter = new Newsletter({
      config,
      cwd,
      store,
      clock,
      // Machines sharing a PostgreSQL database share its secret: a link one signed works on all.
      secret: config.database.url ? await sharedSecret(config, env, cwd, (store as PostgresStore).meta) : loadSecret(config, env, cwd),
      transport: () => (transport ??= createTransport(config)),
      retry: { attempts: 4, backoffMs: Number(env.HERALD_RETRY_BACKOFF_MS ?? 1000) },
    });
    const legacy = await importLegacyFiles(store, newsletter, config, cwd, async () => (await readPosts(config, cwd)).posts);
    return {
      config,
      clock,
      newsletter,
      store,
      legacy,
      async close() {
        await transport?.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * What `herald check` asks of the mail side, writing nothing: the mail templates parse, the DKIM
 * key signs a test message (and its domain is aligned with From), the signing secret is sound,
 * and the subscriber list can be read (the database, or the CSV a first use would bring in).
 */
export async function checkMailSetup(config: Config, cwd: string, env: NodeJS.ProcessEnv, published: PostMeta[]): Promise<{ problems: Problem[]; warnings: string[]; due: PostMeta[] }> {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  let due: PostMeta[] = [];
  const attempt = async (step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      problems.push(...error.problems);
    }
  };
  // What smtp.url names is read: a postmark:// without its token or an ses:// with half its
  // credentials is said now, not at the first send.
  await attempt(() => mailTarget(config));
  await attempt(() => loadMailTemplates(config, cwd, 'email'));
  await attempt(() => loadMailTemplates(config, cwd, 'confirm'));
  await attempt(async () => {
    const signer = dkimSigner(config);
    if (!signer) return;
    const draft = { subject: 'herald check', html: '<p>check</p>', text: 'check\n', warnings: [] };
    const test: OutgoingMessage = { from: config.email.from, to: { name: '', address: 'check@example.com' }, subject: draft.subject, date: new Date(), messageId: '<check@herald.invalid>', body: { draft, recipient: { name: '', email: 'check@example.com' } } };
    await signer.sign((await compose(test)).raw);
    const fromDomain = mailboxDomain(config.email.from)?.toLowerCase() ?? '';
    if (!aligned(signer.domain, fromDomain)) {
      warnings.push(`smtp.dkim.domain (${signer.domain}) is not aligned with the From address's domain (${fromDomain}): DMARC fails and Gmail and Yahoo may refuse the mail (sign with ${fromDomain} or a domain under the same organisation)`);
    }
  });
  if (!config.email.address) {
    warnings.push('email.address is not set: every email should carry the sender\'s postal address in its footer (CAN-SPAM asks it of commercial mail); set email.address to a street address or a PO box');
  }
  await attempt(() => {
    if (env.HERALD_SECRET !== undefined) checkSecret(env.HERALD_SECRET, { field: 'HERALD_SECRET' });
    const file = join(config.paths.state, 'secret');
    if (existsSync(file)) checkSecret(readFileSync(file, 'utf8').trim(), { file: relative(cwd, file) || file });
  });
  await attempt(async () => {
    // The embedded file is read only if it exists: check writes nothing.
    if (config.database.url || existsSync(config.database.file)) {
      const store = await openStore(config, cwd, env);
      try {
        await store.verify();
        // What the next pass would send, read without writing (the pass itself saves renamed posts).
        const baseline = await store.state.baseline();
        due = duePosts(published, baseline, new PostIndex(await store.state.posts()), config);
        const oneClick = oneClickProblem(config, { baseline, servedAt: await store.state.servedAt() });
        if (oneClick) warnings.push(oneClick);
      } finally {
        await store.close();
      }
      return;
    }
    const csv = join(config.paths.subscribers, 'subscribers.csv');
    if (!existsSync(csv)) return;
    const firstLine = readFileSync(csv, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    for await (const batch of readImport(createReadStream(csv), firstLine, relative(cwd, csv) || csv)) problems.push(...batch.rejected);
  });
  return { problems, warnings, due };
}
