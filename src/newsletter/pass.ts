// Sending: the pass (`herald run`, every tick of `herald start`) and a post sent by hand (`herald
// send`) share this one path. It prints nothing and returns a report; the caller decides how to show it.
import { readFileSync } from 'node:fs';
import { imageSize } from 'image-size';
import { postState } from '../build.js';
import type { Config } from '../config.js';
import { publishedFile } from '../pages/paths.js';
import type { PostMeta } from '../posts/parse.js';
import { renderPost } from '../posts/render.js';
import { eachConcurrently, sendWithRetries, type RetryPolicy } from './delivery.js';
import { SendingCaps } from './caps.js';
import { baselineRecords, duePosts, PostIndex } from './due.js';
import { bareMessageId, buildMessage, messageToken } from './email/message.js';
import { CONTENT_WIDTH, readerDraft, renderEmail, sizeImages, type EmailDraft, type EmailPost } from './email/render.js';
import { loadMailTemplates, type MailTemplates } from './email/templates.js';
import type { BatchApi, Clock, Delivery, DeliveryUpdate, MailTransport, OutgoingMessage, PostRecord, SendResult, Store } from './ports.js';
import { wantsPost, type Subscriber } from './subscriber.js';
import { applyEvent } from './subscriptions.js';
import { unsubscribeUrl } from './tokens.js';

export interface NewsletterDeps {
  config: Config;
  cwd: string;
  store: Store;
  clock: Clock;
  /** Signs unsubscribe and confirmation links. */
  secret: string;
  /** Opened on first use: a pass with nothing to send opens no connection. */
  transport: () => MailTransport;
  retry: RetryPolicy;
}

export interface SendOptions {
  /** True once herald is asked to stop: messages in flight finish, the rest stay queued. */
  stopped?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** False: send only what is queued already, adding nobody (a resumed send). */
  audience?: boolean;
}

/** What one pass did for one post (in one round). */
export interface PostReport {
  slug: string;
  title: string;
  key: string;
  round: number;
  /** Accepted by the mail server in this pass. */
  sent: number;
  /** Accepted before this pass began. */
  alreadySent: number;
  bounced: number;
  /** Queued, then no longer wanted it (unsubscribed, topics changed, removed) before their turn. */
  skipped: number;
  /** Refused for a passing reason in this pass: still queued, tried again on the next. */
  failed: number;
  /** Refused for a passing reason for longer than GIVE_UP_MS: not tried again. */
  givenUp: number;
  /** Still queued after this pass. */
  remaining: number;
  /** Everyone in the round, skipped ones aside. */
  recipients: number;
  /** Nobody left queued: round 0 of a post is then sent for good. */
  finished: boolean;
}

export interface Problem {
  email: string;
  reason: string;
}

export interface SendReport {
  posts: PostReport[];
  /** The first failures and bounces, for the log; the counts are in `posts`. */
  failures: Problem[];
  bounces: Problem[];
  warnings: string[];
  /** Why the pass stopped before the end, if it did. */
  halted?: string;
  /** A sending cap was reached: the rest waits for a later pass, from `until`. */
  paused?: { until: string; cap: string };
}

export interface PassReport extends SendReport {
  /** Set by this pass, the newsletter's first: every post published by now stays out of it. */
  baseline?: { at: string; posts: number };
}

/** A message refused for a passing reason this long after it was queued is given up on. */
export const GIVE_UP_MS = 72 * 3_600_000;
/** So many refusals in a row mean the server is down, not the recipients: the pass stops. */
const FAILURES_IN_A_ROW = 50;
/** The bounce rate that stops a send (bounces.stopPercent) is judged once this many messages are answered. */
export const BOUNCE_SAMPLE = 100;
/**
 * How often the bounces that came back during the send are read again: every so many messages,
 * and no more often than every so many ms, as each read counts the send's whole record (a million
 * rows to a million readers: read every 500 messages, that grew with the square of the list).
 */
const LATE_BOUNCES_EVERY = 500;
const LATE_BOUNCES_MS = 5000;
// Recipients read from the log at a time: memory stays flat however long the list.
const PAGE = 500;
// Reports keep this many failures and bounces by name; the rest are counted.
const NAMED = 100;

interface Job {
  post: PostMeta;
  record: PostRecord;
  round: number;
}

/**
 * One pass: the first one sets the newsletter's baseline and mails nothing; every later one sends
 * each due post to everyone it is due to. `posts` is every post the build read.
 */
