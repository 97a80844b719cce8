// The subscriber lifecycle: the one place a subscriber's status changes. Web routes, commands and
// the sender describe what happened as an event; `transition` decides (pure), the store writes.
import type { Change, Clock, DeliveryUpdate, ReturnedUpdate, SubscriberStore } from './ports.js';
import { addressKey, validEmail, type Status, type Subscriber } from './subscriber.js';

/** An address that parsed: where mail goes, and the key it is matched by. */
export interface Address {
  email: string;
  key: string;
}

export function parseAddress(value: string): Address | undefined {
  const email = value.trim();
  const key = validEmail(email) ? addressKey(email) : undefined;
  return key ? { email, key } : undefined;
}

/** However many people ask, an address gets at most one confirmation email in this time. */
export const CONFIRM_INTERVAL_MS = 10 * 60_000;

export type SubscriptionEvent =
  /** The public form: anyone may send it, for any address. */
  | { type: 'subscribe'; name: string; topics: string[] }
  /** A confirmation link, made at `issuedAt`, was used, with the name and topics its page showed (the mailbox's owner may correct them). */
  | { type: 'confirm'; issuedAt: Date; name?: string; topics?: string[] }
  | { type: 'unsubscribe' }
  /** The writer adds someone by hand: active at once. */
  | { type: 'add'; name?: string; topics?: string[] }
  | { type: 'remove'; purge: boolean }
  | { type: 'import'; name: string; status: Status; topics: string[]; createdAt?: string; extra: Record<string, string> }
  /** A permanent delivery failure, with the deliveries it came from (refused at once) or what came back about one (later). */
  | { type: 'bounce'; reason: string; deliveries?: DeliveryUpdate[]; returned?: ReturnedUpdate[] }
  /** A delivery failure for now (a full mailbox): counted, and at `limit` of them in a row, a bounce. */
  | { type: 'soft-bounce'; reason: string; limit: number; returned: ReturnedUpdate[] }
  /** The provider says a message reached the mailbox: the soft bounces before it no longer count. */
  | { type: 'delivered'; returned: ReturnedUpdate[] }
  /** The reader marked a message as spam. */
  | { type: 'complain'; reason: string; deliveries?: DeliveryUpdate[]; returned?: ReturnedUpdate[] };

export type Outcome =
  | 'created' // subscribe: a new pending subscriber, to be sent a confirmation
  | 'confirm-again' // subscribe: known but not active; a confirmation goes out again
  | 'throttled' // subscribe: a confirmation went out less than CONFIRM_INTERVAL_MS ago
  | 'quiet' // subscribe: active, bounced or complained; nothing is sent
  | 'confirmed'
  | 'already'
  | 'gone' // confirm or unsubscribe: no such subscriber (purged)
  | 'left' // confirm: unsubscribed after the link was made
  | 'blocked' // confirm: complained, or bounced after the link was made
  | 'unsubscribed'
  | 'added'
  | 'updated'
  | 'refused' // add: unsubscribed or complained; the writer does not override the reader
  | 'removed'
  | 'purged'
  | 'unchanged'
  | 'bounced'
  | 'soft-bounced' // counted, not yet at the limit
  | 'complained';

/** Whether the caller must now send a confirmation email. */
export function needsConfirmation(outcome: Outcome): boolean {
  return outcome === 'created' || outcome === 'confirm-again';
}

/**
 * What an event does to a subscriber (undefined: not on the list) at `now`. Pure: every rule of
 * who may become what lives here.
 */
