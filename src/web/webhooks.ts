// The webhooks mail providers call with what came back after sending: Amazon SES through SNS
// (signed by AWS), Postmark (its key in the URL's credentials) and a generic one (an HMAC of the
// body). A call that is not authentic is answered 400 and changes nothing; what is authentic goes
// to the core, which matches each report to a message herald sent and decides.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FeedbackResult } from '../newsletter/feedback.js';
import { HttpError, methodNotAllowed } from './http.js';
import { genericFeedback, parseJson, postmarkFeedback, sesFeedback, verifySnsMessage, WebhookRefused } from './provider-events.js';
import type { RouteContext } from './routes.js';

/** SNS messages are at most 256 KB; a batch of Postmark or generic events as much. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

export interface WebhookContext extends RouteContext {
  readRaw: (request: IncomingMessage, limit: number) => Promise<Buffer>;
  /** GETs a URL already checked to be AWS's (a signing certificate, a subscription to confirm). */
  fetchFromAws: (url: string) => Promise<string>;
}

export async function webhookRoute(context: WebhookContext, name: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    if (!WEBHOOKS.has(name)) throw new HttpError(404, 'There is no such webhook.');
    if (request.method !== 'POST') throw methodNotAllowed(['POST']);
    const raw = await context.readRaw(request, WEBHOOK_BODY_LIMIT);
    if (name === 'ses') return await ses(context, raw, response);
    if (name === 'postmark') {
      if (!context.newsletter.isWebhookKey('postmark', credentials(request))) throw new WebhookRefused('the Postmark webhook key is missing or wrong');
      return await apply(context, response, 'postmark', postmarkFeedback(parseJson(raw.toString('utf8'), 'Postmark webhook')));
    }
    if (name === 'bounce') return await apply(context, response, 'bounce', genericFeedback(raw, header(request, 'x-herald-signature'), context.newsletter.webhookKey('bounce')));
  } catch (error) {
    // Providers read JSON: every answer of a webhook is one, errors too.
    if (error instanceof HttpError) return json(response, error.status, { error: error.message }, error.headers);
    if (!(error instanceof WebhookRefused)) throw error;
    context.log?.(`webhook ${name} refused: ${error.message}`);
    return json(response, 400, { error: error.message });
  }
}

const WEBHOOKS = new Set(['ses', 'postmark', 'bounce']);

async function ses(context: WebhookContext, raw: Buffer, response: ServerResponse): Promise<void> {
  const message = await verifySnsMessage(raw.toString('utf8'), { fetchCertificate: context.fetchFromAws });
  const topics = context.config.web.sesTopics;
  if (topics.length && !topics.includes(message.topicArn)) throw new WebhookRefused(`SNS topic ${message.topicArn} is not in web.sesTopics`);
  if (message.type === 'SubscriptionConfirmation') {
    // Signed by AWS and on AWS's host: confirming it is what lets SES's events flow.
    await context.fetchFromAws(message.subscribeUrl!);
    context.log?.(`webhook ses: confirmed the SNS subscription to ${message.topicArn}`);
    return json(response, 200, { confirmed: message.topicArn });
  }
  if (message.type === 'UnsubscribeConfirmation') {
    context.log?.(`webhook ses: SNS says the subscription to ${message.topicArn} ended`);
    return json(response, 200, {});
  }
  return apply(context, response, 'ses', sesFeedback(message.message));
}

async function apply(context: WebhookContext, response: ServerResponse, name: string, reports: Parameters<RouteContext['newsletter']['feedback']>[0]): Promise<void> {
  const results = await context.newsletter.feedback(reports);
  for (const result of results) if (result.result === 'applied' && result.outcome !== 'unchanged') context.log?.(`webhook ${name}: ${describe(result)}`);
  // 200 even for reports that match nothing: a provider retries anything else for hours.
  json(response, 200, { applied: count(results, 'applied'), repeated: count(results, 'repeated'), unmatched: count(results, 'unmatched') });
}

const count = (results: FeedbackResult[], kind: FeedbackResult['result']) => results.filter((result) => result.result === kind).length;
const describe = (result: FeedbackResult) => `${result.email} ${result.outcome} (${result.feedback.reason})`;

/** The key given as the password of the URL's credentials (https://postmark:KEY@host/...), which reach herald as Basic auth (never in a query string, which logs keep). */
function credentials(request: IncomingMessage): string {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header(request, 'authorization') ?? '');
  return basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').slice(1).join(':') : '';
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function json(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  // After a body too large the connection is not reused: the client may still be sending it.
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...(status === 413 ? { Connection: 'close' } : {}), ...headers });
  response.end(JSON.stringify(body));
}

/** GETs from AWS with a time limit, no redirects (they could lead off AWS's hosts) and a size limit. */
export async function fetchFromAws(url: string): Promise<string> {
  let answer: Response;
  try {
    answer = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new WebhookRefused(`could not fetch ${url}: ${(error as Error).message}`);
  }
  const text = await answer.text();
  if (!answer.ok || text.length > 64 * 1024) throw new WebhookRefused(`could not fetch ${url}: ${answer.status}${text.length > 64 * 1024 ? ', too large' : ''}`);
  return text;
}
