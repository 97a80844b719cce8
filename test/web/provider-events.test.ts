import assert from 'node:assert/strict';
import { createHmac, createSign, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { genericFeedback, postmarkFeedback, sesFeedback, verifySnsMessage, WebhookRefused } from '../../src/web/provider-events.js';
import { makeSigner, signSns, type SnsFields, type SnsSigner } from '../sns.js';

// ---- SNS: a real RSA key and self-signed certificate stand in for AWS's (test/sns.ts) ----

const [aws, impostor] = await Promise.all([makeSigner(), makeSigner()]);
const sign = (message: SnsFields, { version = '1', signer = aws }: { version?: '1' | '2'; signer?: SnsSigner } = {}) => signSns(message, signer, version);
// After the certificates were made, so they are valid at NOW.
const NOW = Date.now();
const now = () => new Date(NOW);
const ago = (ms: number) => new Date(NOW - ms).toISOString();

/** A URL never used before: the module keeps certificates by URL across tests. */
function certificateUrl(region = 'us-west-2'): string {
  return `https://sns.${region}.amazonaws.com/SimpleNotificationService-${randomUUID().replaceAll('-', '')}.pem`;
}

// The examples of "HTTP/HTTPS notification JSON format" in the SNS developer guide, sent now.
function notification(fields: SnsFields = {}): SnsFields {
  return {
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
    Subject: 'My First Message',
    Message: 'Hello world!',
    Timestamp: ago(1000),
    SigningCertURL: certificateUrl(),
    UnsubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96',
    ...fields,
  };
}

/** The message without `key`, as SNS sends a notification published without a Subject. */
function without(message: SnsFields, key: string): SnsFields {
  return Object.fromEntries(Object.entries(message).filter(([name]) => name !== key));
}

function confirmation(fields: SnsFields = {}): SnsFields {
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token: '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
    TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
    Message: 'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.',
    SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
    Timestamp: ago(1000),
    SigningCertURL: certificateUrl(),
    ...fields,
  };
}

/** A certificate fetcher that serves `pem` and remembers what it was asked for. */
function fetcher(pem = aws.certificate) {
  const calls: string[] = [];
  return { calls, now, fetchCertificate: async (url: string) => (calls.push(url), pem) };
}

const refusal = (message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof WebhookRefused, `a WebhookRefused, not ${String(error)}`);
  assert.match(error.message, message);
  return true;
};

test('SNS: a Notification signed over the exact string AWS documents (SignatureVersion 1, SHA1withRSA) is accepted', async () => {
  const message = notification();
  const signed = [
    'Message', 'Hello world!',
    'MessageId', '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    'Subject', 'My First Message',
    'Timestamp', message.Timestamp,
    'TopicArn', 'arn:aws:sns:us-west-2:123456789012:MyTopic',
    'Type', 'Notification',
  ].join('\n') + '\n';
  const body = { ...message, SignatureVersion: '1', Signature: createSign('RSA-SHA1').update(signed).sign(aws.key, 'base64') };
  const certificates = fetcher();
  assert.deepEqual(await verifySnsMessage(body, certificates), {
    type: 'Notification',
    message: 'Hello world!',
    topicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  });
  assert.deepEqual(certificates.calls, [message.SigningCertURL]);
});

test('SNS: SignatureVersion 2 (SHA256withRSA), no Subject, a China region, and the body as text all pass', async () => {
  const certificates = fetcher();
  for (const body of [
    sign(notification(), { version: '2' }),
    sign(without(notification(), 'Subject'), { version: '2' }),
    sign(without(notification(), 'Subject')),
    sign(notification({ SigningCertURL: certificateUrl('cn-north-1').replace('.com/', '.com.cn/') })),
  ]) {
    assert.equal((await verifySnsMessage(body, certificates)).message, 'Hello world!');
    assert.equal((await verifySnsMessage(JSON.stringify(body), certificates)).type, 'Notification', 'SNS posts text/plain');
  }
});

test('SNS: a SubscriptionConfirmation gives its SubscribeURL; an UnsubscribeConfirmation is signed the same way', async () => {
  const certificates = fetcher();
  const confirmed = await verifySnsMessage(sign(confirmation()), certificates);
  assert.equal(confirmed.type, 'SubscriptionConfirmation');
  assert.equal(confirmed.subscribeUrl, confirmation().SubscribeURL);
  assert.equal(confirmed.topicArn, 'arn:aws:sns:us-west-2:123456789012:MyTopic');
  const unsubscribed = await verifySnsMessage(sign(confirmation({ Type: 'UnsubscribeConfirmation' }), { version: '2' }), certificates);
  assert.equal(unsubscribed.type, 'UnsubscribeConfirmation');
});

