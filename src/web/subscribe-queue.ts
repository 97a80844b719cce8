// What a subscribe asks for is done after the answer, one request at a time: the answer is the
// same whatever the address (so it is given at once, and its timing tells nothing), and a burst
// of subscribes must not take the event loop from the readers fetching feeds meanwhile.
import type { Newsletter } from '../newsletter/newsletter.js';
import { needsConfirmation, type Address } from '../newsletter/subscriptions.js';

export interface SubscribeRequest {
  address: Address;
  name: string;
  topics: string[];
}

export interface SubscribeQueue {
  add(request: SubscribeRequest): void;
  /** Resolves once every request queued so far has been handled. */
  drained(): Promise<void>;
}

export function subscribeQueue(newsletter: Newsletter, log: (line: string) => void = () => {}): SubscribeQueue {
  const waiting: SubscribeRequest[] = [];
  let running: Promise<void> | undefined;
  const handle = async ({ address, name, topics }: SubscribeRequest) => {
    const outcome = await newsletter.subscribe(address, name, topics);
    if (!needsConfirmation(outcome)) return;
    // A slow or refusing mail server is logged, never shown to the visitor.
    const result = await newsletter.sendConfirmation(address);
    log(result.ok ? `confirmation sent to ${address.email}` : `confirmation to ${address.email} not sent: ${result.reason}`);
  };
  const run = async () => {
    for (let request = waiting.shift(); request; request = waiting.shift()) {
      try {
        await handle(request);
      } catch (error) {
        log(`subscribe of ${request.address.email} failed: ${(error as Error).message}`);
      }
      // Let the requests that came in meanwhile go first.
      await new Promise((resolve) => setImmediate(resolve));
    }
    running = undefined;
  };
  return {
    add(request) {
      waiting.push(request);
      running ??= run();
    },
    drained: async () => {
      while (running) await running;
    },
  };
}
