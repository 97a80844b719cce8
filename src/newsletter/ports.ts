// What the newsletter core needs from the world, declared by the core and kept small. Adapters
// (SQLite, memory for tests, SMTP, the outbox) implement these; app.ts picks them from the config.
import type { EmailDraft, Recipient } from './email/render.js';
import type { Status, Subscriber } from './subscriber.js';

export interface Clock {
  now(): Date;
}

// ---- storage ----

/**
 * The fate of one post for one recipient in one round (round 0 is the newsletter's own send; each
 * --resend opens another). `submitted`: handed to a batch API whose answer never came; whether the
 * provider took it is asked (reconciled) before anything is sent to that recipient again.
 */
export type DeliveryState = 'queued' | 'submitted' | 'sent' | 'bounced' | 'skipped' | 'failed';

export interface Delivery {
  post: string;
  round: number;
  recipient: string;
  state: DeliveryState;
  /** Tries so far, over every pass. */
  attempts: number;
  queuedAt: string;
  /** When the state last changed. */
  at: string;
  /** The provider's id of the accepted message (or its Message-ID), to match a bounce that comes back later. */
  providerId?: string;
  /**
   * The message's own token (its Message-ID's digest, an HMAC with the secret): what a DSN, an
   * ARF report, a VERP return path or a mailto: unsubscribe names, whatever the provider's id.
   */
  token?: string;
  reason?: string;
  /** What came back after the message was accepted, if anything did. */
  returned?: Returned;
}

/**
 * What came back about an accepted message, strongest last: a later report never weakens an
 * earlier one (a complaint stays a complaint when a delivery notice arrives after it).
 */
export const RETURNED = ['delivered', 'soft-bounced', 'bounced', 'complained'] as const;
export type ReturnedState = (typeof RETURNED)[number];

export interface Returned {
  state: ReturnedState;
  at: string;
  reason?: string;
}

/** What came back about one delivery, written with the subscriber's change it caused. */
export type ReturnedUpdate = Pick<Delivery, 'post' | 'round' | 'recipient'> & Returned;

export type DeliveryUpdate = Pick<Delivery, 'post' | 'round' | 'recipient' | 'state' | 'at'> & { providerId?: string; token?: string; reason?: string; tried?: boolean };

/**
 * A decision about one subscriber, written in one transaction: the new row (`null` removes it,
 * absent leaves it), and any delivery outcomes that go with it (a bounce and its delivery record
 * commit together).
 */
export interface Change<T> {
  next?: Subscriber | null;
  result: T;
  deliveries?: DeliveryUpdate[];
  returned?: ReturnedUpdate[];
}

export interface SubscriberStore {
  get(key: string): Promise<Subscriber | undefined>;
  /** Reads the subscriber, lets `decide` choose, and writes what it chose, atomically per address. */
  change<T>(key: string, decide: (current: Subscriber | undefined) => Change<T>): Promise<T>;
  /** The same for many addresses in one transaction (imports). */
  changeMany<T>(keys: string[], decide: (key: string, current: Subscriber | undefined) => Change<T>): Promise<T[]>;
  /** In key order, after the key `after`: the way to walk a list of any length in pages. */
  list(query: { status?: Status; after?: string; limit: number }): Promise<Subscriber[]>;
  counts(): Promise<Record<Status, number>>;
}

export interface QueuedRecipient {
  recipient: string;
  /** As it is now; undefined if the row was deleted since it was queued. */
  subscriber: Subscriber | undefined;
  deliveries: Delivery[];
}

export interface DeliveryLog {
  /** Queues (post, round) for each recipient who has no delivery in that round yet; returns how many were added. */
  enqueue(post: string, round: number, recipients: string[], at: string): Promise<number>;
  /** Recipients with queued deliveries of these (post, round) pairs, in key order after `after`, at most `limit` of them. */
  queued(jobs: { post: string; round: number }[], after: string | undefined, limit: number): Promise<QueuedRecipient[]>;
  record(updates: DeliveryUpdate[]): Promise<void>;
  /** Those of `recipients` who were sent `post`: in `round`, or in any round. */
  received(post: string, recipients: string[], round?: number): Promise<Set<string>>;
  tally(post: string, round: number): Promise<Record<DeliveryState, number>>;
  /** Of the messages of (post, round) that were accepted, how many came back as what. */
  returnedTally(post: string, round: number): Promise<Record<ReturnedState, number>>;
  /** When each message accepted since `since` was accepted, oldest first (a digest's deliveries are one message): for sending caps. */
  sentSince(since: string): Promise<string[]>;
  /** When the first message of all was accepted: day 1 of a warm-up. */
  firstSent(): Promise<string | undefined>;
  /** Every delivery of (post, round), in recipient order after `after`, at most `limit`: a send's whole record, in pages. */
  list(post: string, round: number, after: string | undefined, limit: number): Promise<Delivery[]>;
  /** Deliveries of (post, round) handed to a batch API without an answer: to reconcile. */
  submitted(post: string, round: number): Promise<Delivery[]>;
  /** The highest round of a post so far (0 when it has none). */
  latestRound(post: string): Promise<number>;
  /** The deliveries of the message the provider knows by this id (a digest is one message for several posts). */
  byProviderId(providerId: string): Promise<Delivery[]>;
  /** The deliveries of the message with this token (see Delivery.token). */
  byToken(token: string): Promise<Delivery[]>;
}

