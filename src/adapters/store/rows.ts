// How a row of either SQL store (SQLite, PostgreSQL: the same tables and columns) reads as the core's types.
import type { Delivery, DeliveryState, PostRecord, QueuedRecipient, ReturnedState } from '../../newsletter/ports.js';
import type { Status, Subscriber } from '../../newsletter/subscriber.js';

export type Row = Record<string, unknown>;

export const toSubscriber = (row: Row): Subscriber => ({
  key: row.key as string,
  email: row.email as string,
  name: row.name as string,
  status: row.status as Status,
  topics: JSON.parse(row.topics as string) as string[],
  createdAt: row.created_at as string,
  updatedAt: row.updated_at as string,
  statusAt: row.status_at as string,
  ...(row.confirm_sent_at ? { confirmSentAt: row.confirm_sent_at as string } : {}),
  ...(Number(row.soft_bounces) ? { softBounces: Number(row.soft_bounces) } : {}),
  extra: row.extra ? (JSON.parse(row.extra as string) as Record<string, string>) : {},
});

export const toDelivery = (row: Row): Delivery => ({
  post: row.post as string,
  round: Number(row.round),
  recipient: row.recipient as string,
  state: row.state as DeliveryState,
  attempts: Number(row.attempts),
  queuedAt: row.queued_at as string,
  at: row.at as string,
  ...(row.provider_id ? { providerId: row.provider_id as string } : {}),
  ...(row.token ? { token: row.token as string } : {}),
  ...(row.reason ? { reason: row.reason as string } : {}),
  ...(row.returned ? { returned: { state: row.returned as ReturnedState, at: row.returned_at as string, ...(row.returned_reason ? { reason: row.returned_reason as string } : {}) } } : {}),
});

export const toPostRecord = (row: Row): PostRecord => ({
  key: row.key as string,
  entryId: row.entry_id as string,
  file: row.file as string,
  titleDate: row.title_date as string,
  atBaseline: Number(row.at_baseline) === 1,
  ...(row.sent_at ? { sentAt: row.sent_at as string, recipients: Number(row.recipients ?? 0) } : {}),
});

/** Rows of queued deliveries joined with their subscriber (its key as s_key), in recipient order: one entry per recipient. */
export function queuedRecipients(rows: Row[]): QueuedRecipient[] {
  const byRecipient = new Map<string, QueuedRecipient>();
  for (const row of rows) {
    const recipient = row.recipient as string;
    let entry = byRecipient.get(recipient);
    if (!entry) byRecipient.set(recipient, (entry = { recipient, subscriber: row.s_key ? toSubscriber({ ...row, key: row.s_key }) : undefined, deliveries: [] }));
    entry.deliveries.push(toDelivery(row));
  }
  return [...byRecipient.values()];
}
