// Confirmation emails leave after the answer, one at a time: a burst of subscribes must not take
// the event loop from the readers fetching feeds while their messages are built.
import type { Newsletter } from '../newsletter/newsletter.js';
import type { Address } from '../newsletter/subscriptions.js';

export interface MailQueue {
  add(address: Address): void;
  /** Resolves once every confirmation queued so far has been tried. */
  drained(): Promise<void>;
}

export function confirmationQueue(newsletter: Newsletter, log: (line: string) => void = () => {}): MailQueue {
  const waiting: Address[] = [];
  let running: Promise<void> | undefined;
  const run = async () => {
    for (let address = waiting.shift(); address; address = waiting.shift()) {
      try {
        const result = await newsletter.sendConfirmation(address);
        log(result.ok ? `confirmation sent to ${address.email}` : `confirmation to ${address.email} not sent: ${result.reason}`);
      } catch (error) {
        log(`confirmation to ${address.email} not sent: ${(error as Error).message}`);
      }
      // Let the requests that came in meanwhile go first.
      await new Promise((resolve) => setImmediate(resolve));
    }
    running = undefined;
  };
  return {
    add(address) {
      waiting.push(address);
      running ??= run();
    },
    drained: async () => {
      while (running) await running;
    },
  };
}