/** What the newsletter remembers of a post: found again after an edit or a rename. */
export interface PostRecord {
  /** The post's id in the delivery log, fixed the first time herald met it. */
  key: string;
  entryId: string;
  file: string;
  /** Title and date together: the same post after a rename that changes its slug and file. */
  titleDate: string;
  /** Already published when the newsletter started: never mailed by a pass. */
  atBaseline: boolean;
  /** When round 0 finished: everyone due was handled. */
  sentAt?: string;
  recipients?: number;
}

export interface NewsletterState {
  baseline(): Promise<string | undefined>;
  /** Sets the baseline once; false when another process set it first. */
  setBaseline(at: string, posts: PostRecord[]): Promise<boolean>;
  posts(): Promise<PostRecord[]>;
  savePost(record: PostRecord): Promise<void>;
  /** When \`herald start\` last began serving the web side (unsubscribe links) on this newsletter. */
  servedAt(): Promise<string | undefined>;
  markServed(at: string): Promise<void>;
}

export interface SendLock {
  /**
   * Only one sender at a time on this store; throws a HeraldError (E_LOCKED) when another holds
   * it. A store that lets several machines send one post at once (PostgreSQL) locks only within
   * its process, and its `queued` claims the readers it returns, so no two senders get one reader.
   */
  acquire(): Promise<() => Promise<void>>;
}

export interface Store {
  readonly subscribers: SubscriberStore;
  readonly deliveries: DeliveryLog;
  readonly state: NewsletterState;
  readonly lock: SendLock;
  /** Where it lives, for messages: a file path or a server. */
  readonly description: string;
  close(): Promise<void>;
}

// ---- mail ----

export interface OutgoingMessage {
  from: string;
  replyTo?: string;
  to: { name: string; address: string };
  subject: string;
  date: Date;
  messageId: string;
  /** The envelope sender, where bounces go, when it is not From's address (VERP). */
  returnPath?: string;
  /**
   * The HTML and text: a draft rendered once for many readers, and this reader's values for its
   * fields (personalise() joins them). A transport may encode the draft once and fill in each reader.
   */
  body: { draft: EmailDraft; recipient: Recipient };
  /**
   * List-Id and List-Unsubscribe (RFC 2919, 2369) with List-Unsubscribe-Post (RFC 8058); `mailto`,
   * the address an unsubscribe by email goes to (herald inbound reads it), listed after the link.
   */
  list?: { id: string; name: string; unsubscribe: string; mailto?: string };
}

/**
 * What became of one message: taken by the provider (with its id), or refused for now or for
 * good. `pausedUntil`: the provider takes nothing more until then (its daily quota is used up),
 * so the pass pauses as at a sending cap, the rest left queued.
 */
export type SendResult = { ok: true; providerId?: string } | { ok: false; permanent: boolean; reason: string; pausedUntil?: string };

export interface MailTransport {
  /** Where messages go, for the log: "smtp://host:port" or "outbox/". */
  readonly description: string;
  /** Never throws for one message's fate; throws a HeraldError when nothing can be sent (a broken DKIM key). */
  send(message: OutgoingMessage): Promise<SendResult>;
  /** A provider's batch API (Postmark's /email/batch): many messages a call; the sender uses it when present. */
  readonly batch?: BatchApi;
  close(): Promise<void>;
}

export interface BatchApi {
  /** Messages a call, at most. */
  readonly size: number;
  /**
   * One result per message, in order, from the provider's answer. Throws when the call's fate is
   * unknown (a timeout, a dropped connection): the messages may or may not have been taken.
   */
  send(messages: OutgoingMessage[]): Promise<SendResult[]>;
  /**
   * Asks the provider what became of messages whose call had no answer, by Message-ID: taken
   * (with its id), or not (undefined: send it again). Throws when the provider cannot be asked.
   */
  find(messageIds: string[]): Promise<Map<string, { providerId: string } | undefined>>;
}
