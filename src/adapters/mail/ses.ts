// Amazon SES (API v2) as a transport: each message is composed and signed here, sent raw, and
// paced to the account's own sending rate, so a list of any size goes out without SES throttling
// it and without a refusal about the setup ever counting against a reader.
import { createRequire } from 'node:module';
import type { GetAccountCommandOutput, MessageTag } from '@aws-sdk/client-sesv2';
import { HeraldError } from '../../errors.js';
import type { MailTransport, SendResult } from '../../newsletter/ports.js';
import { compose, type Composed, type Signer } from './compose.js';

export interface SesOptions {
  region: string;
  /** Another endpoint than AWS's own for the region: a local emulator, a proxy. */
  endpoint?: string;
  /** Without them, the AWS SDK's own chain: AWS_ACCESS_KEY_ID and the rest, ~/.aws, an instance role. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  configurationSet?: string;
  /** Put on every message; see sesTags for what SES allows in them. */
  tags?: Record<string, string>;
  /**
   * Messages a second at most, below the account's rate: other mail may share the account. Also
   * the rate when the account's quota cannot be read.
   */
  rateLimit?: number;
  /** For tests, a clock: `sleep` must move `now` on. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** What the SDK's errors carry (service errors, and the network's and the credential chain's). */
export interface SesError extends Error {
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

// SES's quota changes as the day's count rolls on and as AWS raises the limits; an hour is
// fresh enough for both, and costs one call.
const QUOTA_TTL_MS = 3_600_000;
// Slots 1.5% under the rate, with at most a fifth of a slot's lateness caught up: any 1 s window
// then holds at most (1000 + interval/5) / interval < rate slots, and the rate stays within 2%.
const RATE_MARGIN = 0.985;
const LATE_CARRY = 0.2;
// SES's own advice for "Maximum sending rate exceeded" is to wait and send again; a few tries,
// a second apart and doubling, outlast a burst from other senders on the account. Longer than
// that, the core's retries (and the next pass) take over.
const THROTTLE_TRIES = 4;
const THROTTLE_BACKOFF_MS = 1000;
// Without the quota (an IAM policy may allow ses:SendEmail but not ses:GetAccount): the lowest
// rate SES gives any account, the sandbox's.
const FALLBACK_RATE = 1;

const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);
const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'AccessDeniedException',
]);

// The AWS SDK takes over half a second to load: only a transport that sends through SES pays for
// it, as with the large dependencies in src/lazy.ts.
const loadSesv2 = (): typeof import('@aws-sdk/client-sesv2') => {
  // The SDK warns on every start under Node 20 that its releases from 2027 need Node 22; herald
  // pins a release that runs on Node 20 (package.json), so the warning would only alarm.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return createRequire(import.meta.url)('@aws-sdk/client-sesv2');
};

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const reasonOf = (error: SesError) => oneLine(`${error.name}: ${error.message}`);

function isThrottling(error: SesError): boolean {
  return THROTTLING.has(error.name) || error.$metadata?.httpStatusCode === 429 || error.$retryable?.throttling === true || /maximum sending rate exceeded/i.test(error.message);
}

function isDailyQuota(error: SesError): boolean {
  return /daily (message|sending) quota/i.test(error.message);
}

/**
 * What an SES refusal means for the reader. Only SES naming the recipient's own address as one
 * it will not mail (its suppression list, after a hard bounce or a complaint) is permanent. A
 * refusal about the sender or the account (an unverified From, a suspended or paused account,
 * a missing configuration set, refused credentials) would fail every reader alike: it stops the
 * send (a HeraldError) and leaves them all queued, as a refused SMTP login does. "Not verified"
 * naming only the recipient is the SES sandbox, which mails verified addresses alone: not the
 * reader's fault, so it is tried again, never a bounce. Throttling that outlasted the tries,
 * network errors, SES's own failures and a refusal of the message itself are tried again later.
 */
