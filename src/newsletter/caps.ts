// Sending caps: what the mail provider allows in a minute, an hour and a day (rolling windows, as
// providers count them), and a new domain's warm-up, messages a day on its first days of sending.
// Counted from the delivery log, so a cap holds across passes, restarts and commands.
import type { Config } from '../config.js';
import type { DeliveryLog } from './ports.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type CapVerdict =
  | { go: true }
  /** The minute's cap: wait this long, then ask again. */
  | { go: false; waitMs: number }
  /** The hour's or the day's cap: nothing more until then; the pass ends and a later one goes on. */
  | { go: false; until: Date; cap: string };

export class SendingCaps {
  /** Times of messages sent in the last day, oldest first (with those this process sends added). */
  private readonly times: number[];

  constructor(
    private readonly config: Config,
    sentInLastDay: string[],
    /** When the first message of all was sent: day 1 of the warm-up. */
    private readonly firstSent: string | undefined,
  ) {
    this.times = sentInLastDay.map((at) => Date.parse(at)).sort((a, b) => a - b);
  }

  /** The caps as the delivery log has them at `now`; undefined when none is set (nothing is counted). */
  static async read(config: Config, log: DeliveryLog, now: Date): Promise<SendingCaps | undefined> {
    const { limits, warmup } = config.smtp;
    if (!limits.perMinute && !limits.perHour && !limits.perDay && !warmup.length) return undefined;
    return new SendingCaps(config, await log.sentSince(new Date(now.getTime() - DAY).toISOString()), await log.firstSent());
  }

  /** Whether a message may go now; when it may, it is counted at once (workers ask concurrently). */
  take(now: Date): CapVerdict {
    const verdict = this.check(now);
    if (!verdict.go) return verdict;
    this.times.push(now.getTime());
    // A long send's older times leave the day's window: let them go now and then.
    const stale = lowerBound(this.times, now.getTime() - DAY);
    if (stale > 1024) this.times.splice(0, stale);
    return verdict;
  }

  /** The same question without taking a place: what `herald status` says of a send in progress. */
  check(now: Date): CapVerdict {
    const at = now.getTime();
    const { perMinute, perHour } = this.config.smtp.limits;
    const day = this.dayCap(at);
    if (day) {
      const until = this.freedAt(at, DAY, day.limit);
      if (until) return { go: false, until: new Date(until), cap: day.name };
    }
    if (perHour) {
      const until = this.freedAt(at, HOUR, perHour);
      if (until) return { go: false, until: new Date(until), cap: `the hourly cap (smtp.limits.perHour: ${perHour})` };
    }
    if (perMinute) {
      const until = this.freedAt(at, MINUTE, perMinute);
      if (until) return { go: false, waitMs: until - at };
    }
    return { go: true };
  }

  /** The tighter of smtp.limits.perDay and today's warm-up figure. */
  private dayCap(at: number): { limit: number; name: string } | undefined {
    const { limits, warmup } = this.config.smtp;
    const started = this.firstSent ? Date.parse(this.firstSent) : at;
    const dayOfWarmup = Math.floor((at - started) / DAY);
    const warm = dayOfWarmup < warmup.length ? warmup[dayOfWarmup] : undefined;
    if (warm !== undefined && (!limits.perDay || warm < limits.perDay)) return { limit: warm, name: `the warm-up (day ${dayOfWarmup + 1} of smtp.warmup: ${warm})` };
    return limits.perDay ? { limit: limits.perDay, name: `the daily cap (smtp.limits.perDay: ${limits.perDay})` } : undefined;
  }

  /** With `limit` or more messages in the window ending now, when enough leave it for one more; else undefined. */
  private freedAt(at: number, window: number, limit: number): number | undefined {
    const first = lowerBound(this.times, at - window);
    const inWindow = this.times.length - first;
    if (inWindow < limit) return undefined;
    // The message whose leaving brings the count below the limit.
    return this.times[first + inWindow - limit]! + window;
  }
}

function lowerBound(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
