import type { MailTransport, OutgoingMessage, SendResult } from './ports.js';

export interface RetryPolicy {
  /** Tries for a message refused for a passing reason (4xx, timeout, dropped connection). */
  attempts: number;
  /** First delay; it doubles after each try, with jitter so retries do not come in waves. */
  backoffMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One message, tried until it is accepted, refused for good, or the tries run out. A permanent
 * refusal is final at once; herald is stopping (`stopped`) ends the tries too.
 */
export async function sendWithRetries(transport: MailTransport, message: OutgoingMessage, policy: RetryPolicy, stopped?: () => boolean): Promise<SendResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await transport.send(message);
    if (result.ok || result.permanent || attempt >= policy.attempts || stopped?.()) return result;
    await sleep(policy.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
  }
}

/**
 * Runs `work` over `items` (a list, or pages read as they are needed) with at most `concurrency`
 * at a time; stops taking new items once `halt` says so, or once one item threw: the others in
 * flight finish, then the error is thrown.
 */
export async function eachConcurrently<T>(items: Iterable<T> | AsyncIterable<T>, concurrency: number, halt: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
  const source = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!halt() && !failure) {
      // An async generator answers one next() at a time, in order: no item is taken twice.
      const next = await source.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (failure) throw failure.error;
}