export function classifySesError(error: SesError, envelope: Composed['envelope']): SendResult {
  const reason = reasonOf(error);
  const setup = (field: string | undefined, message: string, hint: string) => new HeraldError({ code: 'E_SEND', ...(field ? { field } : {}), message: `${message}: ${reason}`, hint });
  if (CREDENTIALS.has(error.name) || error.$metadata?.httpStatusCode === 403) {
    throw setup('smtp.url', "SES refused herald's credentials", 'give ses://ACCESS_KEY_ID:SECRET@REGION, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile or role), allowed ses:SendEmail, ses:SendRawEmail and ses:GetAccount');
  }
  if (error.name === 'AccountSuspendedException' || error.name === 'SendingPausedException' || /sending (is )?(suspended|paused)/i.test(error.message)) {
    throw setup(undefined, 'SES will not send for this account now', 'see the account (and the configuration set) in the SES console: sending must be enabled again');
  }
  if (error.name === 'MailFromDomainNotVerifiedException') {
    throw setup('email.from', "SES has not verified the sending domain's MAIL FROM", "check the custom MAIL FROM domain's MX record in the SES console");
  }
  if (error.name === 'NotFoundException') {
    throw setup('smtp.url', 'SES has no such configuration set in this region', 'create it in the SES console, or take ?configurationSet= off the ses:// URL');
  }
  if (/not verified/i.test(error.message)) {
    // "Email address is not verified. The following identities failed the check in region
    // US-EAST-1: a@example.com, example.com"
    const named = /failed the check in region [\w-]+:\s*(.*)$/i.exec(oneLine(error.message))?.[1]?.split(/,\s*/) ?? [];
    const recipients = new Set(envelope.to.map((address) => address.toLowerCase()));
    if (named.length && named.every((identity) => recipients.has(identity.replace(/\.$/, '').toLowerCase()))) {
      return { ok: false, permanent: false, reason: `${reason} (the SES account is in the sandbox, which only mails verified addresses)` };
    }
    throw setup('email.from', `SES has not verified the sender ${envelope.from}`, 'verify the From domain (or address) in the SES console, in the region herald sends from');
  }
  const suppressed = error.name === 'MessageRejected' && /blacklist|suppression list/i.test(error.message);
  return { ok: false, permanent: suppressed, reason };
}

/**
 * SES tag names and values may hold only ASCII letters, digits, "_" and "-", 256 at most, or SES
 * refuses the whole message: anything else becomes "_" (a slug "2026/hello world" is tagged
 * "2026_hello_world"), and a tag left empty is dropped.
 */
export function sesTags(tags: Record<string, string>): MessageTag[] {
  const clean = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
  return Object.entries(tags)
    .map(([name, value]) => ({ Name: clean(name), Value: clean(value) }))
    .filter((tag) => tag.Name && tag.Value);
}

interface Quota {
  /** Messages a second; Infinity for no limit. */
  rate: number;
  /** Messages in 24 hours, and how many of them SES counted as sent when it was read. */
  max: number;
  sent: number;
}

// SES answers -1 for "unlimited"; a rateLimit of 0 sets none.
const positive = (value: number | undefined) => (value !== undefined && value > 0 ? value : undefined);

async function readQuota(getAccount: () => Promise<GetAccountCommandOutput>, rateLimit: number | undefined): Promise<Quota> {
  try {
    const quota = (await getAccount()).SendQuota;
    return {
      rate: Math.min(positive(quota?.MaxSendRate) ?? Infinity, positive(rateLimit) ?? Infinity),
      max: positive(quota?.Max24HourSend) ?? Infinity,
      sent: quota?.SentLast24Hours ?? 0,
    };
  } catch {
    // Sending may still work (its own refusal says why if not); SES keeps the day's count then.
    return { rate: positive(rateLimit) ?? FALLBACK_RATE, max: Infinity, sent: 0 };
  }
}

/**
 * The account's pace, shared by every concurrent send: at most `rate` messages a second (each
 * starts at least 1/rate s after the one before, so no second ever holds more), a pause for all
 * after SES throttled one, and the day's count against the 24-hour quota.
 */