export async function runPass(deps: NewsletterDeps, posts: PostMeta[], options: SendOptions = {}): Promise<PassReport> {
  const { config, store, clock } = deps;
  const release = await store.lock.acquire();
  try {
    const now = clock.now();
    const published = posts.filter((post) => postState(post, now) === 'published');
    const baseline = await store.state.baseline();
    if (!baseline) {
      const at = now.toISOString();
      if (await store.state.setBaseline(at, baselineRecords(published))) return { ...emptyReport(), baseline: { at, posts: published.length } };
      return emptyReport();
    }
    const index = new PostIndex(await store.state.posts());
    for (const record of index.movedRecords(published)) await store.state.savePost(record);
    const jobs = duePosts(published, baseline, index, config).map((post): Job => ({ post, record: index.recordFor(post), round: 0 }));
    if (!jobs.length) return emptyReport();
    return await sendJobs(deps, jobs, config.email.mode, options);
  } finally {
    await release();
  }
}

/**
 * One post by hand: to everyone it is due to who has not had it (a post from before the baseline
 * too), or with `resend` to everyone again, in a new round (or the unfinished one, continued).
 */
export async function sendPost(deps: NewsletterDeps, post: PostMeta, options: SendOptions & { resend?: boolean } = {}): Promise<SendReport> {
  const { store } = deps;
  const release = await store.lock.acquire();
  try {
    const record = new PostIndex(await store.state.posts()).recordFor(post);
    const round = options.resend ? await resendRound(store, record.key) : 0;
    return await sendJobs(deps, [{ post, record, round }], 'each', options);
  } finally {
    await release();
  }
}

/**
 * The rest of one post's send, to exactly those its audit says are owed it: queued, or given up
 * after days of refusals (queued again). Nobody new is added: that is what `sendPost` does.
 */
export async function resumePost(deps: NewsletterDeps, post: PostMeta, record: PostRecord, options: SendOptions = {}): Promise<SendReport> {
  const { store, clock } = deps;
  const release = await store.lock.acquire();
  try {
    const at = clock.now().toISOString();
    for (let after: string | undefined; ; ) {
      const page = await store.deliveries.list(record.key, 0, after, PAGE);
      if (!page.length) break;
      after = page.at(-1)!.recipient;
      const givenUp = page.filter((delivery) => delivery.state === 'failed');
      // Tried again (with its retries); refused again, it is given up again.
      if (givenUp.length) await store.deliveries.record(givenUp.map((delivery) => ({ post: record.key, round: 0, recipient: delivery.recipient, state: 'queued', at, reason: 'resumed' })));
    }
    return await sendJobs(deps, [{ post, record, round: 0 }], 'each', { ...options, audience: false });
  } finally {
    await release();
  }
}

async function resendRound(store: Store, key: string): Promise<number> {
  const latest = await store.deliveries.latestRound(key);
  if (latest > 0 && (await store.deliveries.tally(key, latest)).queued > 0) return latest;
  return latest + 1;
}

/**
 * Everyone a send would reach now, without sending or recording anything: for a send, those who
 * were not sent the post; for a resend, those not yet sent it in the round it would use.
 */
export async function plannedRecipients(deps: NewsletterDeps, post: PostMeta, options: { resend?: boolean } = {}): Promise<{ recipients: string[]; alreadySent: number }> {
  const { store } = deps;
  const record = new PostIndex(await store.state.posts()).find(post);
  const round = record && options.resend ? await resendRound(store, record.key) : undefined;
  const recipients: string[] = [];
  let alreadySent = 0;
  for await (const page of audience(store, post)) {
    const had = record ? await store.deliveries.received(record.key, page.map((subscriber) => subscriber.key), round) : new Set<string>();
    for (const subscriber of page) {
      if (had.has(subscriber.key)) alreadySent++;
      else recipients.push(subscriber.email);
    }
  }
  return { recipients, alreadySent };
}

/** Active subscribers who want the post, in pages. */
async function* audience(store: Store, post: PostMeta): AsyncGenerator<Subscriber[]> {
  for (let after: string | undefined; ; ) {
    // The embedded store answers synchronously: without a turn of the event loop between pages,
    // queueing a post for a million readers would hold off the web side (and the heap watch,
    // heap.ts) for the seconds it takes.
    await new Promise((resolve) => setImmediate(resolve));
    const page = await store.subscribers.list({ status: 'active', after, limit: 2000 });
    if (!page.length) return;
    after = page.at(-1)!.key;
    yield page.filter((subscriber) => wantsPost(subscriber, post.topics));
  }
}

