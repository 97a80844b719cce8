// Postmark's HTTP API as a transport: up to 500 messages a call through /email/batch, each
// message's own result read from the answer. A call whose answer never comes is the core's to
// reconcile (the messages are recorded as submitted first): `find` asks Postmark's message search
// by the metadata herald puts on every message.
import { HeraldError } from '../../errors.js';
import { bareMessageId } from '../../newsletter/email/message.js';
import { personalise } from '../../newsletter/email/render.js';
import type { BatchApi, MailTransport, OutgoingMessage, SendResult } from '../../newsletter/ports.js';

export interface PostmarkOptions {
  /** The server's API token. */
  token: string;
  /** https://api.postmarkapp.com, or a stand-in for tests. */
  endpoint: string;
  /** The message stream: "broadcast" for newsletters (Postmark keeps them apart from transactional mail). */
  stream: string;
  /** How long a call may take before its fate counts as unknown. */
  timeoutMs?: number;
}

/** Postmark takes at most 500 messages a batch call. */
const BATCH_SIZE = 500;
// Postmark's error codes that are about the recipient, not the call: never mailed again.
// 300: an invalid email request (a malformed address); 406: the address is inactive at Postmark
// (it hard bounced, complained or unsubscribed there).
const RECIPIENT_REFUSED = new Set([300, 406]);

/** The options in a postmark:// URL: postmark://TOKEN@api.postmarkapp.com?stream=broadcast (http only for a loopback stand-in). */
export function postmarkOptions(url: URL): PostmarkOptions {
  const token = decodeURIComponent(url.username);
  if (!token) throw new HeraldError({ code: 'E_CONFIG', field: 'smtp.url', message: 'smtp.url: a postmark:// URL needs the server token as its user name', hint: 'write postmark://SERVER_TOKEN@api.postmarkapp.com?stream=broadcast' });
  const stream = url.searchParams.get('stream') ?? 'broadcast';
  if (!/^[\w-]+$/.test(stream)) throw new HeraldError({ code: 'E_CONFIG', field: 'smtp.url', message: `smtp.url: the postmark:// URL's stream ${JSON.stringify(stream)} is not a message stream's ID`, hint: 'write ?stream=broadcast (the ID of the broadcast stream in your Postmark server), or leave it out' });
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
  return { token, endpoint: `${loopback ? 'http' : 'https'}://${url.host}`, stream };
}

export function postmarkTransport(options: PostmarkOptions): MailTransport {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const answer = await fetch(`${options.endpoint}${path}`, {
      method,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-Postmark-Server-Token': options.token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await answer.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: answer.status, json };
  };

  const batch: BatchApi = {
    size: BATCH_SIZE,
    async send(messages) {
      // Throws on a timeout or a dropped connection: the messages' fate is unknown.
      const { status, json } = await call('POST', '/email/batch', messages.map((message) => toPostmark(message, options.stream)));
      if (status !== 200 || !Array.isArray(json)) {
        // The call was refused whole (a wrong token, a rate limit, Postmark down): nothing was taken.
        const reason = `Postmark refused the call: ${status} ${describeError(json)}`;
        return messages.map((): SendResult => ({ ok: false, permanent: false, reason }));
      }
      return messages.map((_, index): SendResult => resultOf(json[index]));
    },
    async find(messageIds) {
      const found = new Map<string, { providerId: string } | undefined>();
      for (const id of messageIds) {
        const { status, json } = await call('GET', `/messages/outbound?count=1&offset=0&metadata_herald=${encodeURIComponent(metadataOf(id))}`);
        if (status !== 200) throw new Error(`Postmark's message search answered ${status} ${describeError(json)}`);
        const first = (json as { Messages?: { MessageID?: string }[] }).Messages?.[0]?.MessageID;
        found.set(id, first ? { providerId: first } : undefined);
      }
      return found;
    },
  };

  return {
    description: `postmark:${options.stream}`,
    batch,
    async send(message) {
      // One message is a batch of one: the same answer to read, the same errors.
      try {
        return (await batch.send([message]))[0]!;
      } catch (error) {
        return { ok: false, permanent: false, reason: `Postmark did not answer: ${(error as Error).message}` };
      }
    },
    async close() {},
  };
}

/** A message as Postmark's API takes it; the Message-ID's digest goes in as metadata, to find it again. */
function toPostmark(message: OutgoingMessage, stream: string): Record<string, unknown> {
  const { html, text } = personalise(message.body.draft, message.body.recipient);
  const headers = [{ Name: 'Message-ID', Value: message.messageId }];
  if (message.list) {
    headers.push({ Name: 'List-Id', Value: `${message.list.name} <${message.list.id}>` });
    headers.push({ Name: 'List-Unsubscribe', Value: [message.list.unsubscribe, message.list.mailto].filter(Boolean).map((target) => `<${target}>`).join(', ') });
    headers.push({ Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' });
  }
  return {
    From: message.from,
    To: message.to.name ? `"${message.to.name.replace(/["\\]/g, '')}" <${message.to.address}>` : message.to.address,
    ...(message.replyTo ? { ReplyTo: message.replyTo } : {}),
    Subject: message.subject,
    HtmlBody: html,
    TextBody: text,
    Headers: headers,
    MessageStream: stream,
    Metadata: { herald: metadataOf(message.messageId) },
    TrackOpens: false,
    TrackLinks: 'None',
  };
}

/** Postmark's metadata values are short strings: the Message-ID's digest, before the @. */
function metadataOf(messageId: string): string {
  return bareMessageId(messageId).split('@')[0]!;
}

function resultOf(entry: unknown): SendResult {
  const { ErrorCode, Message, MessageID } = (entry ?? {}) as { ErrorCode?: number; Message?: string; MessageID?: string };
  if (ErrorCode === 0 && MessageID) return { ok: true, providerId: MessageID };
  if (ErrorCode === undefined) return { ok: false, permanent: false, reason: "Postmark's answer has no result for this message" };
  return { ok: false, permanent: RECIPIENT_REFUSED.has(ErrorCode), reason: `Postmark ${ErrorCode}: ${Message ?? 'refused'}` };
}

function describeError(json: unknown): string {
  const { ErrorCode, Message } = (json ?? {}) as { ErrorCode?: number; Message?: string };
  return ErrorCode !== undefined ? `(${ErrorCode}: ${Message ?? ''})` : '';
}
