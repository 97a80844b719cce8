// A stand-in for AWS's SNS signing: a real RSA key and a self-signed certificate made by openssl,
// and messages signed over the exact string AWS documents.
import { execFile } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface SnsSigner {
  key: string;
  certificate: string;
}

export type SnsFields = Record<string, string>;

export async function makeSigner(): Promise<SnsSigner> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-sns-'));
  try {
    const [key, certificate] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificate, '-days', '2', '-subj', '/CN=sns.amazonaws.com']);
    return { key: await readFile(key, 'utf8'), certificate: await readFile(certificate, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ALGORITHM = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' } as const;

/** Signs the string AWS documents: the type's fields, present ones only, each "Key\nvalue\n". */
export function signSns(message: SnsFields, signer: SnsSigner, version: '1' | '2' = '1'): SnsFields {
  const keys = message.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = keys.filter((key) => key in message).map((key) => `${key}\n${message[key]}\n`).join('');
  return { ...message, SignatureVersion: version, Signature: createSign(ALGORITHM[version]).update(text).sign(signer.key, 'base64') };
}
