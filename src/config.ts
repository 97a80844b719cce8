import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import yaml from 'js-yaml';
import * as v from 'valibot';
import { HeraldError, type Problem } from './errors.js';
import { topicSlug } from './posts/topics.js';
import { dropXmlForbidden } from './text.js';

export const DEFAULT_CONFIG_FILE = 'herald.config.yml';

const text = (fallback: string) => v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty')), fallback);
const staticEntry = v.union(
  [
    v.pipe(v.string(), v.minLength(1, 'must not be empty')),
    v.strictObject({ folder: v.pipe(v.string(), v.minLength(1, 'must not be empty')), path: v.optional(v.pipe(v.string(), v.check((path) => !path.split('/').includes('..'), 'must stay inside output')), '/') }),
  ],
  'must be a folder or { folder, path }',
);
const feedPath = (fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[\w.-]+(\/[\w.-]+)*$/, 'must be a file path below output, such as feed.xml or feeds/rss.xml'),
      v.check((path) => !path.split('/').some((part) => part === '.' || part === '..'), 'must stay below output'),
    ),
    fallback,
  );

/** A message's token in a VERP return path (its Message-ID's hex digest): see buildMessage. */
export const RETURN_TOKEN_LENGTH = 32;

/** Where herald start serves by default; a site.url left unset follows its --port and --host. */
export const DEFAULT_SITE_URL = 'http://localhost:8080/';

