// What comes back after a message was accepted: a bounce, a spam complaint, or the provider's word
// that it was delivered. Webhooks (SES through SNS, Postmark, a signed generic one) and `herald
// inbound` (a DSN or an ARF report read from standard input) each turn what they receive into
// these; the core matches each to the message it is about and applies it (applyFeedback).
import { messageToken } from './email/message.js';
import type { NewsletterDeps } from './pass.js';
import { RETURNED, type Delivery, type DeliveryLog, type ReturnedState, type ReturnedUpdate } from './ports.js';
import { applyEvent, type Outcome, type SubscriptionEvent } from './subscriptions.js';

/** 'unsubscribe': the reader asked by email, through the mailto: List-Unsubscribe. */
export type FeedbackKind = 'bounce' | 'complaint' | 'delivery' | 'unsubscribe';

export interface Feedback {
  kind: FeedbackKind;
  /** For a bounce: the mailbox is gone for good (5.x.x, SES "Permanent"), or only for now (4.x.x, "Transient", a full mailbox). */
  permanent: boolean;
  /**
   * How herald finds the message it is about, in this order: the id the provider gave on
   * acceptance (SES MessageId, Postmark MessageID), else the Message-ID header herald wrote
   * (quoted in DSNs and ARF reports), else the token of a VERP return path. A report that names
   * none of these, or one herald never sent, changes nothing: anyone can write a bounce.
   */
  providerId?: string;
  messageId?: string;
  returnPathToken?: string;
  /** The recipient the report names, for the log: the message found, not this, says who the reader is (see deliveriesOf). */
  recipient?: string;
  /** When it happened, ISO 8601; the time it is applied when the report does not say. */
  at?: string;
  /** What the receiving side said: "550 5.1.1 user unknown", "abuse", ... */
  reason: string;
  /** Where it came from, for the log: "ses", "postmark", "dsn", "arf", "webhook". */
  source: string;
}

export interface FeedbackResult {
  feedback: Feedback;
  /**
   * applied: recorded, and the subscriber changed if it called for that; repeated: this message
   * already had as strong a report (providers send again until answered); unmatched: it names
   * no message herald sent, so it changes nothing.
   */
  result: 'applied' | 'repeated' | 'unmatched';
  /** The subscriber it was about, and what became of them. */
  email?: string;
  outcome?: Outcome;
}

/**
 * Applies reports that came back: each is matched to the message it is about, recorded on its
 * deliveries, and passed to the subscriber lifecycle (a bounce, soft bounces up to
 * bounces.softLimit, a complaint), the record and the status change in one transaction.
 */
export async function applyFeedback(deps: Pick<NewsletterDeps, 'config' | 'store' | 'clock'>, reports: Feedback[]): Promise<FeedbackResult[]> {
  const { config, store, clock } = deps;
  const results: FeedbackResult[] = [];
  for (const feedback of reports) {
    const deliveries = await deliveriesOf(store.deliveries, feedback);
    if (!deliveries.length) {
      results.push({ feedback, result: 'unmatched' });
      continue;
    }
    const recipient = deliveries[0]!.recipient;
    // The reader is on the list by this key (none of these events adds anyone): the key will do as the address.
    const address = { key: recipient, email: recipient };
    if (feedback.kind === 'unsubscribe') {
      // The reader's own choice: no delivery record to add, and twice is fine.
      const outcome = await applyEvent(store.subscribers, clock, address, { type: 'unsubscribe' });
      results.push({ feedback, result: outcome === 'already' ? 'repeated' : 'applied', email: recipient, outcome });
      continue;
    }
    const state = stateOf(feedback);
    const at = validTime(feedback.at) ?? clock.now().toISOString();
    // Only what makes a delivery's record stronger: a repeated notice is not a second soft bounce.
    const stronger = deliveries.filter((delivery) => !delivery.returned || RETURNED.indexOf(state) > RETURNED.indexOf(delivery.returned.state));
    if (!stronger.length) {
      results.push({ feedback, result: 'repeated', email: recipient });
      continue;
    }
    const returned: ReturnedUpdate[] = stronger.map((delivery) => ({ post: delivery.post, round: delivery.round, recipient, state, at, reason: feedback.reason }));
    const event: SubscriptionEvent =
      state === 'complained' ? { type: 'complain', reason: feedback.reason, returned }
      : state === 'bounced' ? { type: 'bounce', reason: feedback.reason, returned }
      : state === 'soft-bounced' ? { type: 'soft-bounce', reason: feedback.reason, limit: config.bounces.softLimit, returned }
      : { type: 'delivered', returned };
    const outcome = await applyEvent(store.subscribers, clock, address, event);
    results.push({ feedback, result: 'applied', email: recipient, outcome });
  }
  return results;
}

function stateOf(feedback: Feedback): ReturnedState {
  if (feedback.kind === 'complaint') return 'complained';
  if (feedback.kind === 'delivery') return 'delivered';
  return feedback.permanent ? 'bounced' : 'soft-bounced';
}

/**
 * The deliveries of the message a report is about: by the provider's id, else the token of the
 * Message-ID it quotes, else the VERP token, in that order. Only accepted messages can come back;
 * a queued or refused delivery has nothing to hear about. The message names its reader: the
 * address a report names is not asked, as a forwarded message's report names where it was
 * forwarded to, and only the reader (or their provider) holds the message's token.
 */
async function deliveriesOf(log: DeliveryLog, feedback: Feedback): Promise<Delivery[]> {
  const lookups = [
    feedback.providerId && (() => log.byProviderId(feedback.providerId!)),
    ...[feedback.messageId, feedback.returnPathToken].map((value) => {
      const token = value && messageToken(value);
      return token && (() => log.byToken(token));
    }),
  ];
  for (const lookup of lookups) {
    if (!lookup) continue;
    const found = (await lookup()).filter((delivery) => delivery.state === 'sent');
    if (found.length) return found;
  }
  return [];
}

function validTime(value: string | undefined): string | undefined {
  const ms = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