test('SNS: a changed message, a wrong key, or a signature of the wrong kind is refused', async () => {
  const certificates = fetcher();
  const good = sign(notification());
  const cases: [string, SnsFields][] = [
    ['changed Message', { ...good, Message: 'Hello world?' }],
    ['changed Subject', { ...good, Subject: 'Another subject' }],
    ['Subject dropped', without(good, 'Subject')],
    ['changed TopicArn', { ...good, TopicArn: 'arn:aws:sns:us-west-2:999999999999:Other' }],
    ['another key', sign(notification(), { signer: impostor })],
    ['SHA256 signature called version 1', { ...sign(notification(), { version: '2' }), SignatureVersion: '1' }],
    ['garbage', { ...good, Signature: 'bm90IGEgc2lnbmF0dXJl' }],
  ];
  for (const [name, body] of cases) {
    await assert.rejects(verifySnsMessage(body, certificates), refusal(/signature does not match/), name);
  }
  const unsigned = sign(confirmation());
  await assert.rejects(verifySnsMessage({ ...unsigned, Token: 'another-token' }, certificates), refusal(/signature does not match/));
});

test('SNS: a certificate URL that is not https, not on an SNS host or not a .pem is refused without fetching', async () => {
  const certificates = fetcher();
  const urls = [
    'https://sns.s3.amazonaws.com/SimpleNotificationService-1.pem', // an S3 bucket named sns, not SNS
    'https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-1.pem',
    'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.txt',
    'https://sns.us-east-1.amazonaws.com/cert.pem/',
    'https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem',
    'https://s3.amazonaws.com/SimpleNotificationService-1.pem',
    'https://evilsns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://sns.us_east.amazonaws.com/SimpleNotificationService-1.pem',
    'file:///etc/passwd.pem',
    'not a url',
  ];
  for (const url of urls) {
    await assert.rejects(verifySnsMessage(sign(notification({ SigningCertURL: url })), certificates), refusal(/SigningCertURL .* is not an https \.pem on an SNS host/), url);
  }
  assert.deepEqual(certificates.calls, []);
});

test('SNS: a SubscribeURL off the SNS hosts is refused, however well signed', async () => {
  const certificates = fetcher();
  for (const url of ['https://evil.com/?Action=ConfirmSubscription', 'http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription']) {
    await assert.rejects(verifySnsMessage(sign(confirmation({ SubscribeURL: url })), certificates), refusal(/SubscribeURL .* is not https on an SNS host/), url);
  }
  assert.deepEqual(certificates.calls, []);
});

test('SNS: a Timestamp over an hour old or over 5 minutes ahead is refused as a replay, before fetching', async () => {
  const certificates = fetcher();
  const minute = 60_000;
  await assert.rejects(verifySnsMessage(sign(notification({ Timestamp: ago(61 * minute) })), certificates), refusal(/more than an hour old/));
  await assert.rejects(verifySnsMessage(sign(notification({ Timestamp: ago(-6 * minute) })), certificates), refusal(/more than 5 minutes in the future/));
  await assert.rejects(verifySnsMessage(sign(notification({ Timestamp: 'yesterday' })), certificates), refusal(/Timestamp "yesterday" is not a date/));
  assert.deepEqual(certificates.calls, []);
  // Within the window: SNS' own retries (an hour at most) and a little clock skew.
  await verifySnsMessage(sign(notification({ Timestamp: ago(59 * minute) })), certificates);
  await verifySnsMessage(sign(notification({ Timestamp: ago(-4 * minute) })), certificates);
});

test('SNS: bodies that are not SNS messages are refused with what is wrong', async () => {
  const certificates = fetcher();
  const { Signature: _, ...unsigned } = sign(notification());
  const cases: [unknown, RegExp][] = [
    ['{not json', /SNS message is not JSON/],
    [[], /SNS message is not a JSON object/],
    [null, /SNS message is not a JSON object/],
    [{ ...sign(notification()), Type: 'Other' }, /Type is "Other"/],
    [{ ...sign(notification()), SignatureVersion: '3' }, /SignatureVersion "3" is not supported/],
    [{ ...sign(notification()), SignatureVersion: 'constructor' }, /SignatureVersion "constructor" is not supported/],
    [unsigned, /Signature is missing/],
    [{ ...sign(notification()), MessageId: '' }, /MessageId is missing/],
    [{ ...sign(notification()), SigningCertURL: undefined }, /SigningCertURL is missing/],
    [{ ...sign(confirmation()), SubscribeURL: undefined }, /SubscribeURL is missing/],
  ];
  for (const [body, message] of cases) await assert.rejects(verifySnsMessage(body, certificates), refusal(message), String(message));
});