export function transition(address: Address, current: Subscriber | undefined, event: SubscriptionEvent, now: Date): Change<Outcome> {
  const at = now.toISOString();
  const fresh = (status: Status, fields: Partial<Subscriber> = {}): Subscriber => ({
    key: address.key,
    email: address.email,
    name: '',
    topics: [],
    extra: {},
    status,
    createdAt: at,
    updatedAt: at,
    statusAt: at,
    ...fields,
  });
  const withStatus = (subscriber: Subscriber, status: Status, fields: Partial<Subscriber> = {}): Subscriber => ({
    ...subscriber,
    ...fields,
    status,
    updatedAt: at,
    statusAt: subscriber.status === status ? subscriber.statusAt : at,
  });

  switch (event.type) {
    case 'subscribe': {
      if (!current) return { next: fresh('pending', { name: event.name, topics: event.topics, confirmSentAt: at }), result: 'created' };
      // Active: nothing to do. Complained: never mailed again.
      if (current.status === 'active' || current.status === 'complained') return { result: 'quiet' };
      // Pending, unsubscribed or bounced: another link (a click on it is the proof a bounced
      // mailbox works again), but not more than one per interval; a stranger cannot rewrite the
      // name or topics of someone else's address, and the status waits for the link.
      const last = current.confirmSentAt ? Date.parse(current.confirmSentAt) : -Infinity;
      if (now.getTime() - last < CONFIRM_INTERVAL_MS) return { result: 'throttled' };
      return { next: { ...current, confirmSentAt: at, updatedAt: at }, result: 'confirm-again' };
    }
    case 'confirm': {
      if (!current) return { result: 'gone' };
      if (current.status === 'active') return { result: 'already' };
      if (current.status === 'complained') return { result: 'blocked' };
      // A link made before the reader unsubscribed (or the mailbox bounced) must not bring them back.
      const older = event.issuedAt.getTime() < Date.parse(current.statusAt);
      if (current.status === 'unsubscribed' && older) return { result: 'left' };
      if (current.status === 'bounced' && older) return { result: 'blocked' };
      const fields = { ...(event.name !== undefined ? { name: event.name } : {}), ...(event.topics !== undefined ? { topics: event.topics } : {}) };
      return { next: withStatus(current, 'active', fields), result: 'confirmed' };
    }
    case 'unsubscribe': {
      if (!current) return { result: 'gone' };
      if (current.status !== 'active' && current.status !== 'pending') return { result: 'already' };
      return { next: withStatus(current, 'unsubscribed'), result: 'unsubscribed' };
    }
    case 'add': {
      const fields = { ...(event.name !== undefined ? { name: event.name } : {}), ...(event.topics !== undefined ? { topics: event.topics } : {}) };
      if (!current) return { next: fresh('active', fields), result: 'added' };
      // The reader's choice (unsubscribed) and a spam complaint are theirs; a bounce is the mail
      // system's, and the writer may know the mailbox works again.
      if (current.status === 'unsubscribed' || current.status === 'complained') return { result: 'refused' };
      return { next: withStatus(current, 'active', fields), result: 'updated' };
    }
    case 'remove': {
      if (!current) return { result: 'gone' };
      if (event.purge) return { next: null, result: 'purged' };
      if (current.status !== 'active' && current.status !== 'pending') return { result: 'unchanged' };
      return { next: withStatus(current, 'unsubscribed'), result: 'removed' };
    }
    case 'import': {
      // Idempotent, and never a way back onto the list for someone who left it.
      if (current) return { result: 'unchanged' };
      return { next: fresh(event.status, { name: event.name, topics: event.topics, extra: event.extra, ...(event.createdAt ? { createdAt: event.createdAt } : {}) }), result: 'added' };
    }
    case 'bounce':
    case 'complain': {
      const status: Status = event.type === 'bounce' ? 'bounced' : 'complained';
      const records = { deliveries: event.deliveries ?? [], returned: event.returned ?? [] };
      // A complaint outranks everything; a bounce does not undo a complaint or an unsubscribe.
      const changes = current && (status === 'complained' ? current.status !== 'complained' : current.status === 'active' || current.status === 'pending');
      if (!current || !changes) return { result: 'unchanged', ...records };
      return { next: withStatus(current, status, { softBounces: undefined }), result: status, ...records };
    }
    case 'soft-bounce': {
      const { returned } = event;
      if (!current || (current.status !== 'active' && current.status !== 'pending')) return { result: 'unchanged', returned };
      const count = (current.softBounces ?? 0) + 1;
      if (count >= event.limit) return { next: withStatus(current, 'bounced', { softBounces: undefined }), result: 'bounced', returned };
      return { next: { ...current, softBounces: count, updatedAt: at }, result: 'soft-bounced', returned };
    }
    case 'delivered': {
      const { returned } = event;
      if (!current?.softBounces) return { result: 'unchanged', returned };
      return { next: { ...current, softBounces: undefined, updatedAt: at }, result: 'unchanged', returned };
    }
  }
}

/** Applies one event to one address, atomically. */
export function applyEvent(store: SubscriberStore, clock: Clock, address: Address, event: SubscriptionEvent): Promise<Outcome> {
  return store.change(address.key, (current) => transition(address, current, event, clock.now()));
}

/** Applies one event each to many addresses in one transaction (imports). */
export async function applyEvents(store: SubscriberStore, clock: Clock, events: { address: Address; event: SubscriptionEvent }[]): Promise<Outcome[]> {
  const byKey = new Map(events.map((item) => [item.address.key, item]));
  const now = clock.now();
  return store.changeMany([...byKey.keys()], (key, current) => {
    const { address, event } = byKey.get(key)!;
    return transition(address, current, event, now);
  });
}
