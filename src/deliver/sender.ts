import type { EmailDraft } from '../email/render.js';
import { slug as slugify } from 'github-slugger';
import type { Config } from '../config.js';
import type { Topic } from '../posts/parse.js';
import type { Subscriber } from '../subscribers/model.js';
import { buildMessage } from './message.js';
import type { Transport } from './transport.js';

/** Who already has this job's message; recording must be durable before record returns. */
export interface DeliveryLedger {
  has(email: string): boolean;
  record(email: string, at: Date): void;
  sync(): void;
  close(): void;
}

export interface DeliveryOptions {
  /** Messages handed to the transport at once (the SMTP pool spreads them over its connections). */
  concurrency: number;
  /** Tries for a message that failed for a passing reason (4xx, timeout, dropped connection). */
  attempts: number;
  /** First retry delay; it doubles after each try. */
  backoffMs: number;
  unsubscribeUrl: (email: string) => string;
  onSent?: (done: number, total: number) => void;
  /** Stop starting new messages (SIGINT/SIGTERM): those in flight finish. */
  stopped?: () => boolean;
}

export interface DeliveryOutcome {
  sent: number;
  /** Already delivered by an earlier pass (in the ledger). */
  skipped: number;
  /** Not delivered, still due: failed for a passing reason after every try, or not started. */
  failed: { email: string; reason: string }[];
  /** Refused for good (5xx): to be marked bounced. */
  bounced: { email: string; reason: string }[];
}

interface SmtpError extends Error {
  responseCode?: number;
  permanent?: boolean;
  response?: string;
  code?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one job's draft to each recipient not yet in the ledger, recording each acceptance at once. */
export async function deliver(
  draft: EmailDraft,
  jobKey: string,
  recipients: Subscriber[],
  transport: Transport,
  ledger: DeliveryLedger,
  config: Config,
  options: DeliveryOptions,
): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { sent: 0, skipped: 0, failed: [], bounced: [] };
  const queue = recipients.filter((recipient) => {
    if (!ledger.has(recipient.email)) return true;
    outcome.skipped++;
    return false;
  });
  const total = queue.length;
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      if (options.stopped?.()) return;
      const recipient = queue[next++]!;
      const message = buildMessage(draft, { name: recipient.name, email: recipient.email, unsubscribeUrl: options.unsubscribeUrl(recipient.email) }, config, jobKey, new Date());
      for (let attempt = 1; ; attempt++) {
        try {
          await transport.send(message);
          ledger.record(recipient.email, new Date());
          outcome.sent++;
          options.onSent?.(outcome.sent, total);
          break;
        } catch (error) {
          const smtp = error as SmtpError;
          const reason = smtp.response ?? smtp.message;
          if (smtp.permanent === true) {
            outcome.bounced.push({ email: recipient.email, reason });
            break;
          }
          if (attempt >= options.attempts || options.stopped?.()) {
            outcome.failed.push({ email: recipient.email, reason });
            break;
          }
          await sleep(options.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
  for (const recipient of queue.slice(next)) outcome.failed.push({ email: recipient.email, reason: 'not started: herald was stopped' });
  ledger.sync();
  return outcome;
}

/** An active subscriber wants a post when they follow no topics (every post) or one of its topics. */
export function wantsPost(subscriber: Subscriber, topics: Topic[]): boolean {
  return subscriber.status === 'active' && (subscriber.topics.length === 0 || subscriber.topics.some((topic) => topics.some((own) => own.slug === slugify(topic))));
}