test('SNS: a certificate that cannot be fetched, is not one, or has expired is refused; a failed fetch is tried again', async () => {
  const url = certificateUrl();
  let fails = true;
  const flaky = async () => {
    if (fails) throw new Error('connect ETIMEDOUT');
    return aws.certificate;
  };
  await assert.rejects(verifySnsMessage(sign(notification({ SigningCertURL: url })), { fetchCertificate: flaky, now }), refusal(/could not fetch the SNS signing certificate .*ETIMEDOUT/));
  fails = false;
  await verifySnsMessage(sign(notification({ SigningCertURL: url })), { fetchCertificate: flaky, now });

  await assert.rejects(verifySnsMessage(sign(notification()), fetcher('<html>Not found</html>')), refusal(/is not a PEM certificate/));

  // The test certificate is valid for two days; three days on, it has expired.
  const later = NOW + 3 * 24 * 3600_000;
  const expired = sign(notification({ Timestamp: new Date(later).toISOString() }));
  await assert.rejects(verifySnsMessage(expired, { ...fetcher(), now: () => new Date(later) }), refusal(/is not valid now/));
});

test('SNS: certificates are kept by URL, a burst fetching one once, and only the last 20 are kept', async () => {
  const certificates = fetcher();
  const url = certificateUrl();
  await Promise.all(Array.from({ length: 10 }, () => verifySnsMessage(sign(notification({ SigningCertURL: url })), certificates)));
  assert.deepEqual(certificates.calls, [url], 'concurrent messages share one fetch');

  for (let i = 0; i < 5; i++) await verifySnsMessage(sign(notification()), certificates);
  await verifySnsMessage(sign(notification({ SigningCertURL: url })), certificates);
  assert.equal(certificates.calls.filter((called) => called === url).length, 1, 'still kept after a few others');

  for (let i = 0; i < 20; i++) await verifySnsMessage(sign(notification()), certificates);
  await verifySnsMessage(sign(notification({ SigningCertURL: url })), certificates);
  assert.equal(certificates.calls.filter((called) => called === url).length, 2, 'forgotten after 20 others');
});

// ---- SES: samples from "Amazon SNS notification examples for Amazon SES" and "Examples of event
// data that Amazon SES publishes to Amazon SNS", with fewer headers ----

const SES_HEADERS = {
  headersTruncated: false,
  headers: [
    { name: 'From', value: '"John Doe" <john@example.com>' },
    { name: 'To', value: '"Jane Doe" <jane@example.com>, "Mary Doe" <mary@example.com>, "Richard Doe" <richard@example.com>' },
    { name: 'Message-ID', value: 'custom-message-ID' },
    { name: 'Subject', value: 'Hello' },
  ],
  commonHeaders: {
    from: ['John Doe <john@example.com>'],
    date: 'Wed, 27 Jan 2016 14:05:45 +0000',
    to: ['Jane Doe <jane@example.com>, Mary Doe <mary@example.com>, Richard Doe <richard@example.com>'],
    messageId: 'custom-message-ID',
    subject: 'Hello',
  },
};

function sesMail(messageId: string, extra: object = SES_HEADERS) {
  return {
    timestamp: '2016-01-27T14:59:38.237Z',
    source: 'john@example.com',
    sourceArn: 'arn:aws:ses:us-east-1:888888888888:identity/example.com',
    sourceIp: '127.0.3.0',
    sendingAccountId: '123456789012',
    messageId,
    destination: ['jane@example.com', 'mary@example.com', 'richard@example.com'],
    ...extra,
  };
}

