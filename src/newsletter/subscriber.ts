import { domainToASCII } from 'node:url';
import isEmailModule from 'validator/lib/isEmail.js';
import type { Topic } from '../posts/parse.js';
import { topicSlug } from '../posts/topics.js';

// pending: asked, not confirmed. complained: marked a message as spam; never mailed again.
export const STATUSES = ['active', 'pending', 'unsubscribed', 'bounced', 'complained'] as const;
export type Status = (typeof STATUSES)[number];

export interface Subscriber {
  /** The address as herald matches it: see addressKey. */
  key: string;
  /** The address as it was first given, which is where mail goes. */
  email: string;
  name: string;
  status: Status;
  /** Empty means every post. */
  topics: string[];
  createdAt: string;
  updatedAt: string;
  /** When the status last changed: a confirmation link older than an unsubscribe does not undo it. */
  statusAt: string;
  /** When a confirmation email last went to this address: at most one per CONFIRM_INTERVAL_MS. */
  confirmSentAt?: string;
  /** Soft bounces (a full mailbox, a server down) since mail last reached them: at bounces.softLimit, bounced. */
  softBounces?: number;
  /** Columns of an imported CSV that herald has no use for, kept as they were. */
  extra: Record<string, string>;
}

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

// Invisible or direction-changing characters make an address read as another: never part of one.
const DISGUISING = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/;

export function validEmail(email: string): boolean {
  // validator ships CommonJS with the function as both module.exports and .default.
  return !DISGUISING.test(email) && isEmailModule.default(email.trim(), { allow_display_name: false, require_tld: true, allow_ip_domain: false }) && addressKey(email) !== undefined;
}

/**
 * One subscriber per mailbox: trimmed, Unicode NFC, case-insensitive, and the domain in its ASCII
 * (punycode) form, so `ada@bücher.example` and `ada@xn--bcher-kva.example` are one person.
 * Undefined when the domain is not a domain name.
 */
export function addressKey(email: string): string | undefined {
  const address = email.trim().normalize('NFC');
  const at = address.lastIndexOf('@');
  if (at < 1) return undefined;
  const domain = domainToASCII(address.slice(at + 1).toLowerCase());
  if (!domain) return undefined;
  return `${address.slice(0, at).toLowerCase()}@${domain}`;
}

// C0 and C1 controls, DEL, and the invisible bidirectional overrides that make text read
// differently from what it is.
const UNSAFE_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Text typed by a stranger (a name, a topic): no control characters, single-spaced, bounded. */
export function cleanText(value: string, maxLength: number): string {
  return value.replace(UNSAFE_CHARACTERS, ' ').replace(/\s+/g, ' ').trim().slice(0, maxLength).trim();
}

/** "a, b" or "a;b" -> ["a", "b"]. */
export function parseTopicList(value: string): string[] {
  return [...new Set(value.split(/[,;]/).map((topic) => cleanText(topic, 100)).filter(Boolean))];
}

/** An active subscriber wants a post when they follow no topics (every post) or one of its topics. */
export function wantsPost(subscriber: Pick<Subscriber, 'status' | 'topics'>, topics: readonly Topic[]): boolean {
  return subscriber.status === 'active' && (subscriber.topics.length === 0 || subscriber.topics.some((topic) => topics.some((own) => own.slug === topicSlug(topic))));
}