class Pace {
  private quota: Promise<Quota> | undefined;
  private readAt = -Infinity;
  private taken = 0;
  private full = false;
  private interval = 0;
  private last = -Infinity;
  private pausedUntil = -Infinity;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly read: () => Promise<Quota>,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Counts one message against the day's quota, or says why it cannot go today. */
  async take(): Promise<string | undefined> {
    if (this.now() - this.readAt >= QUOTA_TTL_MS) {
      this.readAt = this.now();
      this.quota = this.read();
      this.taken = 0;
      this.full = false;
    }
    const quota = await this.quota!;
    // Under the rate (RATE_MARGIN): the slots' own spacing then leaves room for a request the
    // network or a pause of the event loop moved, and a second never holds more than the rate.
    this.interval = 1000 / (quota.rate * RATE_MARGIN);
    const sent = quota.sent + this.taken;
    if (this.full) return 'SES daily quota reached (SES refused a message for it); the rest waits for the quota to free up';
    if (sent >= quota.max) return `SES daily quota reached (${sent} of ${quota.max} messages in the last 24 hours); the rest waits for the quota to free up`;
    this.taken++;
    return undefined;
  }

  /** When the quota is read again, and sending may go on: an ISO time for the pass's pause. */
  reopens(): string {
    return new Date(Date.now() + Math.max(0, QUOTA_TTL_MS - (this.now() - this.readAt))).toISOString();
  }

  /** A message counted by take() that SES did not take. */
  giveBack(): void {
    this.taken--;
  }