function sesBounceWithDsn(bounce: object = {}): string {
  return JSON.stringify({
    notificationType: 'Bounce',
    bounce: {
      bounceType: 'Permanent',
      reportingMTA: 'dns; email.example.com',
      bouncedRecipients: [{ emailAddress: 'jane@example.com', status: '5.1.1', action: 'failed', diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>... User' }],
      bounceSubType: 'General',
      timestamp: '2016-01-27T14:59:38.237Z',
      feedbackId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000',
      remoteMtaIp: '127.0.2.0',
      ...bounce,
    },
    mail: sesMail('00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000'),
  });
}

function sesBounceWithoutDsn(): string {
  return JSON.stringify({
    notificationType: 'Bounce',
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: 'jane@example.com' }, { emailAddress: 'richard@example.com' }],
      timestamp: '2016-01-27T14:59:38.237Z',
      feedbackId: '00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000',
      remoteMtaIp: '127.0.2.0',
    },
    mail: sesMail('00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000'),
  });
}

function sesComplaint(complaint: object = {}): string {
  return JSON.stringify({
    notificationType: 'Complaint',
    complaint: {
      userAgent: 'AnyCompany Feedback Loop (V0.01)',
      complainedRecipients: [{ emailAddress: 'richard@example.com' }],
      complaintFeedbackType: 'abuse',
      arrivalDate: '2016-01-27T14:59:38.237Z',
      timestamp: '2016-01-27T14:59:38.237Z',
      feedbackId: '000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000',
      ...complaint,
    },
    mail: sesMail('000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000'),
  });
}

function sesDelivery(): string {
  return JSON.stringify({
    notificationType: 'Delivery',
    mail: { ...sesMail('0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000'), destination: ['jane@example.com'] },
    delivery: {
      timestamp: '2016-01-27T14:59:38.237Z',
      recipients: ['jane@example.com'],
      processingTimeMillis: 546,
      reportingMTA: 'a8-70.smtp-out.amazonses.com',
      smtpResponse: '250 ok:  Message 64111812 accepted',
      remoteMtaIp: '127.0.2.0',
    },
  });
}

const EVENT_MESSAGE_ID = 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000';

/** An event-publishing record; its commonHeaders.messageId is SES' own id, as in AWS's samples. */
function sesEvent(eventType: string, detail: object): string {
  return JSON.stringify({
    eventType,
    ...detail,
    mail: {
      timestamp: '2017-08-05T00:40:02.012Z',
      source: 'Sender Name <sender@example.com>',
      sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/sender@example.com',
      sendingAccountId: '123456789012',
      messageId: EVENT_MESSAGE_ID,
      destination: ['recipient@example.com'],
      headersTruncated: false,
      headers: [{ name: 'From', value: 'Sender Name <sender@example.com>' }, { name: 'To', value: 'recipient@example.com' }],
      commonHeaders: { from: ['Sender Name <sender@example.com>'], to: ['recipient@example.com'], messageId: EVENT_MESSAGE_ID, subject: 'Message sent from Amazon SES' },
      tags: { 'ses:configuration-set': ['ConfigSet'], 'ses:source-ip': ['192.0.2.0'], 'ses:from-domain': ['example.com'], 'ses:caller-identity': ['ses_user'] },
    },
  });
}

test('SES bounce notifications: one permanent bounce per recipient, with the DSN line when there is one', () => {
  assert.deepEqual(sesFeedback(sesBounceWithDsn()), [{
    kind: 'bounce',
    permanent: true,
    recipient: 'jane@example.com',
    at: '2016-01-27T14:59:38.237Z',
    reason: 'smtp; 550 5.1.1 <jane@example.com>... User',
    providerId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
    messageId: 'custom-message-ID',
    source: 'ses',
  }]);
  const withoutDsn = sesFeedback(sesBounceWithoutDsn());
  assert.deepEqual(withoutDsn.map((feedback) => [feedback.recipient, feedback.permanent, feedback.reason]), [
    ['jane@example.com', true, 'Permanent bounce (General)'],
    ['richard@example.com', true, 'Permanent bounce (General)'],
  ]);
  assert.equal(withoutDsn[0]?.providerId, '00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000');
});

test('SES bounces: Transient and Undetermined are not permanent; the status stands in for a missing diagnostic code', () => {
  const transient = sesFeedback(sesBounceWithDsn({ bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'jane@example.com', status: '4.2.2', action: 'delayed' }] }));
  assert.deepEqual(transient.map((feedback) => [feedback.permanent, feedback.reason]), [[false, '4.2.2']]);
  assert.equal(sesFeedback(sesBounceWithDsn({ bounceType: 'Undetermined', bounceSubType: 'Undetermined' }))[0]?.permanent, false);
});

