// The newsletter core as its callers see it: commands, web routes and the worker call these and
// print or answer; the rules live in the modules behind them.
import { templatesStamp } from '../cache.js';
import type { Problem } from '../errors.js';
import type { PostMeta } from '../posts/parse.js';
import { exportHeader, exportRows, readImport } from './csv.js';
import { sendWithRetries } from './delivery.js';
import { auditPost, type AuditEntry } from './audit.js';
import { PostIndex } from './due.js';
import { applyFeedback, type Feedback, type FeedbackResult } from './feedback.js';
import { buildMessage } from './email/message.js';
import { personalise, readerDraft, renderConfirmation, renderEmail, type EmailDraft } from './email/render.js';
import { loadMailTemplates } from './email/templates.js';
import { emailPostOf, emptyReport, plannedRecipients, resumePost, runPass, sendPost, type NewsletterDeps, type PassReport, type SendOptions, type SendReport } from './pass.js';
import type { SendResult } from './ports.js';
import { mailStatus, type MailStatus } from './status.js';
import { addressKey, type Status, type Subscriber } from './subscriber.js';
import { applyEvent, applyEvents, type Address, type Outcome } from './subscriptions.js';
import { CONFIRM_DAYS, confirmUrl, isWebhookKey, unsubscribeUrl, verifyConfirmToken, verifyToken, webhookKey } from './tokens.js';

export interface ImportReport {
  added: number;
  unchanged: number;
  rejected: Problem[];
}

export class Newsletter {
  /** The confirmation email, rendered once, while the templates stay as they were. */
  private confirmation: { stamp: string; draft: Promise<EmailDraft> } | undefined;
  /** The posts of the last pass, if it found none of them due. */
  private nothingDueIn: PostMeta[] | undefined;

  constructor(readonly deps: NewsletterDeps) {}

  // ---- the subscriber lifecycle ----

  /** The public form. The outcome says whether a confirmation must go out (needsConfirmation). */
  subscribe(address: Address, name: string, topics: string[]): Promise<Outcome> {
    return applyEvent(this.deps.store.subscribers, this.deps.clock, address, { type: 'subscribe', name, topics });
  }

  /** A confirmation link used, with the name and topics the owner of the mailbox left on its page. */
  async confirm(token: string, fields: { name?: string; topics?: string[] } = {}): Promise<{ outcome: Outcome | 'invalid' | 'expired'; email?: string }> {
    const verdict = verifyConfirmToken(token, this.deps.secret, this.deps.clock.now());
    if (typeof verdict === 'string') return { outcome: verdict };
    const current = await this.deps.store.subscribers.get(verdict.key);
    const address = { key: verdict.key, email: current?.email ?? verdict.key };
    const outcome = await applyEvent(this.deps.store.subscribers, this.deps.clock, address, { type: 'confirm', issuedAt: verdict.issuedAt, ...fields });
    return { outcome, email: address.email };
  }

  /** Who a confirmation link is for (with the name and topics on record), without using it: the page a GET shows. */
  async confirmTarget(token: string): Promise<(Address & { name: string; topics: string[] }) | 'invalid' | 'expired'> {
    const verdict = verifyConfirmToken(token, this.deps.secret, this.deps.clock.now());
    if (typeof verdict === 'string') return verdict;
    const current = await this.deps.store.subscribers.get(verdict.key);
    return { key: verdict.key, email: current?.email ?? verdict.key, name: current?.name ?? '', topics: current?.topics ?? [] };
  }

  /** Who an unsubscribe link is for, without using it; undefined for one herald did not make. */
  async unsubscribeTarget(token: string): Promise<Address | undefined> {
    const payload = verifyToken('unsubscribe', token, this.deps.secret);
    const key = payload === undefined ? undefined : addressKey(payload);
    if (payload === undefined || !key) return undefined;
    const current = await this.deps.store.subscribers.get(key);
    // herald signs the address's key; links mailed before it did carry the address as it was
    // stored. Anything else (the same address re-cased) was not made by herald.
    if (payload !== key && current?.email !== payload) return undefined;
    return { key, email: current?.email ?? payload };
  }