  /** SES said the day's quota is used up: nothing more until the quota is read again. */
  fill(): void {
    this.full = true;
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Resolves at this message's turn; turns are handed out one at a time, in order. */
  turn(): Promise<void> {
    const mine = this.queue.then(async () => {
      // Waking is checked against the clock, not trusted: a timer may fire early, and a pause may
      // have begun meanwhile.
      const due = Math.max(this.last + this.interval, this.pausedUntil);
      for (let wait; (wait = due - this.now()) > 0; ) await this.sleep(wait);
      // The next slot counts from this one's due time, so a timer's usual lateness (under a
      // millisecond) is not lost on every message, which ran SES at 96% of its rate. A turn later
      // than a fifth of a slot starts afresh: catching up more could put more requests in some
      // second than the rate allows (a second then holds at most 1000 + interval/5 ms of slots).
      this.last = this.now() - due > this.interval * LATE_CARRY ? this.now() : due;
    });
    this.queue = mine;
    return mine;
  }
}

// SES writes its own Date and Message-ID over the message's (AWS, "Amazon SES header fields"),
// so a DKIM signature over herald's would fail at every receiver; AWS's advice is not to sign
// them. The copy signed lacks them, and its signature goes on the message as it is.
async function signForSes(signer: Signer, raw: Buffer): Promise<Buffer> {
  const unsigned = withoutHeaders(raw, /^(date|message-id):/i);
  const signed = await signer.sign(unsigned);
  const signature = signed.subarray(0, signed.length - unsigned.length);
  if (!signed.subarray(signature.length).equals(unsigned)) {
    throw new HeraldError({ code: 'E_DKIM', field: 'smtp.dkim', message: 'the DKIM signer changed the message it signed', hint: 'herald sends nothing it cannot sign as it is' });
  }
  return Buffer.concat([signature, raw]);
}

function withoutHeaders(raw: Buffer, name: RegExp): Buffer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n') + 2;
  // A field is its first line and the folded lines (starting with a space or tab) after it.
  const fields = text.slice(0, end).match(/[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/g) ?? [];
  return Buffer.from(fields.filter((field) => !name.test(field)).join('') + text.slice(end), 'latin1');
}

/**
 * The options in an ses:// URL (smtp.url or HERALD_SMTP_URL): ses://REGION, with
 * ACCESS_KEY_ID:SECRET@ before the region or else the AWS SDK's own chain (the environment, a
 * profile, a role), and ?configurationSet=NAME&tag.NAME=VALUE&endpoint=URL (an emulator).
 * `rateLimit` is smtp.rateLimit.
 */
export function sesOptions(url: URL, rateLimit?: number): SesOptions {
  const region = url.hostname.toLowerCase();
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new HeraldError({ code: 'E_CONFIG', field: 'smtp.url', message: `smtp.url: "${region}" in the ses:// URL is not an AWS region`, hint: 'write ses://REGION, such as ses://eu-west-1, the region SES verified your domain in' });
  }
  if (Boolean(url.username) !== Boolean(url.password)) {
    throw new HeraldError({ code: 'E_CONFIG', field: 'smtp.url', message: 'smtp.url: the ses:// URL has half its credentials (an access key id and a secret go together)', hint: 'write ses://ACCESS_KEY_ID:SECRET@REGION, or ses://REGION to take them from the AWS SDK (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a role)' });
  }
  const query = url.searchParams;
  const tags = Object.fromEntries([...query].filter(([key]) => key.startsWith('tag.')).map(([key, value]) => [key.slice('tag.'.length), value]));
  return {
    region,
    ...(url.username ? { credentials: { accessKeyId: decodeURIComponent(url.username), secretAccessKey: decodeURIComponent(url.password) } } : {}),
    ...(query.get('endpoint') ? { endpoint: query.get('endpoint')! } : {}),
    ...(query.get('configurationSet') ? { configurationSet: query.get('configurationSet')! } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
    ...(rateLimit ? { rateLimit } : {}),
  };
}

/** SES's SendEmail with the raw message, paced to the account's quota (read at the first send and hourly). */
export function sesTransport(options: SesOptions, signer: Signer | undefined): MailTransport {
  const { SESv2Client, GetAccountCommand, SendEmailCommand } = loadSesv2();
  const client = new SESv2Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Herald paces and retries itself: the SDK's own retries would multiply the tries and hide
    // throttling from the pace.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 15_000, requestTimeout: 60_000, throwOnRequestTimeout: true },
  });
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pace = new Pace(() => readQuota(() => client.send(new GetAccountCommand({})), options.rateLimit), now, sleep);
  const tags = sesTags(options.tags ?? {});
  // The turn is taken in the SDK's innermost step, just before the request leaves: its own work
  // (serialising, signing) then happens before the slot, and cannot push requests together.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendEmailCommand') await pace.turn();
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'heraldPace' },
  );
  return {
    description: `ses:${options.region}`,
    async send(message) {
      const { envelope, raw } = compose(message);
      const data = signer ? await signForSes(signer, raw) : raw;
      const full = await pace.take();
      if (full) return { ok: false, permanent: false, reason: full, pausedUntil: pace.reopens() };
      for (let attempt = 1; ; attempt++) {
        try {
          const sent = await client.send(
            new SendEmailCommand({
              FromEmailAddress: envelope.from,
              Destination: { ToAddresses: envelope.to },
              Content: { Raw: { Data: data } },
              ...(options.configurationSet ? { ConfigurationSetName: options.configurationSet } : {}),
              ...(tags.length ? { EmailTags: tags } : {}),
            }),
          );
          // The id SES's bounce and complaint notifications name the message by.
          return { ok: true, ...(sent.MessageId ? { providerId: sent.MessageId } : {}) };
        } catch (caught) {
          const error = caught as SesError;
          if (isDailyQuota(error)) {
            pace.giveBack();
            pace.fill();
            return { ok: false, permanent: false, reason: reasonOf(error), pausedUntil: pace.reopens() };
          }
          if (isThrottling(error) && attempt < THROTTLE_TRIES) {
            pace.pause(THROTTLE_BACKOFF_MS * 2 ** (attempt - 1) * (0.75 + Math.random() / 2));
            continue;
          }
          pace.giveBack();
          return classifySesError(error, envelope);
        }
      }
    },
    async close() {
      client.destroy();
    },
  };
}