test('SES complaint notifications: one complaint per recipient, the feedback type as the reason', () => {
  assert.deepEqual(sesFeedback(sesComplaint()), [{
    kind: 'complaint',
    permanent: false,
    recipient: 'richard@example.com',
    at: '2016-01-27T14:59:38.237Z',
    reason: 'abuse',
    providerId: '000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000',
    messageId: 'custom-message-ID',
    source: 'ses',
  }]);
  // Without a feedback report (no complaintFeedbackType, no userAgent).
  assert.equal(sesFeedback(sesComplaint({ complaintFeedbackType: undefined, userAgent: undefined }))[0]?.reason, 'complaint');
});

test('SES delivery notifications: one delivery per recipient, with the receiving server\'s answer', () => {
  assert.deepEqual(sesFeedback(sesDelivery()), [{
    kind: 'delivery',
    permanent: false,
    recipient: 'jane@example.com',
    at: '2016-01-27T14:59:38.237Z',
    reason: '250 ok:  Message 64111812 accepted',
    providerId: '0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000',
    messageId: 'custom-message-ID',
    source: 'ses',
  }]);
});

test('SES event publishing: Bounce, Complaint and Delivery records; SES\' own id is not taken for a Message-ID', () => {
  const bounce = sesFeedback(sesEvent('Bounce', {
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: 'recipient@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
      timestamp: '2017-08-05T00:41:02.669Z',
      feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
      reportingMTA: 'dsn; mta.example.com',
    },
  }));
  assert.deepEqual(bounce, [{ kind: 'bounce', permanent: true, recipient: 'recipient@example.com', at: '2017-08-05T00:41:02.669Z', reason: 'smtp; 550 5.1.1 user unknown', providerId: EVENT_MESSAGE_ID, source: 'ses' }]);

  const complaint = sesFeedback(sesEvent('Complaint', {
    complaint: {
      complainedRecipients: [{ emailAddress: 'recipient@example.com' }],
      timestamp: '2017-08-05T00:41:02.669Z',
      feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36',
      complaintFeedbackType: 'abuse',
      arrivalDate: '2017-08-05T00:41:02.669Z',
    },
  }));
  assert.deepEqual(complaint.map((feedback) => [feedback.kind, feedback.recipient, feedback.reason, feedback.messageId]), [['complaint', 'recipient@example.com', 'abuse', undefined]]);

  const delivery = sesFeedback(sesEvent('Delivery', {
    delivery: { timestamp: '2016-10-19T23:21:04.133Z', processingTimeMillis: 11893, recipients: ['recipient@example.com'], smtpResponse: '250 2.6.0 Message received', reportingMTA: 'mta.example.com' },
  }));
  assert.deepEqual(delivery.map((feedback) => [feedback.kind, feedback.at, feedback.reason]), [['delivery', '2016-10-19T23:21:04.133Z', '250 2.6.0 Message received']]);
});

test('SES: herald\'s Message-ID is given without angle brackets', () => {
  const message = JSON.parse(sesDelivery()) as { mail: { commonHeaders: { messageId: string } } };
  message.mail.commonHeaders.messageId = '<0f3a9c@news.example.com>';
  assert.equal(sesFeedback(JSON.stringify(message))[0]?.messageId, '0f3a9c@news.example.com');
});

test('SES: other event and notification types give nothing', () => {
  assert.deepEqual(sesFeedback(sesEvent('Send', { send: {} })), []);
  assert.deepEqual(sesFeedback(sesEvent('Reject', { reject: { reason: 'Bad content' } })), []);
  assert.deepEqual(sesFeedback(sesEvent('Open', { open: { ipAddress: '192.0.2.1', timestamp: '2017-08-09T22:00:19.652Z', userAgent: 'Mozilla/5.0' } })), []);
  assert.deepEqual(sesFeedback(sesEvent('Click', { click: { link: 'https://example.com/', timestamp: '2017-08-09T23:51:25.570Z' } })), []);
  assert.deepEqual(sesFeedback(sesEvent('DeliveryDelay', { deliveryDelay: { delayType: 'TransientCommunicationFailure', delayedRecipients: [{ emailAddress: 'recipient@example.com' }] } })), []);
  // What SES publishes once, when a topic is set up for an identity.
  assert.deepEqual(sesFeedback(JSON.stringify({ notificationType: 'AmazonSnsSubscriptionSucceeded', message: 'You have successfully subscribed your Amazon SNS topic' })), []);
});