  /** A signed unsubscribe link used (the page's button, or a mail provider's one-click POST). */
  async unsubscribe(token: string): Promise<{ outcome: Outcome | 'invalid'; email?: string }> {
    const address = await this.unsubscribeTarget(token);
    if (!address) return { outcome: 'invalid' };
    const outcome = await applyEvent(this.deps.store.subscribers, this.deps.clock, address, { type: 'unsubscribe' });
    return { outcome, email: address.email };
  }

  add(address: Address, fields: { name?: string; topics?: string[] }): Promise<Outcome> {
    return applyEvent(this.deps.store.subscribers, this.deps.clock, address, { type: 'add', ...fields });
  }

  remove(address: Address, purge: boolean): Promise<Outcome> {
    return applyEvent(this.deps.store.subscribers, this.deps.clock, address, { type: 'remove', purge });
  }

  get(key: string): Promise<Subscriber | undefined> {
    return this.deps.store.subscribers.get(key);
  }

  counts(): Promise<Record<Status, number>> {
    return this.deps.store.subscribers.counts();
  }

  /** Every subscriber (or those with one status), in key order, a page at a time. */
  async *list(status?: Status): AsyncGenerator<Subscriber> {
    for (let after: string | undefined; ; ) {
      const page = await this.deps.store.subscribers.list({ status, after, limit: 5000 });
      if (!page.length) return;
      after = page.at(-1)!.key;
      yield* page;
    }
  }

  /** Another service's CSV export, or herald's own: idempotent, and it never reactivates anyone. */
  async importCsv(source: AsyncIterable<Buffer | string>, firstLine: string, file: string): Promise<ImportReport> {
    const report: ImportReport = { added: 0, unchanged: 0, rejected: [] };
    for await (const batch of readImport(source, firstLine, file)) {
      report.rejected.push(...batch.rejected);
      const outcomes = await applyEvents(
        this.deps.store.subscribers,
        this.deps.clock,
        batch.rows.map((row) => ({ address: row.address, event: { type: 'import', name: row.name, status: row.status, topics: row.topics, createdAt: row.createdAt, extra: row.extra } })),
      );
      for (const outcome of outcomes) report[outcome === 'added' ? 'added' : 'unchanged']++;
    }
    return report;
  }

  /** The list as CSV, written in chunks: safe to open in a spreadsheet (no cell reads as a formula). */
  async exportCsv(write: (chunk: string) => void): Promise<void> {
    const extra = new Set<string>();
    for await (const subscriber of this.list()) for (const column of Object.keys(subscriber.extra)) extra.add(column);
    const columns = [...extra];
    write(exportHeader(columns));
    for (let after: string | undefined; ; ) {
      const page = await this.deps.store.subscribers.list({ after, limit: 5000 });
      if (!page.length) return;
      after = page.at(-1)!.key;
      write(exportRows(page, columns));
    }
  }

  /** The confirmation email, from templates/confirm.html and confirm.txt, through the same builder as posts. */
  async sendConfirmation(address: Address): Promise<SendResult> {
    const { config, cwd, clock, secret } = this.deps;
    const now = clock.now();
    const stamp = templatesStamp(config);
    if (this.confirmation?.stamp !== stamp) this.confirmation = { stamp, draft: renderConfirmation(loadMailTemplates(config, cwd, 'confirm'), config, CONFIRM_DAYS) };
    const recipient = { name: '', email: address.email, confirmUrl: confirmUrl(config, address.key, secret, now) };
    const message = buildMessage(await readerDraft(await this.confirmation.draft, recipient), recipient, config, `confirm:${now.toISOString()}`, now, secret);
    return sendWithRetries(this.deps.transport(), message, { attempts: 2, backoffMs: this.deps.retry.backoffMs });
  }