// An absolute http(s) URL, or a path that resolves against site.url.
const imageUrl = v.pipe(
  v.string(),
  v.check((value) => (/^https?:\/\//i.test(value) && URL.canParse(value)) || /^\/?[^\s:]+$/.test(value), 'must be a URL such as https://example.com/icon.png or a path such as /icon.png'),
);

const schema = v.strictObject({
  site: v.optional(
    v.strictObject({
      title: text('Herald sample newsletter'),
      url: v.optional(
        v.pipe(
          v.string(),
          v.check((value) => /^https?:\/\/[^/]+/i.test(value) && URL.canParse(value), 'must be an absolute http(s) URL, like https://example.com/'),
        ),
        DEFAULT_SITE_URL,
      ),
      description: v.optional(v.string(), 'Notes, sent as they are written.'),
      author: v.optional(
        v.strictObject({
          name: text('The Herald writer'),
          email: v.optional(v.pipe(v.string(), v.email('must be an email address such as ada@example.com'))),
        }),
        {},
      ),
      language: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en or pt-BR')), 'en'),
      timezone: v.optional(v.pipe(v.string(), v.check(isTimeZone, 'must be an IANA time zone name such as UTC or Europe/Berlin')), 'UTC'),
      // A small square image (favicon) and a wider one (logo) readers show beside the feed: URLs,
      // or paths below site.url such as /icon.png.
      icon: v.optional(imageUrl),
      logo: v.optional(imageUrl),
      // Posts on each page of the archive index and of each topic's page.
      perPage: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), 20),
    }),
    {},
  ),
  // A folder, or the folder with how to read it: a blog brought from Jekyll, Hugo or Eleventy keeps
  // its files as they are and says here what they use.
  posts: v.optional(
    v.union(
      [
        v.pipe(v.string(), v.minLength(1, 'must not be empty')),
        v.strictObject({
          folder: text('posts'),
          // Files and folders that are not posts, as glob patterns relative to the posts folder.
          exclude: v.optional(v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty'))), []),
          // The front matter keys whose values are the post's topics.
          topics: v.optional(v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty'))), ['topics', 'tags', 'categories']),
          // Values of those keys that are not topics: Eleventy's collection tag, such as posts.
          ignoreTopics: v.optional(v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty'))), []),
          // Render each post's Liquid ({% include %}, {{ site.title }}) as Jekyll does.
          liquid: v.optional(v.boolean(), false),
          // Where {% include %} looks when liquid is on (Jekyll's _includes).
          includes: text('_includes'),
          // A front matter time without an offset (date: 2024-06-03 23:30) is in site.timezone, as
          // Hugo reads it; utc reads it as UTC, as Jekyll does (a date alone stays site.timezone's).
          timesWithoutOffset: v.optional(v.picklist(['site', 'utc'], "must be site or utc"), 'site'),
        }),
      ],
      'must be a folder name, or settings such as { folder: _posts, exclude: [drafts/**] }',
    ),
    'posts',
  ),
  // Folders copied into output as they are (images, CSS). A folder name is published under that
  // name (Jekyll's assets/ at /assets/); { folder, path } puts it elsewhere (Hugo's static/ at /).
  static: v.optional(
    v.pipe(
      v.union([staticEntry, v.array(staticEntry)], 'must be a folder, { folder: static, path: / }, or a list of them'),
      v.transform((value) => (Array.isArray(value) ? value : [value])),
    ),
    [{ folder: 'static', path: '/' }],
  ),
  subscribers: text('subscribers'),
  templates: text('templates'),
  output: text('public'),
  state: text('.herald'),
  outbox: text('outbox'),
  database: v.optional(
    v.strictObject({
      file: v.optional(v.pipe(v.string(), v.minLength(1, 'must be the path of the database file'))),
      // A PostgreSQL server several machines share, in place of the embedded file.
      url: v.optional(v.pipe(v.string(), v.check(isPostgresUrl, 'must be a PostgreSQL URL such as postgres://herald:password@db.example.com:5432/herald'))),
    }),
    {},
  ),
  pages: v.optional(v.boolean(), true),
  feed: v.optional(
    v.strictObject({
      limit: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), 20),
      // Where each feed is written, below output (and each topic's folder): a migrated blog keeps
      // the URL its readers follow, such as feed.xml (jekyll-feed) or index.xml (Hugo).
      paths: v.optional(
        v.strictObject({ rss: feedPath('rss.xml'), atom: feedPath('atom.xml'), json: feedPath('feed.json') }),
        {},
      ),
      // A post's default entry id: its URL (Hugo, Eleventy, herald), or jekyll-feed's post.id, the
      // URL without .html or the trailing slash, ending in the slug.
      ids: v.optional(v.picklist(['url', 'jekyll'], 'must be url or jekyll'), 'url'),
      // WebSub hubs: every feed names them, and herald tells each one when a feed changed.
      hubs: v.optional(v.array(v.pipe(v.string(), v.check((value) => /^https?:\/\//i.test(value) && URL.canParse(value), 'must be an http(s) URL such as https://pubsubhubbub.appspot.com/'))), []),
    }),
    {},
  ),
  email: v.optional(
    v.strictObject({
      from: v.optional(v.pipe(v.string(), v.check(isMailbox, 'must be an address such as "My newsletter <news@example.com>"'))),
      replyTo: v.optional(v.pipe(v.string(), v.check(isMailbox, 'must be an address such as reply@example.com'))),
      mode: v.optional(v.picklist(['each', 'digest'], 'must be each (one email per post) or digest (one email per pass)'), 'each'),
      // The sender's postal address, shown in every email's footer: CAN-SPAM asks it of
      // commercial mail, and readers and providers trust a sender they can place.
      address: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(300, 'must be at most 300 characters'))),
      // The envelope sender (VERP): bounces come back to bounces+<message token>@domain, which
      // herald inbound reads. The token takes 33 of a local part's 64 characters.
      bounces: v.optional(
        v.pipe(
          v.string(),
          v.check((value) => /^[^@\s+]+@[^@\s]+\.[^@\s]+$/.test(value), 'must be a bare address without a + such as bounces@example.com'),
          v.check((value) => value.split('@')[0]!.length + 1 + RETURN_TOKEN_LENGTH <= 64, `must have a local part of at most ${63 - RETURN_TOKEN_LENGTH} characters (the token is added to it, and a local part is at most 64)`),
        ),
      ),
    }),
    {},
  ),
  // What herald does with bounces and complaints that come back (herald inbound, the webhooks).
  bounces: v.optional(
    v.strictObject({
      // Soft bounces (a full mailbox) in a row that make a subscriber bounced.
      softLimit: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), 3),
      // A send stops itself, the rest staying due, when this share of its first 100 or more
      // messages bounced: a list that bad costs the sender's reputation (SES pauses at ~10%).
      stopPercent: v.optional(v.pipe(v.number(), v.minValue(0.1, 'must be a percentage above 0'), v.maxValue(100, 'must be a percentage, at most 100')), 10),
    }),
    {},
  ),
  smtp: v.optional(
    v.strictObject({
      url: v.optional(v.pipe(v.string(), v.check(isMailUrl, 'must be an SMTP URL such as smtps://user:password@smtp.example.com:465, or postmark://SERVER_TOKEN@api.postmarkapp.com, or ses://REGION'))),
      // The name herald gives in EHLO. Relays and spam filters frown on an IP literal there.
      name: v.optional(v.pipe(v.string(), v.regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i, 'must be a host name such as mail.example.com'))),
      maxConnections: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), 5),
      rateLimit: v.optional(v.pipe(v.number(), v.minValue(0.01, 'must be more than 0 (messages per second)'))),
      // The provider's caps (Google Workspace: 2,000 a day; a new SES account: 200): past one, a
      // pass stops cleanly and the next goes on. A minute's cap is kept by waiting instead.
      limits: v.optional(
        v.strictObject({
          perMinute: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'))),
          perHour: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'))),
          perDay: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'))),
        }),
        {},
      ),
      // A new domain's warm-up: at most this many messages on the first day of sending, the
      // second, and so on; after the list ends only smtp.limits apply.
      warmup: v.optional(v.array(v.pipe(v.number(), v.integer('must list whole numbers'), v.minValue(1, 'must list numbers of at least 1')), 'must be a list of messages per day, such as [50, 100, 200, 400]'), []),
      dkim: v.optional(
        v.strictObject({
          domain: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
          selector: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
          privateKey: v.pipe(v.string(), v.minLength(1, 'must be the path of a PEM private key file')),
        }),
      ),
    }),
    {},
  ),
  // herald start's web side.
  web: v.optional(
    v.strictObject({
      // Where herald start answers subscribe, confirm and unsubscribe, when that is not site.url:
      // a site on a static host (which answers a POST with 404) and a herald start elsewhere.
      url: v.optional(
        v.pipe(
          v.string(),
          v.check((value) => /^https?:\/\/[^/]+/i.test(value) && URL.canParse(value), 'must be an absolute http(s) URL where herald start answers, like https://news.example.com/'),
        ),
      ),
      // Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For is believed, so rate
      // limits apply to the client and not to the proxy. Empty (the default): the header is
      // ignored, as anyone can send it. One entry may be written without the list.
      trustProxy: v.optional(
        v.pipe(
          v.union([v.string(), v.array(v.unknown())], 'must be an IP address, a CIDR range, or a list of them'),
          v.transform((value) => (Array.isArray(value) ? value : [value])),
          v.check(
            (list) => list.every((entry) => typeof entry === 'string' && isAddressOrRange(entry)),
            (issue) => `must list IP addresses or CIDR ranges such as 10.0.0.1 or 10.0.0.0/8; ${JSON.stringify((issue.input as unknown[]).find((entry) => typeof entry !== 'string' || !isAddressOrRange(entry)))} is neither`,
          ),
          v.transform((list) => list as string[]),
        ),
        [],
      ),
      // Open connections at once; more wait in the kernel's backlog, then are refused.
      maxConnections: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), 1000),
      // The SNS topics whose SES events POST /webhooks/ses takes (their ARNs). Unset: any topic's,
      // as each event must still name a message herald sent; set, a subscription or event from
      // any other topic is refused.
      sesTopics: v.optional(
        v.pipe(
          v.union([v.string(), v.array(v.string())], 'must be an SNS topic ARN or a list of them'),
          v.transform((value) => (Array.isArray(value) ? value : [value])),
          v.check((list) => list.every((arn) => /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(arn)), 'must list SNS topic ARNs such as arn:aws:sns:eu-west-1:123456789012:ses-events'),
        ),
        [],
      ),
      // Subscribe requests one client may make a minute (one-click unsubscribes are never limited).
      subscribeLimit: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')), 20),
    }),
    {},
  ),
  // Checked by herald start and herald check (node-cron is too heavy to load for every command).
  schedule: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty')), '*/10 * * * *'),
  // Where a post lives. A path ending in / is a folder (…/index.html), one ending in .html is that
  // file, and any other is written as name.html (served at the name, as GitHub Pages and Netlify do).
  // Jekyll's and Hugo's :slug, :title, :year, :month, :day and :categories work too.
  permalink: v.optional(
    v.pipe(
      v.string(),
      v.check((pattern) => /\{(slug|title|hugo:title|eleventy:title)\}|:(slug|title)\b/.test(pattern), 'must contain {slug} (or {title}), for example /{slug}/ or /{year}/{slug}/'),
      v.check((pattern) => !/\{(?!(slug|title|hugo:title|eleventy:title|year|month|day|categories)\})[^}]*\}/.test(pattern), 'may only use {slug}, {title}, {hugo:title}, {eleventy:title}, {year}, {month}, {day} and {categories}'),
      v.check((pattern) => !pattern.split('/').includes('..'), 'must stay inside the site'),
    ),
    '/{slug}/',
  ),
});