test('SES: malformed notifications are refused with what is wrong', () => {
  const broken = (edit: (message: Record<string, Record<string, unknown>>) => void) => {
    const message = JSON.parse(sesBounceWithDsn()) as Record<string, Record<string, unknown>>;
    edit(message);
    return JSON.stringify(message);
  };
  const cases: [string, RegExp][] = [
    ['Hello world!', /SES notification is not JSON/],
    ['[]', /SES notification is not a JSON object/],
    ['{}', /no notificationType or eventType/],
    [broken((message) => delete message.mail), /SES mail is not a JSON object/],
    [broken((message) => delete message.mail!.messageId), /SES mail: messageId is missing/],
    [broken((message) => delete message.bounce), /SES bounce is not a JSON object/],
    [broken((message) => delete message.bounce!.bounceType), /SES bounce: bounceType is missing/],
    [broken((message) => (message.bounce!.bouncedRecipients = [])), /bouncedRecipients is missing or empty/],
    [broken((message) => (message.bounce!.bouncedRecipients = [{ status: '5.1.1' }])), /SES bounced recipient: emailAddress is missing/],
    [JSON.stringify({ ...JSON.parse(sesDelivery()), delivery: { recipients: [42] } }), /SES delivery: recipients is not a list of addresses/],
  ];
  for (const [message, error] of cases) assert.throws(() => sesFeedback(message), refusal(error), String(error));
});

test('SNS to SES, end to end: a signed notification carrying a bounce', async () => {
  const { type, message } = await verifySnsMessage(sign(without(notification({ Message: sesBounceWithDsn() }), 'Subject'), { version: '2' }), fetcher());
  assert.equal(type, 'Notification');
  assert.deepEqual(sesFeedback(message).map((feedback) => [feedback.kind, feedback.recipient, feedback.permanent]), [['bounce', 'jane@example.com', true]]);
});

// ---- Postmark: samples from the bounce, spam complaint, delivery and subscription change
// webhook pages of Postmark's developer documentation ----

function postmarkBounce(fields: object = {}) {
  return {
    RecordType: 'Bounce',
    MessageStream: 'outbound',
    ID: 4323372036854775807,
    Type: 'HardBounce',
    TypeCode: 1,
    Name: 'Hard bounce',
    Tag: 'Test',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    Metadata: { a_key: 'a_value', b_key: 'b_value' },
    ServerID: 23,
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: 'Test bounce details',
    Email: 'john@example.com',
    From: 'sender@example.com',
    BouncedAt: '2019-11-05T16:33:54.9070259Z',
    DumpAvailable: true,
    Inactive: true,
    CanActivate: true,
    Subject: 'Test subject',
    Content: '<Full dump of bounce>',
    ...fields,
  };
}

function postmarkSpamComplaint() {
  return {
    RecordType: 'SpamComplaint',
    MessageStream: 'outbound',
    ID: 42,
    Type: 'SpamComplaint',
    TypeCode: 512,
    Name: 'Spam complaint',
    Tag: 'Test',
    MessageID: '00000000-0000-0000-0000-000000000000',
    Metadata: { a_key: 'a_value', b_key: 'b_value' },
    ServerID: 1234,
    Description: '',
    Details: 'Test spam complaint details',
    Email: 'john@example.com',
    From: 'sender@example.com',
    BouncedAt: '2019-11-05T16:33:54.9070259Z',
    DumpAvailable: true,
    Inactive: true,
    CanActivate: false,
    Subject: 'Test subject',
    Content: '<Abuse report dump>',
  };
}

function postmarkDelivery() {
  return {
    RecordType: 'Delivery',
    ServerID: 23,
    MessageStream: 'outbound',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    Recipient: 'john@example.com',
    Tag: 'welcome-email',
    DeliveredAt: '2014-08-01T13:28:10.2735393-04:00',
    Details: 'Test delivery webhook details',
    Metadata: { a_key: 'a_value', b_key: 'b_value' },
  };
}

function postmarkSubscriptionChange(fields: object = {}) {
  return {
    RecordType: 'SubscriptionChange',
    MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
    ServerID: 123456,
    MessageStream: 'broadcast',
    ChangedAt: '2020-02-01T10:53:34.416071Z',
    Recipient: 'bounced-address@wildbit.com',
    Origin: 'Recipient',
    SuppressSending: true,
    SuppressionReason: 'HardBounce',
    Tag: 'my-tag',
    Metadata: { example: 'value', example_2: 'value' },
    ...fields,
  };
}