/**
 * Queues the post for everyone it is due to now who is not queued yet (subscribers who joined
 * while it was going out included), and never for someone who was sent it in another round.
 */
async function enqueueAudience(deps: NewsletterDeps, job: Job): Promise<void> {
  const { store, clock } = deps;
  const at = clock.now().toISOString();
  const otherRounds = (await store.deliveries.latestRound(job.record.key)) > 0;
  for await (const page of audience(store, job.post)) {
    let keys = page.map((subscriber) => subscriber.key);
    if (job.round === 0 && otherRounds) {
      const had = await store.deliveries.received(job.record.key, keys);
      keys = keys.filter((key) => !had.has(key));
    }
    if (keys.length) await store.deliveries.enqueue(job.record.key, job.round, keys, at);
  }
}

export function emptyReport(): PassReport {
  return { posts: [], failures: [], bounces: [], warnings: [] };
}

/**
 * Before anything more of a job is sent: its messages handed to a batch API whose answer never
 * came are looked up at the provider. Taken: sent, with the provider's id. Not taken: queued
 * again. The provider cannot be asked: they stay submitted, and nobody is sent them twice.
 */
async function reconcile(deps: NewsletterDeps, job: Job): Promise<string[]> {
  const { store, clock } = deps;
  const submitted = await store.deliveries.submitted(job.record.key, job.round);
  if (!submitted.length) return [];
  const batch = deps.transport().batch;
  const waiting = `${submitted.length} message${submitted.length === 1 ? '' : 's'} of ${job.post.slug} handed to a batch API without an answer`;
  if (!batch) return [`${waiting} stay unconfirmed: the mail transport has no batch API to ask now (herald audit lists them)`];
  let found: Map<string, { providerId: string } | undefined>;
  try {
    found = await batch.find(submitted.map((delivery) => delivery.providerId!));
  } catch (error) {
    return [`${waiting} stay unconfirmed, not sent again: the provider could not be asked (${(error as Error).message}); the next pass asks again`];
  }
  const at = clock.now().toISOString();
  await store.deliveries.record(
    submitted.map((delivery) => {
      const taken = found.get(delivery.providerId!);
      return { post: delivery.post, round: delivery.round, recipient: delivery.recipient, at, ...(taken ? { state: 'sent' as const, providerId: taken.providerId } : { state: 'queued' as const, reason: 'not taken by the provider: sent again' }) };
    }),
  );
  return [];
}

/**
 * Sends every queued delivery of these jobs. Each recipient gets each post once: in `digest` mode
 * the posts they are owed in one message, else one message per post, oldest first. Every outcome
 * is written to the delivery log the moment it is known.
 */