type RawConfig = v.InferOutput<typeof schema>;

/** "Name <address>" or a bare address. */
export function mailboxAddress(value: string): string | undefined {
  const match = /^\s*(?:[^<>]*<\s*([^<>\s]+)\s*>|([^<>\s]+))\s*$/.exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** The domain of a mailbox's address: news@example.com is example.com. */
export function mailboxDomain(value: string): string | undefined {
  return mailboxAddress(value)?.split('@').pop();
}

function isMailbox(value: string): boolean {
  const address = mailboxAddress(value);
  return address !== undefined && /^[^@\s]+@[^@\s]+$/.test(address);
}

function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\/[^/]/i.test(value) && URL.canParse(value);
}

function isMailUrl(value: string): boolean {
  return /^(smtps?|postmark|ses):\/\/[^/]/i.test(value) && URL.canParse(value);
}

/** An IPv4 or IPv6 address, or one with a /prefix (a CIDR range) that fits its family. */
export function isAddressOrRange(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function isTimeZone(zone: string): boolean {
  // Asking Intl loads ICU's zone data (~15 ms): not worth it for the default.
  if (zone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export interface Config {
  /** The file the config came from, or undefined for the embedded defaults. */
  readonly file: string | undefined;
  readonly site: Readonly<Omit<RawConfig['site'], 'author'>> & { readonly author: Readonly<RawConfig['site']['author']> };
  /** site.url was not set: it is DEFAULT_SITE_URL, which herald start replaces with where it listens. */
  readonly siteUrlIsDefault: boolean;
  readonly feed: Readonly<{ limit: number; paths: Readonly<{ rss: string; atom: string; json: string }>; ids: 'url' | 'jekyll'; hubs: readonly string[] }>;
  /** How the posts folder is read (exclude patterns, topic keys, Liquid). */
  readonly posts: Readonly<{ exclude: readonly string[]; topicKeys: readonly string[]; ignoredTopics: ReadonlySet<string>; liquid: boolean; timesWithoutOffset: 'site' | 'utc' }>;
  readonly permalink: string;
  /** Write the archive (index.html and a page per post) next to the feeds. */
  readonly pages: boolean;
  /** When `herald start` runs a pass: a cron expression, in site.timezone. */
  readonly schedule: string;
  /** `bounces`: the VERP envelope sender's base address, if herald reads bounces itself. */
  readonly email: Readonly<{ from: string; replyTo?: string; mode: 'each' | 'digest'; address?: string; bounces?: string }>;
  /** `url` unset means the outbox: messages are written as .eml files, nothing is sent. */
  readonly smtp: Readonly<{
    url?: string;
    name: string;
    maxConnections: number;
    rateLimit?: number;
    limits: Readonly<{ perMinute?: number; perHour?: number; perDay?: number }>;
    /** Messages a day on the first days of sending. */
    warmup: readonly number[];
    dkim?: Readonly<{ domain: string; selector: string; privateKeyFile: string }>;
  }>;
  /** Soft bounces in a row that make a subscriber bounced; the bounce rate at which a send stops itself. */
  readonly bounces: Readonly<{ softLimit: number; stopPercent: number }>;
  /**
   * Subscribers, the delivery log, the newsletter's state: the embedded SQLite `file`, or with
   * `url` (database.url or HERALD_DATABASE_URL) a PostgreSQL server several herald processes share.
   */
  readonly database: Readonly<{ file: string; url?: string }>;
  /**
   * herald start's web side: `url`, where it answers subscribe, confirm and unsubscribe (site.url
   * unless web.url says otherwise; always ends in /); trusted reverse proxies (addresses or CIDR
   * ranges), the connection cap, and subscribes a client may make a minute.
   */
  readonly web: Readonly<{ url: string; trustProxy: readonly string[]; maxConnections: number; subscribeLimit: number; sesTopics: readonly string[] }>;
  /** Absolute paths; static folders with where below output they go ('' for output itself, else ending in /). */
  readonly paths: Readonly<{ posts: string; subscribers: string; templates: string; output: string; state: string; outbox: string; includes: string; static: readonly Readonly<{ folder: string; path: string }>[] }>;
}

/** Where the config comes from: --config, else HERALD_CONFIG, else ./herald.config.yml if it exists. */
export function locateConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const chosen = explicit ?? env.HERALD_CONFIG;
  if (chosen) return resolve(cwd, chosen);
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : undefined;
}

/** What a command puts in place of the embedded defaults; what the config sets still wins. */
export interface ConfigDefaults {
  /** site.url where the config sets none: herald start's own address (see siteUrlIsDefault). */
  siteUrl?: string;
}

export function loadConfig(file: string | undefined, cwd: string, env: NodeJS.ProcessEnv = {}, defaults: ConfigDefaults = {}): Config {
  if (file === undefined) return parseConfig({}, undefined, cwd, env, defaults);
  const shown = relative(cwd, file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HeraldError({
      code: 'E_CONFIG_MISSING',
      file: shown,
      message: `cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      hint: 'check the path given with --config or HERALD_CONFIG',
    });
  }
  let raw: unknown;
  try {
    // JSON is a subset of YAML, so one parser reads both. No timestamps: dates stay strings.
    raw = yaml.load(text.replace(/^\uFEFF/, ''), { schema: yaml.CORE_SCHEMA, filename: shown }) ?? {};
  } catch (error) {
    const mark = (error as yaml.YAMLException).mark;
    throw new HeraldError({
      code: 'E_CONFIG_YAML',
      file: shown,
      line: mark ? mark.line + 1 : undefined,
      message: `not valid YAML: ${(error as yaml.YAMLException).reason ?? (error as Error).message}`,
      hint: 'fix the syntax at that line; JSON is accepted too',
    });
  }
  return parseConfig(raw, file, cwd, env, defaults);
}

/**
 * A key with nothing after it (`smtp:` whose lines below are all commented out) is YAML's null:
 * read as not set, as a writer who commented the lines out means, not as a wrong type.
 */
function withoutEmptyKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, inner]) => (inner === null ? [] : [[key, withoutEmptyKeys(inner)]])));
}

export function parseConfig(raw: unknown, file: string | undefined, cwd: string, env: NodeJS.ProcessEnv = {}, defaults: ConfigDefaults = {}): Config {
  const shown = file ? relative(cwd, file) || file : '(embedded defaults)';
  const given = withoutEmptyKeys(raw);
  const siteUrlIsDefault = (given as { site?: { url?: unknown } } | undefined)?.site?.url === undefined;
  // Given before validation, so every URL made from site.url below (web.url, email.from, icon, logo) follows it.
  const result = v.safeParse(schema, siteUrlIsDefault && defaults.siteUrl ? withSiteUrl(given, defaults.siteUrl) : given);
  if (!result.success) {
    const text = file ? readFileSync(file, 'utf8') : '';
    const [first, ...more] = result.issues.map((issue): Problem => {
      const key = v.getDotPath(issue) ?? '';
      const path = key ? key.split('.') : [];
      const line = file ? lineOfKey(text, path) : undefined;
      if (issue.type === 'strict_object' && issue.expected === 'never') {
        const parent = path.slice(0, -1);
        return {
          code: 'E_CONFIG',
          file: shown,
          line,
          field: key,
          message: `unknown key "${key}"`,
          hint: `allowed ${parent.length ? `under "${parent.join('.')}"` : 'at the top level'}: ${allowedKeys(parent).join(', ')}`,
        };
      }
      return {
        code: 'E_CONFIG',
        file: shown,
        line,
        field: key || undefined,
        message: `"${key || '(top level)'}" ${issue.message.startsWith('Invalid') ? `must be ${article(issue.expected ?? 'value')}, not ${issue.received}` : issue.message}`,
        hint: 'see the config keys in the README',
      };
    });
    throw new HeraldError(first!, ...more);
  }
  const value = result.output;
  const base = file ? dirname(file) : cwd;
  const from = value.email.from ?? `${value.site.title.replace(/["<>]/g, '')} <newsletter@${new URL(value.site.url).hostname}>`;
  const posts = typeof value.posts === 'string' ? { folder: value.posts, exclude: [], topics: ['topics', 'tags', 'categories'], ignoreTopics: [], liquid: false, includes: '_includes', timesWithoutOffset: 'site' as const } : value.posts;
  const paths = {
    posts: resolve(base, posts.folder),
    subscribers: resolve(base, value.subscribers),
    templates: resolve(base, value.templates),
    output: resolve(base, value.output),
    state: resolve(base, value.state),
    outbox: resolve(base, value.outbox),
    includes: resolve(base, posts.includes),
    static: value.static.map((entry) =>
      typeof entry === 'string' ? { folder: resolve(base, entry), path: `${basename(resolve(base, entry))}/` } : { folder: resolve(base, entry.folder), path: entry.path.replace(/^\/*/, '').replace(/\/*$/, '/').replace(/^\/$/, '') },
    ),
  };
  const dkimKey = value.smtp.dkim && resolve(base, value.smtp.dkim.privateKey);
  const database = resolve(base, value.database.file ?? join(value.state, 'herald.db'));
  const problems = [...outputProblems(value.output, paths, { config: file, dkimKey, database }, cwd), ...staticProblems(paths, file, cwd), ...envProblems(env)];
  if (problems.length) throw new HeraldError(problems[0]!, ...problems.slice(1));
  const site = value.site;
  return deepFreeze({
    file,
    site: {
      ...site,
      title: dropXmlForbidden(site.title),
      description: dropXmlForbidden(site.description),
      author: { ...site.author, name: dropXmlForbidden(site.author.name) },
      url: withSlash(site.url),
      // Paths are made absolute here, once: feeds and pages need full URLs.
      icon: site.icon && new URL(site.icon, withSlash(site.url)).href,
      logo: site.logo && new URL(site.logo, withSlash(site.url)).href,
    },
    /** True when site.url is herald's own default: herald start then links to where it really listens. */
    siteUrlIsDefault,
    feed: value.feed,
    posts: { exclude: posts.exclude, topicKeys: posts.topics, ignoredTopics: new Set(posts.ignoreTopics.map(topicSlug)), liquid: posts.liquid, timesWithoutOffset: posts.timesWithoutOffset },
    permalink: value.permalink,
    pages: value.pages,
    schedule: value.schedule,
    email: { ...value.email, from },
    smtp: {
      url: env.HERALD_SMTP_URL || value.smtp.url,
      // Default: the domain herald sends from, the name the relay sees in MAIL FROM too.
      name: value.smtp.name ?? mailboxDomain(from)!,
      maxConnections: value.smtp.maxConnections,
      rateLimit: value.smtp.rateLimit,
      limits: value.smtp.limits,
      warmup: value.smtp.warmup,
      dkim: value.smtp.dkim && { domain: value.smtp.dkim.domain, selector: value.smtp.dkim.selector, privateKeyFile: resolve(base, value.smtp.dkim.privateKey) },
    },
    bounces: value.bounces,
    database: { file: database, ...((env.HERALD_DATABASE_URL || value.database.url) ? { url: env.HERALD_DATABASE_URL || value.database.url } : {}) },
    web: { ...value.web, url: withSlash(value.web.url ?? site.url) },
    paths,
  });
}

// A site that is not a mapping is left as it is, for the schema to report.
function withSiteUrl(given: unknown, url: string): unknown {
  const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isMapping(given)) return given;
  const site = given.site ?? {};
  return isMapping(site) ? { ...given, site: { ...site, url } } : given;
}

// A trailing slash makes every path resolve below the URL's own path, not beside it.
const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

const PRIVATE_FOLDERS = ['posts', 'subscribers', 'templates', 'state', 'outbox'] as const;

/**
 * Everything in `output` is served to anyone by herald start (and uploaded by whoever deploys the
 * folder), so it must share nothing with the folders that hold subscribers' addresses, the
 * unsubscribe secret, drafts or the config (which may hold the SMTP password). `output: .` is
 * the mistake this catches most.
 */
function outputProblems(written: string, paths: Config['paths'], files: { config?: string; dkimKey?: string; database: string }, cwd: string): Problem[] {
  const file = files.config;
  const shownPath = (path: string) => relative(cwd, path) || '.';
  // Compared as they are on disk: an output that is a symlink to the state folder is the state folder.
  const real = (path: string) => realPath(path);
  const output = real(paths.output);
  const overlaps = new Map<'is' | 'is inside' | 'contains', string[]>();
  const add = (relation: 'is' | 'is inside' | 'contains', what: string) => overlaps.set(relation, [...(overlaps.get(relation) ?? []), what]);
  const keys: string[] = [];
  const reported: string[] = [];
  for (const key of PRIVATE_FOLDERS) {
    const folder = real(paths[key]);
    const what = `the ${key} folder (${shownPath(paths[key])})`;
    if (folder === output) add('is', what);
    else if (within(folder, output)) add('is inside', what);
    else if (within(output, folder)) add('contains', what);
    else continue;
    keys.push(key);
    reported.push(folder);
  }
  if (file && within(output, real(file))) add('contains', `the config file (${shownPath(file)})`);
  if (files.dkimKey && within(output, real(files.dkimKey))) add('contains', `the DKIM private key (${shownPath(files.dkimKey)})`);
  const database = real(files.database);
  if (within(output, database) && !reported.some((folder) => within(folder, database))) {
    add('contains', `the database (${shownPath(files.database)})`);
    keys.push('database');
  }
  if (!overlaps.size) return [];
  // The output key's line; when output is the default, the line of the key it collides with.
  const text = file ? readText(file) : '';
  const line = file ? (lineOfKey(text, ['output']) ?? keys.map((key) => lineOfKey(text, [key])).find((found) => found !== undefined)) : undefined;
  return [
    {
      code: 'E_CONFIG',
      file: file ? relative(cwd, file) || file : undefined,
      line,
      field: 'output',
      message: `"output" ${JSON.stringify(written)} ${listed([...overlaps].map(([relation, whats]) => `${relation} ${listed(whats)}`))}: herald would publish what is private`,
      hint: 'write the site to its own folder, such as output: public',
    },
  ];
}

/** A static folder copied into output must not hold output, nor be inside it: it would copy itself. */
function staticProblems(paths: Config['paths'], file: string | undefined, cwd: string): Problem[] {
  const output = realPath(paths.output);
  return paths.static.flatMap(({ folder }): Problem[] => {
    const real = realPath(folder);
    if (!existsSync(folder) || (!within(real, output) && !within(output, real))) return [];
    return [
      {
        code: 'E_CONFIG',
        file: file ? relative(cwd, file) || file : undefined,
        line: file ? lineOfKey(readText(file), ['static']) : undefined,
        field: 'static',
        message: `the static folder ${relative(cwd, folder) || '.'} ${within(real, output) ? 'holds' : 'is inside'} the output folder: it would be copied into itself`,
        hint: 'keep static files in their own folder, such as static: [assets]',
      },
    ];
  });
}

// Tests and callers may parse an object with a file name only for its folder.
function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The path with every symlink on the way resolved, as far as it exists. */
function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPath(parent), basename(path));
  }
}

function within(parent: string, child: string): boolean {
  const below = relative(parent, child);
  return below === '' || (below !== '..' && !below.startsWith(`..${sep}`) && !isAbsolute(below));
}

function listed(parts: string[]): string {
  return parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

// The environment overrides the file, so it is checked as strictly: a bad HERALD_SMTP_URL would
// otherwise surface as a TypeError from deep inside the first send.
function envProblems(env: NodeJS.ProcessEnv): Problem[] {
  const database = env.HERALD_DATABASE_URL;
  if (database && !isPostgresUrl(database)) {
    return [{ code: 'E_CONFIG', field: 'HERALD_DATABASE_URL', message: 'the environment variable HERALD_DATABASE_URL is not a PostgreSQL URL', hint: 'set it to a URL such as postgres://herald:password@db.example.com:5432/herald (it overrides database.url), or unset it' }];
  }
  const url = env.HERALD_SMTP_URL;
  if (!url || isMailUrl(url)) return [];
  return [
    {
      code: 'E_CONFIG',
      field: 'HERALD_SMTP_URL',
      // Not the value itself: it may hold the SMTP password.
      message: 'the environment variable HERALD_SMTP_URL is not an SMTP URL',
      hint: 'set it to an SMTP URL such as smtps://user:password@smtp.example.com:465, a postmark:// or an ses:// URL (it overrides smtp.url), or unset it',
    },
  ];
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

type AnySchema = v.GenericSchema & { entries?: Record<string, AnySchema>; wrapped?: AnySchema };

function allowedKeys(path: string[]): string[] {
  let shape: AnySchema | undefined = schema as AnySchema;
  for (const key of path) shape = unwrap(shape)?.entries?.[key];
  return Object.keys(unwrap(shape)?.entries ?? {});
}

function unwrap(type: AnySchema | undefined): AnySchema | undefined {
  return type?.wrapped ? unwrap(type.wrapped) : type;
}

// Best effort: the line of a nested key in a YAML file, found by following indentation.
function lineOfKey(text: string, path: string[]): number | undefined {
  const lines = text.split(/\r?\n/);
  let from = 0;
  let indent = -1;
  let found: number | undefined;
  for (const key of path) {
    found = undefined;
    for (let i = from; i < lines.length; i++) {
      const match = /^(\s*)["']?([^"':#]+?)["']?\s*:/.exec(lines[i]!);
      if (!match) continue;
      const depth = match[1]!.length;
      if (depth <= indent) break;
      if (match[2] === key) {
        found = i;
        from = i + 1;
        indent = depth;
        break;
      }
    }
    if (found === undefined) return undefined;
  }
  return found === undefined ? undefined : found + 1;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
