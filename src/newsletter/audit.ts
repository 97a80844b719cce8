// One post's whole account: for every recipient it was due to, whether the provider accepted the
// message and what came back after. A send is finished when everyone due is either accepted or
// explained (refused for good, or no longer wanting it); anyone else is owed the post.
import type { Delivery, DeliveryState, ReturnedState, Store } from './ports.js';

export interface AuditEntry {
  recipient: string;
  state: DeliveryState;
  /** The provider's id (or the Message-ID) of the accepted message. */
  providerId?: string;
  /** What came back after acceptance; 'nothing' when nothing did (the common case over SMTP). */
  after?: ReturnedState | 'nothing';
  reason?: string;
  /** Accepted, refused for good, or no longer wanted: nothing more is owed. Queued or given up: still owed. */
  explained: boolean;
}

const PAGE = 2000;

/** Every delivery of the post's round, in pages, read as the caller goes (a list of any length). */
export async function* auditPost(store: Store, post: string, round: number): AsyncGenerator<AuditEntry[]> {
  for (let after: string | undefined; ; ) {
    const page = await store.deliveries.list(post, round, after, PAGE);
    if (!page.length) return;
    after = page.at(-1)!.recipient;
    yield page.map(entryOf);
  }
}

function entryOf(delivery: Delivery): AuditEntry {
  const accepted = delivery.state === 'sent';
  return {
    recipient: delivery.recipient,
    state: delivery.state,
    ...(delivery.providerId && accepted ? { providerId: delivery.providerId } : {}),
    ...(accepted ? { after: delivery.returned?.state ?? 'nothing' } : {}),
    ...((delivery.returned?.reason ?? delivery.reason) ? { reason: delivery.returned?.reason ?? delivery.reason } : {}),
    explained: delivery.state === 'sent' || delivery.state === 'bounced' || delivery.state === 'skipped',
  };
}
