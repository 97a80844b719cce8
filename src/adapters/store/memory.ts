// The store in memory, for fast tests of the core's rules: the same contract as SQLite's, with no file.
import { HeraldError } from '../../errors.js';
import type { Change, Delivery, DeliveryLog, DeliveryState, NewsletterState, PostRecord, QueuedRecipient, ReturnedState, SendLock, Store, SubscriberStore } from '../../newsletter/ports.js';
import { STATUSES, type Status, type Subscriber } from '../../newsletter/subscriber.js';

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryStore implements Store {
  readonly description = '(memory)';
  readonly rows = new Map<string, Subscriber>();
  /** Keyed by post, recipient and round, as in SQLite. */
  readonly log = new Map<string, Delivery>();
  readonly records = new Map<string, PostRecord>();
  baselineAt: string | undefined;
  private served: string | undefined;
  private locked = false;

  readonly subscribers: SubscriberStore = {
    get: async (key) => (this.rows.has(key) ? copy(this.rows.get(key)!) : undefined),
    change: async (key, decide) => this.apply(key, decide(this.rows.has(key) ? copy(this.rows.get(key)!) : undefined)),
    changeMany: async (keys, decide) => keys.map((key) => this.apply(key, decide(key, this.rows.has(key) ? copy(this.rows.get(key)!) : undefined))),
    list: async ({ status, after = '', limit }) =>
      [...this.rows.values()]
        .filter((row) => row.key > after && (!status || row.status === status))
        .sort((a, b) => (a.key < b.key ? -1 : 1))
        .slice(0, limit)
        .map(copy),
    counts: async () => {
      const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<Status, number>;
      for (const row of this.rows.values()) counts[row.status]++;
      return counts;
    },
  };

  readonly deliveries: DeliveryLog = {
    enqueue: async (post, round, recipients, at) => {
      let added = 0;
      for (const recipient of recipients) {
        const id = deliveryId(post, recipient, round);
        if (this.log.has(id)) continue;
        this.log.set(id, { post, round, recipient, state: 'queued', attempts: 0, queuedAt: at, at });
        added++;
      }
      return added;
    },
    queued: async (jobs, after = '', limit) => {
      const wanted = new Set(jobs.map((job) => `${job.post}\0${job.round}`));
      const byRecipient = new Map<string, QueuedRecipient>();
      const rows = [...this.log.values()].filter((row) => row.state === 'queued' && row.recipient > after && wanted.has(`${row.post}\0${row.round}`));
      for (const row of rows.sort((a, b) => (a.recipient < b.recipient ? -1 : a.recipient > b.recipient ? 1 : 0))) {
        let entry = byRecipient.get(row.recipient);
        if (!entry) {
          if (byRecipient.size === limit) break;
          const subscriber = this.rows.get(row.recipient);
          byRecipient.set(row.recipient, (entry = { recipient: row.recipient, subscriber: subscriber && copy(subscriber), deliveries: [] }));
        }
        entry.deliveries.push(copy(row));
      }
      return [...byRecipient.values()];
    },
    record: async (updates) => {
      for (const update of updates) {
        const id = deliveryId(update.post, update.recipient, update.round);
        const before = this.log.get(id);
        this.log.set(id, {
          post: update.post,
          round: update.round,
          recipient: update.recipient,
          state: update.state,
          attempts: (before?.attempts ?? 0) + (update.tried ? 1 : 0),
          queuedAt: before?.queuedAt ?? update.at,
          at: update.at,
          ...((update.providerId ?? before?.providerId) ? { providerId: update.providerId ?? before?.providerId } : {}),
          ...((update.token ?? before?.token) ? { token: update.token ?? before?.token } : {}),
          ...(update.reason ? { reason: update.reason } : {}),
          ...(before?.returned ? { returned: before.returned } : {}),
        });
      }
    },
    received: async (post, recipients, round) =>
      new Set(recipients.filter((recipient) => [...this.log.values()].some((row) => row.post === post && row.recipient === recipient && row.state === 'sent' && (round === undefined || row.round === round)))),
    tally: async (post, round) => {
      const counts: Record<DeliveryState, number> = { queued: 0, submitted: 0, sent: 0, bounced: 0, skipped: 0, failed: 0 };
      for (const row of this.log.values()) if (row.post === post && row.round === round) counts[row.state]++;
      return counts;
    },
    returnedTally: async (post, round) => {
      const counts: Record<ReturnedState, number> = { delivered: 0, 'soft-bounced': 0, bounced: 0, complained: 0 };
      for (const row of this.log.values()) if (row.post === post && row.round === round && row.state === 'sent' && row.returned) counts[row.returned.state]++;
      return counts;
    },
    submitted: async (post, round) => copy([...this.log.values()].filter((row) => row.post === post && row.round === round && row.state === 'submitted')),
    list: async (post, round, after = '', limit) =>
      copy([...this.log.values()].filter((row) => row.post === post && row.round === round && row.recipient > after).sort((a, b) => (a.recipient < b.recipient ? -1 : 1)).slice(0, limit)),
    firstSent: async () => [...this.log.values()].filter((row) => row.state === 'sent').map((row) => row.at).sort()[0],
    sentSince: async (since) => [...new Set([...this.log.values()].filter((row) => row.state === 'sent' && row.at >= since).map((row) => `${row.at}\0${row.recipient}`))].map((id) => id.split('\0')[0]!).sort(),
    latestRound: async (post) => Math.max(0, ...[...this.log.values()].filter((row) => row.post === post).map((row) => row.round)),
    byProviderId: async (providerId) => copy([...this.log.values()].filter((row) => row.providerId === providerId)),
    byToken: async (token) => copy([...this.log.values()].filter((row) => row.token === token)),
  };

  readonly state: NewsletterState = {
    baseline: async () => this.baselineAt,
    setBaseline: async (at, posts) => {
      if (this.baselineAt) return false;
      this.baselineAt = at;
      for (const post of posts) this.records.set(post.key, copy(post));
      return true;
    },
    posts: async () => [...this.records.values()].map(copy),
    savePost: async (record) => void this.records.set(record.key, copy(record)),
    servedAt: async () => this.served,
    markServed: async (at) => void (this.served = at),
  };

  readonly lock: SendLock = {
    acquire: async () => {
      if (this.locked) throw new HeraldError({ code: 'E_LOCKED', message: 'another send is running', hint: 'wait for it to finish' });
      this.locked = true;
      return async () => {
        this.locked = false;
      };
    },
  };

  private apply<T>(key: string, change: Change<T>): T {
    if (change.next === null) {
      this.rows.delete(key);
      for (const [id, row] of this.log) if (row.recipient === key) this.log.delete(id);
    } else if (change.next) this.rows.set(key, copy(change.next));
    if (change.deliveries?.length) void this.deliveries.record(change.deliveries);
    for (const { post, round, recipient, ...returned } of change.returned ?? []) {
      const row = this.log.get(deliveryId(post, recipient, round));
      if (row) row.returned = returned;
    }
    return change.result;
  }

  async close(): Promise<void> {}
}

function deliveryId(post: string, recipient: string, round: number): string {
  return `${post}\0${recipient}\0${round}`;
}