test('Postmark: a hard bounce, with the bounce\'s details as the reason', () => {
  assert.deepEqual(postmarkFeedback(postmarkBounce()), [{
    kind: 'bounce',
    permanent: true,
    recipient: 'john@example.com',
    at: '2019-11-05T16:33:54.9070259Z',
    reason: 'Test bounce details',
    providerId: '883953f4-6105-42a2-a16a-77a8eac79483',
    source: 'postmark',
  }]);
  assert.equal(postmarkFeedback(postmarkBounce({ Details: '' }))[0]?.reason, postmarkBounce().Description, 'the description when there are no details');
});

test('Postmark: every bounce type is mapped by what it says about the mailbox', () => {
  const outcome = (Type: string) => postmarkFeedback(postmarkBounce({ Type })).map((feedback) => `${feedback.kind}${feedback.kind === 'bounce' ? (feedback.permanent ? ' permanent' : ' transient') : ''}`);
  for (const type of ['HardBounce', 'BadEmailAddress']) assert.deepEqual(outcome(type), ['bounce permanent'], type);
  for (const type of ['SoftBounce', 'Transient', 'DnsError', 'AutoResponder', 'Blocked', 'DMARCPolicy', 'SpamNotification', 'Unknown']) assert.deepEqual(outcome(type), ['bounce transient'], type);
  assert.deepEqual(outcome('SpamComplaint'), ['complaint']);
  for (const type of ['Subscribe', 'Unsubscribe', 'AddressChange', 'OpenRelayTest', 'VirusNotification', 'ChallengeVerification', 'ManuallyDeactivated', 'Unconfirmed', 'SMTPApiError', 'InboundError', 'TemplateRenderingFailed', 'SomethingNew', 'constructor']) {
    assert.deepEqual(outcome(type), [], type);
  }
});

test('Postmark: a spam complaint and a delivery', () => {
  assert.deepEqual(postmarkFeedback(postmarkSpamComplaint()), [{
    kind: 'complaint',
    permanent: false,
    recipient: 'john@example.com',
    at: '2019-11-05T16:33:54.9070259Z',
    reason: 'Test spam complaint details',
    providerId: '00000000-0000-0000-0000-000000000000',
    source: 'postmark',
  }]);
  assert.deepEqual(postmarkFeedback(postmarkDelivery()), [{
    kind: 'delivery',
    permanent: false,
    recipient: 'john@example.com',
    at: '2014-08-01T13:28:10.2735393-04:00',
    reason: 'Test delivery webhook details',
    providerId: '883953f4-6105-42a2-a16a-77a8eac79483',
    source: 'postmark',
  }]);
});

test('Postmark broadcast streams: a suppression for a hard bounce or a spam complaint is one; others are not', () => {
  assert.deepEqual(postmarkFeedback(postmarkSubscriptionChange()), [{
    kind: 'bounce',
    permanent: true,
    recipient: 'bounced-address@wildbit.com',
    at: '2020-02-01T10:53:34.416071Z',
    reason: 'suppressed by Postmark: HardBounce',
    providerId: '883953f4-6105-42a2-a16a-77a8eac79483',
    source: 'postmark',
  }]);
  assert.deepEqual(postmarkFeedback(postmarkSubscriptionChange({ SuppressionReason: 'SpamComplaint' })).map((feedback) => feedback.kind), ['complaint']);
  assert.deepEqual(postmarkFeedback(postmarkSubscriptionChange({ SuppressionReason: 'ManualSuppression', MessageID: null, Origin: 'Customer' })), []);
  assert.deepEqual(postmarkFeedback(postmarkSubscriptionChange({ SuppressSending: false, SuppressionReason: null, Tag: null, Metadata: {} })), [], 'a reactivation');
});

test('Postmark: opens, clicks and other records give nothing; malformed calls are refused', () => {
  assert.deepEqual(postmarkFeedback({ RecordType: 'Open', MessageID: '883953f4-6105-42a2-a16a-77a8eac79483', Recipient: 'john@example.com', ReceivedAt: '2019-11-05T16:33:54.9070259Z' }), []);
  assert.deepEqual(postmarkFeedback({ RecordType: 'Click', MessageID: '883953f4-6105-42a2-a16a-77a8eac79483', Recipient: 'john@example.com' }), []);
  const cases: [unknown, RegExp][] = [
    ['{"RecordType":"Bounce"}', /Postmark webhook is not a JSON object/],
    [[postmarkBounce()], /Postmark webhook is not a JSON object/],
    [{ ...postmarkBounce(), RecordType: undefined }, /Postmark webhook: RecordType is missing/],
    [{ ...postmarkBounce(), Type: undefined }, /Postmark Bounce: Type is missing/],
    [{ ...postmarkBounce(), Email: '' }, /Postmark Bounce: Email is missing/],
    [{ ...postmarkDelivery(), Recipient: undefined }, /Postmark Delivery: Recipient is missing/],
  ];
  for (const [body, error] of cases) assert.throws(() => postmarkFeedback(body), refusal(error), String(error));
});