  // ---- sending ----

  async runPass(posts: PostMeta[], options?: SendOptions): Promise<PassReport> {
    // herald start hands every pass the same posts while none changed. If nothing was due the
    // last time, nothing is now: a post becomes due only by being published (new posts), and
    // one that is due stays so until it is sent.
    if (posts === this.nothingDueIn) return emptyReport();
    const report = await runPass(this.deps, posts, options);
    this.nothingDueIn = report.posts.length === 0 && !report.baseline ? posts : undefined;
    return report;
  }

  sendPost(post: PostMeta, options?: SendOptions & { resend?: boolean }): Promise<SendReport> {
    return sendPost(this.deps, post, options);
  }

  plannedRecipients(post: PostMeta, options?: { resend?: boolean }): Promise<{ recipients: string[]; alreadySent: number }> {
    return plannedRecipients(this.deps, post, options);
  }

  /** A test message of a post to one address: not a delivery, recorded nowhere. */
  async testSend(post: PostMeta, address: Address): Promise<{ result: SendResult; warnings: string[] }> {
    const { config, cwd, clock, secret } = this.deps;
    const draft = await renderEmail([emailPostOf(post, config, cwd)], loadMailTemplates(config, cwd, 'email'), config);
    const now = clock.now();
    const recipient = { name: '', email: address.email, unsubscribeUrl: unsubscribeUrl(config, address.key, secret) };
    const message = buildMessage(await readerDraft(draft, recipient), recipient, config, `test:${post.file}:${now.toISOString()}`, now, secret);
    return { result: await sendWithRetries(this.deps.transport(), message, this.deps.retry), warnings: draft.warnings };
  }

  /** One post's email as one reader would get it, for a preview. */
  async preview(post: PostMeta, reader: { name: string; email: string }): Promise<{ subject: string; html: string; text: string; warnings: string[] }> {
    const { config, cwd, secret } = this.deps;
    const draft = await renderEmail([emailPostOf(post, config, cwd)], loadMailTemplates(config, cwd, 'email'), config);
    const key = addressKey(reader.email) ?? reader.email;
    const recipient = { ...reader, unsubscribeUrl: unsubscribeUrl(config, key, secret) };
    return { ...personalise(await readerDraft(draft, recipient), recipient), warnings: draft.warnings };
  }

  /**
   * One post's account (its round 0), in pages: every recipient it was due to, accepted or not,
   * and what came back. Undefined when the post was never sent.
   */
  async audit(post: PostMeta): Promise<AsyncGenerator<AuditEntry[]> | undefined> {
    const record = new PostIndex(await this.deps.store.state.posts()).find(post);
    return record && auditPost(this.deps.store, record.key, 0);
  }

  /** Sends the post to exactly those its audit says are owed it; undefined when it was never sent. */
  async resume(post: PostMeta, options?: SendOptions): Promise<SendReport | undefined> {
    const record = new PostIndex(await this.deps.store.state.posts()).find(post);
    return record && resumePost(this.deps, post, record, options);
  }

  /** Bounces, complaints and delivery notices that came back: matched to their messages and applied (see applyFeedback). */
  feedback(reports: Feedback[]): Promise<FeedbackResult[]> {
    return applyFeedback(this.deps, reports);
  }

  /** The key of one of the webhooks (postmark, bounce), for the provider's console and the check of each call. */
  webhookKey(name: string): string {
    return webhookKey(name, this.deps.secret);
  }

  isWebhookKey(name: string, given: string): boolean {
    return isWebhookKey(name, given, this.deps.secret);
  }

  /** herald start answers at web.url from now on: the links in emails have somewhere to go (check asks). */
  async servingStarted(): Promise<void> {
    await this.deps.store.state.markServed(this.deps.clock.now().toISOString());
  }

  mailStatus(posts: PostMeta[]): Promise<{ baseline?: string; posts: Map<string, MailStatus> }> {
    return mailStatus(this.deps, posts);
  }
}
