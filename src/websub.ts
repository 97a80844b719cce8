// WebSub (W3C): after a build changed a feed, each hub in feed.hubs is told so (hub.mode=publish),
// and fetches the feed and pushes it to the readers subscribed there, instead of their polling it.
//
// The notices a build owes are kept in the state folder until a hub took each one: a hub that was
// down, or a herald that stopped between writing a feed and telling the hubs, still hears of the
// change on the next build, even one that changes nothing. A notice sent twice costs the hub one
// fetch of an unchanged feed; one never sent leaves readers waiting for their next poll.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Config } from './config.js';
import { writeFileAtomic } from './files.js';
import { eachConcurrently } from './newsletter/delivery.js';
import { HERALD_VERSION } from './version.js';

const PENDING_FILE = 'websub-pending.json';

/** One feed's notice to one hub, as this build left it. */
export interface Notification {
  hub: string;
  /** The feed's URL (hub.url). */
  feed: string;
  ok: boolean;
  /** Why the hub was not told (an HTTP status, a network error), when it was not. */
  reason?: string;
  /** Not told yet, and kept: the next build tries again. False when the hub refused it for good (a 4xx). */
  pending: boolean;
  attempts: number;
}

export interface HubPolicy {
  /** The waits before the second, third, ... try of a notice refused for a passing reason. */
  delaysMs: readonly number[];
  /** The longest Retry-After a build waits for; a hub asking more is tried on the next build. */
  maxWaitMs: number;
  /** How long one request may take. */
  timeoutMs: number;
  /** Requests in flight at once, over every hub. */
  concurrency: number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Three tries, 1 s then 4 s apart. HERALD_RETRY_BACKOFF_MS scales the waits, as it does for mail
 * (tests make them short).
 */
export function hubPolicy(env: NodeJS.ProcessEnv = {}): HubPolicy {
  const given = Number(env.HERALD_RETRY_BACKOFF_MS);
  const base = env.HERALD_RETRY_BACKOFF_MS !== undefined && Number.isFinite(given) && given >= 0 ? given : 1000;
  return { delaysMs: [base, 4 * base], maxWaitMs: 15_000, timeoutMs: 10_000, concurrency: 8, sleep: (ms) => new Promise((done) => setTimeout(done, ms)) };
}

/**
 * Call before writing the feeds: every hub is owed a notice for each of `feeds` (the self URLs of
 * the subscription feeds the build may change), recorded durably, so a build that stops half-way
 * leaves them all owed. The function returned, given the paths the build then wrote, keeps only
 * the notices for the feeds among them.
 */
export async function oweNotices(config: Config, cwd: string, feeds: readonly string[]): Promise<(written: readonly string[]) => Promise<void>> {
  const before = readPending(config);
  await writePending(config, [...before, ...noticesFor(config, feeds)]);
  return (written) => writePending(config, [...before, ...noticesFor(config, changedFeeds(config, cwd, written, feeds))]);
}

// The feeds among `written` (paths relative to cwd, as a build reports them), by URL. Archive
// documents are never among `feeds`: they only ever fill up, and readers reach them through the feed.
function changedFeeds(config: Config, cwd: string, written: readonly string[], feeds: readonly string[]): string[] {
  const subscribed = new Set(feeds);
  return written.flatMap((path) => {
    const below = relative(config.paths.output, resolve(cwd, path));
    if (below === '..' || below.startsWith(`..${sep}`) || isAbsolute(below)) return [];
    const url = new URL(below.split(sep).join('/'), config.site.url).href;
    return subscribed.has(url) ? [url] : [];
  });
}

/** Sends every notice owed to a hub in feed.hubs; keeps those that may yet go through for the next build. */
export async function notifyHubs(config: Config, policy: HubPolicy = hubPolicy()): Promise<Notification[]> {
  const hubs = new Set(config.feed.hubs);
  const owed = readPending(config);
  // A hub taken out of feed.hubs is told nothing more.
  const due = owed.filter((notice) => hubs.has(notice.hub));
  if (!due.length) {
    if (owed.length) await writePending(config, []);
    return [];
  }
  const results = new Map<Notice, Notification>();
  await eachConcurrently(due, policy.concurrency, () => false, async (notice) => {
    results.set(notice, await publish(notice, policy));
  });
  const notifications = due.map((notice) => results.get(notice)!);
  await writePending(config, notifications.filter((notification) => notification.pending));
  return notifications;
}

interface Notice {
  hub: string;
  feed: string;
}

function noticesFor(config: Config, feeds: readonly string[]): Notice[] {
  return feeds.flatMap((feed) => config.feed.hubs.map((hub) => ({ hub, feed })));
}

type Outcome = { ok: true } | { ok: false; reason: string; passing: boolean; retryAfterMs?: number };

async function publish(notice: Notice, policy: HubPolicy): Promise<Notification> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await request(notice, policy.timeoutMs);
    if (outcome.ok) return { ...notice, ok: true, pending: false, attempts: attempt };
    const failed = (reason: string, pending: boolean): Notification => ({ ...notice, ok: false, reason, pending, attempts: attempt });
    if (!outcome.passing) return failed(outcome.reason, false);
    const delay = policy.delaysMs[attempt - 1];
    if (delay === undefined) return failed(outcome.reason, true);
    const wait = Math.max(delay, outcome.retryAfterMs ?? 0);
    if (wait > policy.maxWaitMs) return failed(`${outcome.reason}, and it asked herald to wait ${Math.ceil(wait / 1000)} s`, true);
    await policy.sleep(wait);
  }
}

async function request({ hub, feed }: Notice, timeoutMs: number): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(hub, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': `herald/${HERALD_VERSION}` },
      body: new URLSearchParams({ 'hub.mode': 'publish', 'hub.url': feed }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { ok: false, reason: networkReason(error, timeoutMs), passing: true };
  }
  // Read to the end either way, so the connection is free for the next request.
  const body = await response.text().catch(() => '');
  if (response.ok) return { ok: true };
  const said = body.trim().split('\n', 1)[0]!.slice(0, 200);
  const reason = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${said ? `: ${said}` : ''}`;
  // 408 and 429 ask for a later try, as a server error may pass; any other 4xx is the hub's final word.
  const passing = response.status >= 500 || response.status === 429 || response.status === 408;
  return { ok: false, reason, passing, retryAfterMs: passing ? retryAfterMs(response.headers.get('retry-after')) : undefined };
}

function networkReason(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

// Retry-After is a number of seconds or an HTTP date.
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function pendingPath(config: Config): string {
  return join(config.paths.state, PENDING_FILE);
}

// herald writes this file whole (writeFileAtomic), so only a hand edit can break it; what cannot
// be read is dropped rather than failing a build over a hub notice.
function readPending(config: Config): Notice[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(pendingPath(config), 'utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((entry): Notice[] => {
    const { hub, feed } = (entry ?? {}) as Partial<Record<keyof Notice, unknown>>;
    return typeof hub === 'string' && typeof feed === 'string' ? [{ hub, feed }] : [];
  });
}

async function writePending(config: Config, notices: readonly Notice[]): Promise<void> {
  const unique = new Map(notices.map(({ hub, feed }) => [`${hub}\n${feed}`, { hub, feed }]));
  if (!unique.size) {
    await rm(pendingPath(config), { force: true });
    return;
  }
  await writeFileAtomic(pendingPath(config), `${JSON.stringify([...unique.values()], null, 1)}\n`, { mode: 0o600, dirMode: 0o700 });
}