// ---- herald's generic webhook ----

const SECRET = 'correct horse battery staple';
const signature = (raw: Buffer | string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

test('generic webhook: signed events become feedback', () => {
  const raw = Buffer.from(JSON.stringify({
    events: [
      { type: 'bounce', permanent: true, recipient: 'reader@example.org', providerId: 'mta-1234', at: '2026-03-01T12:00:00+01:00', reason: '550 5.1.1 user unknown' },
      { type: 'complaint', recipient: 'other@example.org', messageId: '<0f3a9c@news.example.com>' },
      { type: 'delivery', recipient: 'third@example.org', providerId: 'mta-1236' },
    ],
  }));
  assert.deepEqual(genericFeedback(raw, signature(raw), SECRET), [
    { kind: 'bounce', permanent: true, recipient: 'reader@example.org', providerId: 'mta-1234', at: '2026-03-01T12:00:00+01:00', reason: '550 5.1.1 user unknown', source: 'webhook' },
    { kind: 'complaint', permanent: false, recipient: 'other@example.org', messageId: '0f3a9c@news.example.com', reason: 'complaint', source: 'webhook' },
    { kind: 'delivery', permanent: false, recipient: 'third@example.org', providerId: 'mta-1236', reason: 'delivery', source: 'webhook' },
  ]);
  const single = Buffer.from('{"type":"bounce","recipient":"reader@example.org"}');
  assert.deepEqual(genericFeedback(single, signature(single).toUpperCase().replace('SHA256=', 'sha256='), SECRET), [
    { kind: 'bounce', permanent: false, recipient: 'reader@example.org', reason: 'bounce', source: 'webhook' },
  ]);
  const none = Buffer.from('{"events":[]}');
  assert.deepEqual(genericFeedback(none, signature(none), SECRET), []);
});

test('generic webhook: a missing, malformed or wrong signature is refused', () => {
  const raw = Buffer.from('{"type":"bounce","permanent":true,"recipient":"reader@example.org"}');
  const cases: [string | undefined, RegExp][] = [
    [undefined, /X-Herald-Signature is missing or not "sha256=" and 64 hex digits/],
    ['', /is missing or not/],
    [signature(raw).slice('sha256='.length), /is missing or not/],
    [`sha1=${createHmac('sha1', SECRET).update(raw).digest('hex')}`, /is missing or not/],
    [signature(raw).slice(0, -2), /is missing or not/],
    [signature(raw, 'another secret'), /does not match the body/],
    [signature(Buffer.from('{"type":"bounce","permanent":false,"recipient":"reader@example.org"}')), /does not match the body/],
  ];
  for (const [header, error] of cases) assert.throws(() => genericFeedback(raw, header, SECRET), refusal(error), String(header));
  assert.throws(() => genericFeedback(raw, signature(raw, ''), ''), refusal(/no secret configured/));
});

test('generic webhook: a signed body that is not a list of events is refused with what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['not json', /webhook body is not JSON/],
    ['{"events":{"type":"bounce"}}', /"events" is not a list/],
    ['{"events":[42]}', /webhook event 0 is not a JSON object/],
    ['{"type":"open","recipient":"reader@example.org"}', /webhook event 0: type "open" is not bounce, complaint or delivery/],
    ['{"type":"bounce"}', /webhook event 0: recipient is missing/],
    ['{"type":"bounce","recipient":"reader@example.org","permanent":"yes"}', /permanent is not true or false/],
    ['{"type":"bounce","recipient":"reader@example.org","providerId":7}', /providerId is not a string/],
    ['{"events":[{"type":"delivery","recipient":"a@example.org"},{"type":"bounce","recipient":"b@example.org","at":1767225600}]}', /webhook event 1: at is not a string/],
  ];
  for (const [body, error] of cases) assert.throws(() => genericFeedback(Buffer.from(body), signature(body), SECRET), refusal(error), body);
});