async function sendJobs(deps: NewsletterDeps, jobs: Job[], mode: 'each' | 'digest', options: SendOptions): Promise<SendReport> {
  const { config, store, clock } = deps;
  const log = store.deliveries;
  const byKey = new Map(jobs.map((job) => [job.record.key, job]));
  const stats = new Map<string, PostReport>();
  let total = 0;
  const warnings: string[] = [];
  for (const job of jobs) {
    await store.state.savePost(job.record);
    warnings.push(...(await reconcile(deps, job)));
    if (options.audience !== false) await enqueueAudience(deps, job);
    const tally = await log.tally(job.record.key, job.round);
    total += tally.queued;
    stats.set(job.record.key, {
      slug: job.post.slug,
      title: job.post.title,
      key: job.record.key,
      round: job.round,
      sent: 0,
      alreadySent: tally.sent,
      bounced: 0,
      skipped: 0,
      failed: 0,
      givenUp: 0,
      remaining: 0,
      recipients: 0,
      finished: false,
    });
  }

  // A reader still queued in round 0 who was meanwhile sent the post by a resend has had it.
  const resent = new Set<string>();
  for (const job of jobs) if (job.round === 0 && (await log.latestRound(job.record.key)) > 0) resent.add(job.record.key);

  const report: SendReport = { posts: [...stats.values()], failures: [], bounces: [], warnings };
  if (total) {
    const caps = await SendingCaps.read(config, log, clock.now());
    const sender = new Sender(deps, byKey, stats, report, total, options, caps);
    // Pages are read as the workers need them, so the next page is ready before this one ends.
    async function* messages(): AsyncGenerator<Message> {
      for (let after: string | undefined; !sender.halted(); ) {
        const page = await log.queued(jobs.map((job) => ({ post: job.record.key, round: job.round })), after, PAGE);
        if (!page.length) return;
        after = page.at(-1)!.recipient;
        const readAt = Date.now();
        const hadIt = new Map<string, Set<string>>();
        for (const post of resent) hadIt.set(post, await log.received(post, page.map((entry) => entry.recipient)));
        for (const { recipient, subscriber, deliveries } of page) {
          const wanted = await sender.dropUnwanted(recipient, subscriber, deliveries, hadIt);
          if (!subscriber || !wanted.length) continue;
          const oldestFirst = wanted.sort((a, b) => byKey.get(a.post)!.post.date - byKey.get(b.post)!.post.date);
          if (mode === 'digest') yield { subscriber, deliveries: oldestFirst, readAt };
          else for (const delivery of oldestFirst) yield { subscriber, deliveries: [delivery], readAt };
        }
      }
    }
    const batch = sender.batchApi();
    let failed = false;
    try {
      if (batch) await eachConcurrently(batches(messages(), batch.size), config.smtp.maxConnections, () => sender.halted(), (group) => sender.sendBatch(batch, group));
      else await eachConcurrently(messages(), config.smtp.maxConnections * 4, () => sender.halted(), (message) => sender.send(message));
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // Every outcome on its way is recorded before the send ends; the send's own error, if it
      // failed, is the one reported.
      await sender.recorded().catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
    report.halted = sender.haltReason();
    report.paused = sender.pausedBy();
  }

  const at = clock.now().toISOString();
  for (const job of jobs) {
    const tally = await log.tally(job.record.key, job.round);
    const stat = stats.get(job.record.key)!;
    stat.remaining = tally.queued;
    stat.recipients = tally.queued + tally.submitted + tally.sent + tally.bounced + tally.failed;
    stat.finished = tally.queued === 0;
    if (stat.finished && job.round === 0 && !job.record.sentAt) {
      job.record.sentAt = at;
      job.record.recipients = tally.sent;
      await store.state.savePost(job.record);
    }
  }
  return report;
}

/** A message made for one recipient, with the deliveries it carries. */
interface Prepared {
  subscriber: Subscriber;
  deliveries: Delivery[];
  message: OutgoingMessage;
}

interface Message {
  subscriber: Subscriber;
  deliveries: Delivery[];
  /** When the subscriber was read: read again at their turn if that was long ago. */
  readAt: number;
}

/** A subscriber read longer ago than this is read again before their message goes out. */
const FRESH_MS = 1000;
/**
 * Messages out of the delivery log at once, at most: being sent, or sent with their outcome on
 * its way to the log (see Sender.send). A message sent but not yet recorded is sent again after a
 * crash, so this bounds who can get a post twice; a log that commits every few ms keeps far fewer
 * than this waiting.
 */
const UNRECORDED = 32;

/** The state of one sendJobs call: rendered drafts, counts, and whether to stop. */
class Sender {
  private readonly templates: MailTemplates;
  private readonly emailPosts = new Map<string, EmailPost>();
  private readonly drafts = new Map<string, EmailDraft>();
  private readonly transport: MailTransport;
  private done = 0;
  private failuresInARow = 0;
  private stopReason: string | undefined;
  private paused: { until: string; cap: string } | undefined;
  /** Bounces of this send's posts that came back after acceptance (webhooks, herald inbound), as last read. */
  private lateBounces = 0;
  private answered = 0;
  /** When (answered, performance.now()) the late bounces were last read. */
  private lateRead = { answered: 0, ms: -Infinity };
  /** Outcomes being recorded, and the first that could not be. */
  private readonly recording = new Set<Promise<void>>();
  private recordFailure: { error: unknown } | undefined;
  /** Messages started and not yet recorded (UNRECORDED), and the senders waiting for one of them to be. */
  private unrecorded = 0;
  private readonly waitingForRoom: (() => void)[] = [];
  /** When this send began, by the command's clock; and the real time spent waiting out a minute's cap since. */
  private readonly capsStart: number;
  private waitedMs = 0;

  constructor(
    private readonly deps: NewsletterDeps,
    private readonly jobs: Map<string, Job>,
    private readonly stats: Map<string, PostReport>,
    private readonly report: SendReport,
    private readonly total: number,
    private readonly options: SendOptions,
    private readonly caps: SendingCaps | undefined,
  ) {
    this.templates = loadMailTemplates(deps.config, deps.cwd, 'email');
    this.transport = deps.transport();
    this.capsStart = deps.clock.now().getTime();
  }

  /**
   * The caps' clock: the one the delivery log's times come from, so a pause says the moment the
   * log will bear out; a --now clock, which stands still, moves on by the caps' own waits.
   */
  private capsNow(): Date {
    return new Date(Math.max(this.deps.clock.now().getTime(), this.capsStart + this.waitedMs));
  }

  batchApi(): BatchApi | undefined {
    return this.transport.batch;
  }

  halted(): boolean {
    if (!this.stopReason && this.options.stopped?.()) this.stopReason = 'herald was asked to stop; the rest stays queued for the next pass';
    return this.stopReason !== undefined || this.paused !== undefined || this.recordFailure !== undefined;
  }

  /** Once every outcome sent on its way is in the delivery log; one that could not be recorded is thrown. */
  async recorded(): Promise<void> {
    await Promise.all(this.recording);
    if (this.recordFailure) throw this.recordFailure.error;
  }

  haltReason(): string | undefined {
    return this.stopReason;
  }

  pausedBy(): { until: string; cap: string } | undefined {
    return this.paused;
  }

  /** Waits out a minute's cap; false when an hour's or a day's cap is reached (the pass pauses) or herald stops. */
  private async mayGo(): Promise<boolean> {
    if (!this.caps) return true;
    for (;;) {
      if (this.halted()) return false;
      const verdict = this.caps.take(this.capsNow());
      if (verdict.go) return true;
      if ('until' in verdict) {
        this.paused ??= { until: verdict.until.toISOString(), cap: verdict.cap };
        return false;
      }
      const slept = performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.min(verdict.waitMs, 1000)));
      this.waitedMs += performance.now() - slept;
    }
  }

  /**
   * Stops the send, the rest staying queued, when too many of its messages bounce, at once or
   * later (a list that bad burns the sender's reputation: SES pauses an account at about 10%).
   */
  private async watchBounces(): Promise<void> {
    const { store, config } = this.deps;
    if (++this.answered - this.lateRead.answered >= LATE_BOUNCES_EVERY && performance.now() - this.lateRead.ms >= LATE_BOUNCES_MS) {
      this.lateRead = { answered: this.answered, ms: performance.now() };
      let late = 0;
      for (const job of this.jobs.values()) late += (await store.deliveries.returnedTally(job.record.key, job.round)).bounced;
      this.lateBounces = late;
    }
    let answered = 0;
    let bounced = this.lateBounces;
    for (const stat of this.stats.values()) {
      answered += stat.alreadySent + stat.sent + stat.bounced;
      bounced += stat.bounced;
    }
    const percent = (bounced / answered) * 100;
    if (answered >= BOUNCE_SAMPLE && percent > config.bounces.stopPercent && !this.stopReason) {
      this.stopReason = `${bounced} of ${answered} messages bounced (${percent.toFixed(1)}%, over bounces.stopPercent: ${config.bounces.stopPercent}%): the list needs cleaning before more is sent; the rest stays queued`;
    }
  }

  /**
   * Deliveries the recipient no longer wants, or has had by another round (`hadIt`: post ->
   * recipients), are marked skipped; the rest are returned.
   */
  async dropUnwanted(recipient: string, subscriber: Subscriber | undefined, deliveries: Delivery[], hadIt: Map<string, Set<string>>): Promise<Delivery[]> {
    const at = this.deps.clock.now().toISOString();
    const skip: DeliveryUpdate[] = [];
    const wanted = deliveries.filter((delivery) => {
      const had = delivery.round === 0 && hadIt.get(delivery.post)?.has(recipient);
      if (!had && subscriber && wantsPost(subscriber, this.jobs.get(delivery.post)!.post.topics)) return true;
      const reason = had ? 'sent it by a resend' : !subscriber ? 'removed from the list' : subscriber.status !== 'active' ? subscriber.status : 'no longer follows its topics';
      skip.push({ post: delivery.post, round: delivery.round, recipient, state: 'skipped', at, reason });
      this.stats.get(delivery.post)!.skipped++;
      return false;
    });
    if (skip.length) await this.deps.store.deliveries.record(skip);
    return wanted;
  }

  /**
   * One message through the transport: prepared, tried (with retries), and its outcome recorded.
   * The store commits the outcomes that come in within a few ms together; the next message goes
   * out meanwhile, or the connections would wait on the commits. It is counted sent once
   * recorded, as before; the send ends (`recorded`) once every outcome is.
   */
  async send(queued: Message): Promise<void> {
    while (this.unrecorded >= UNRECORDED) await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
    // Stopped while it waited: the message stays due, as those not yet taken.
    if (this.halted()) return;
    this.unrecorded++;
    let settling: Promise<void> | undefined;
    try {
      const prepared = await this.prepare(queued);
      if (!prepared) return;
      const result = await sendWithRetries(this.transport, prepared.message, this.deps.retry, this.options.stopped);
      settling = this.settle(prepared, result)
        .catch((error: unknown) => void (this.recordFailure ??= { error }))
        .finally(() => {
          this.recording.delete(settling!);
          this.recordedOne();
        });
      this.recording.add(settling);
    } finally {
      if (!settling) this.recordedOne();
    }
  }

  /** One message less out of the log: the first sender waiting for room goes on. */
  private recordedOne(): void {
    this.unrecorded--;
    this.waitingForRoom.shift()?.();
  }

  /**
   * Messages through the provider's batch API. They are recorded `submitted` before the call, so
   * a call whose answer never comes (a timeout) leaves a record the next pass reconciles before
   * sending to them again; each message's own result in the answer is recorded as it says.
   */
  async sendBatch(batch: BatchApi, queued: Message[]): Promise<void> {
    const prepared: Prepared[] = [];
    for (const message of queued) {
      const ready = await this.prepare(message);
      if (ready) prepared.push(ready);
    }
    if (!prepared.length) return;
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.deliveries.record(prepared.flatMap(({ message, deliveries, subscriber }) => deliveries.map((delivery) => ({ post: delivery.post, round: delivery.round, recipient: subscriber.key, state: 'submitted' as const, at, providerId: bareMessageId(message.messageId), token: messageToken(message.messageId) }))));
    let results: SendResult[];
    try {
      results = await batch.send(prepared.map(({ message }) => message));
    } catch (error) {
      this.stopReason ??= `the provider did not answer a batch of ${prepared.length} messages (${(error as Error).message}): they are recorded as submitted, and the next pass asks the provider about them before sending them again`;
      return;
    }
    for (const [index, ready] of prepared.entries()) await this.settle(ready, results[index] ?? { ok: false, permanent: false, reason: 'the provider\'s answer has no result for this message' });
  }

  /** The message for a queued recipient, read again if the page is stale; undefined when it no longer goes out. */
  private async prepare(queued: Message): Promise<Prepared | undefined> {
    const { config, clock, store, secret } = this.deps;
    // Read again at its turn if the page is not fresh: an unsubscribe made while the send runs (a
    // rate-limited send takes hours) is honoured before the message goes out.
    let { subscriber, deliveries }: { subscriber: Subscriber | undefined; deliveries: Delivery[] } = queued;
    if (Date.now() - queued.readAt > FRESH_MS) {
      subscriber = await store.subscribers.get(queued.subscriber.key);
      deliveries = await this.dropUnwanted(queued.subscriber.key, subscriber, queued.deliveries, new Map());
    }
    if (!subscriber || !deliveries.length) return undefined;
    if (!(await this.mayGo())) return undefined;
    const seed = `${deliveries[0]!.round}:${deliveries.map((delivery) => delivery.post).join(',')}`;
    const recipient = { name: subscriber.name, email: subscriber.email, unsubscribeUrl: unsubscribeUrl(config, subscriber.key, secret) };
    const draft = await readerDraft(await this.draftFor(deliveries.map((delivery) => delivery.post)), recipient);
    return { subscriber, deliveries, message: buildMessage(draft, recipient, config, seed, clock.now(), secret) };
  }

  /** Records what became of one message, and what follows from it (a bounce, a stop). */
  private async settle({ subscriber, deliveries, message }: Prepared, result: SendResult): Promise<void> {
    const { clock, store } = this.deps;
    const at = clock.now().toISOString();
    const outcome = (state: Delivery['state'], extra: Partial<DeliveryUpdate> = {}): DeliveryUpdate[] =>
      deliveries.map((delivery) => ({ post: delivery.post, round: delivery.round, recipient: subscriber.key, state, at, tried: true, ...extra }));
    const count = (field: 'sent' | 'bounced' | 'failed' | 'givenUp') => deliveries.forEach((delivery) => this.stats.get(delivery.post)![field]++);

    if (result.ok) {
      this.failuresInARow = 0;
      // The provider's own id if it gave one (SES), else the Message-ID: what a report that comes back names.
      await store.deliveries.record(outcome('sent', { providerId: result.providerId ?? bareMessageId(message.messageId), token: messageToken(message.messageId) }));
      count('sent');
      this.options.onProgress?.(++this.done, this.total);
      await this.watchBounces();
      return;
    }
    if (result.permanent) {
      // Counted too: a server that refuses every address is more likely broken than the list.
      this.refusedInARow(result.reason);
      // The subscriber's new status and the delivery's fate commit together.
      await applyEvent(store.subscribers, clock, subscriber, { type: 'bounce', reason: result.reason, deliveries: outcome('bounced', { reason: result.reason }) });
      count('bounced');
      if (this.report.bounces.length < NAMED) this.report.bounces.push({ email: subscriber.email, reason: result.reason });
      await this.watchBounces();
      return;
    }
    if (result.pausedUntil) {
      // Not the reader's failure, nor a try that counts: the provider's quota. Left queued.
      await store.deliveries.record(outcome('queued', { reason: result.reason, tried: false }));
      this.paused ??= { until: result.pausedUntil, cap: `the provider's quota (${result.reason})` };
      return;
    }
    const givenUp = deliveries.every((delivery) => Date.parse(at) - Date.parse(delivery.queuedAt) > GIVE_UP_MS);
    await store.deliveries.record(outcome(givenUp ? 'failed' : 'queued', { reason: result.reason }));
    count(givenUp ? 'givenUp' : 'failed');
    if (this.report.failures.length < NAMED) this.report.failures.push({ email: subscriber.email, reason: result.reason });
    this.refusedInARow(result.reason);
  }

  private refusedInARow(reason?: string): void {
    if (++this.failuresInARow >= FAILURES_IN_A_ROW && !this.stopReason) {
      this.stopReason = `${FAILURES_IN_A_ROW} messages in a row were refused${reason ? ` (last: ${reason})` : ''}; the rest stays queued for the next pass`;
    }
  }

  private async draftFor(keys: string[]): Promise<EmailDraft> {
    const id = keys.join('\0');
    let draft = this.drafts.get(id);
    if (!draft) {
      draft = await renderEmail(keys.map((key) => this.emailPost(this.jobs.get(key)!.post)), this.templates, this.deps.config);
      for (const warning of draft.warnings) if (!this.report.warnings.includes(warning)) this.report.warnings.push(warning);
      // Digests can make many distinct sets of posts; keep memory bounded.
      if (this.drafts.size >= 64) this.drafts.clear();
      this.drafts.set(id, draft);
    }
    return draft;
  }

  private emailPost(post: PostMeta): EmailPost {
    let found = this.emailPosts.get(post.file);
    if (!found) this.emailPosts.set(post.file, (found = emailPostOf(post, this.deps.config, this.deps.cwd)));
    return found;
  }
}

export function emailPostOf(post: PostMeta, config: Config, cwd: string): EmailPost {
  const rendered = renderPost(post, config, cwd);
  const widthOf = publishedImageWidth(config);
  return {
    title: post.title,
    url: post.url,
    html: sizeImages(rendered.html, widthOf),
    summary: rendered.summary,
    date: new Date(post.date),
    topics: post.topics.map((topic) => topic.name),
    authors: post.authors,
    ...(post.image ? { image: post.image, image_width: Math.min(widthOf(post.image) ?? CONTENT_WIDTH, CONTENT_WIDTH) } : {}),
  };
}

/** The width of an image herald published into output (a static folder's, a page bundle's), if it is one. */
function publishedImageWidth(config: Config): (src: string) => number | undefined {
  return (src) => {
    const file = publishedFile(config, src);
    if (!file) return undefined;
    try {
      return imageSize(readFileSync(file)).width;
    } catch {
      return undefined;
    }
  };
}

/** Items in groups of `size`, read as they are needed. */
async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let group: T[] = [];
  for await (const item of items) {
    group.push(item);
    if (group.length >= size) {
      yield group;
      group = [];
    }
  }
  if (group.length) yield group;
}
