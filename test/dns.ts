// A tiny authoritative DNS server on loopback UDP, answering from a table the test gives: enough
// wire format (RFC 1035 §4) for node's resolver to ask TXT, A, AAAA and MX questions of it.
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface Records {
  TXT?: string[];
  A?: string[];
  AAAA?: string[];
  MX?: { exchange: string; priority: number }[];
}

/** Names (any case, no trailing dot) and their records. */
export type Zone = Record<string, Records>;

export interface DnsServer {
  /** What node's Resolver.setServers takes: 127.0.0.1:port. */
  address: string;
  close(): Promise<void>;
}

const TYPES = { A: 1, MX: 15, TXT: 16, AAAA: 28 } as const;
const NXDOMAIN = 3;
const FORMERR = 1;

/** Answers each question from `zone`: NXDOMAIN for a name it lacks, no answers for a type it lacks. */
export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const names = new Map(Object.entries(zone).map(([name, records]) => [name.toLowerCase(), records]));
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const reply = answer(query, names);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function answer(query: Buffer, names: Map<string, Records>): Buffer | undefined {
  if (query.length < 12) return undefined;
  const question = readQuestion(query);
  // Response, authoritative, recursion-desired copied from the query; additional records (EDNS) dropped.
  const header = (rcode: number, answers: number) => {
    const head = Buffer.alloc(12);
    query.copy(head, 0, 0, 2);
    head.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | rcode, 2);
    head.writeUInt16BE(question ? 1 : 0, 4);
    head.writeUInt16BE(answers, 6);
    return head;
  };
  if (!question) return header(FORMERR, 0);
  const records = names.get(question.name.toLowerCase());
  if (!records) return Buffer.concat([header(NXDOMAIN, 0), question.bytes]);
  const type = (Object.keys(TYPES) as (keyof typeof TYPES)[]).find((key) => TYPES[key] === question.type);
  const rdatas = type ? rdataOf(type, records) : [];
  // Each answer names the question's name by a pointer to it (offset 12, right after the header).
  const answers = rdatas.map((rdata) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0);
    fixed.writeUInt16BE(question.type, 2);
    fixed.writeUInt16BE(1, 4);
    fixed.writeUInt32BE(60, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  return Buffer.concat([header(0, answers.length), question.bytes, ...answers]);
}

function readQuestion(query: Buffer): { name: string; type: number; bytes: Buffer } | undefined {
  if (query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at]!;
    // Queries never compress their one name; anything else is not worth answering.
    if (length > 63) return undefined;
    labels.push(query.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  const end = at + 5;
  if (end > query.length) return undefined;
  return { name: labels.join('.'), type: query.readUInt16BE(at + 1), bytes: query.subarray(12, end) };
}

function rdataOf(type: keyof typeof TYPES, records: Records): Buffer[] {
  switch (type) {
    case 'TXT':
      return (records.TXT ?? []).map(txtData);
    case 'A':
      return (records.A ?? []).filter(isIPv4).map((ip) => Buffer.from(ip.split('.').map(Number)));
    case 'AAAA':
      return (records.AAAA ?? []).map(ipv6Bytes);
    case 'MX':
      return (records.MX ?? []).map(({ exchange, priority }) => {
        const preference = Buffer.alloc(2);
        preference.writeUInt16BE(priority);
        return Buffer.concat([preference, encodeName(exchange)]);
      });
  }
}

// A TXT record is a list of strings of at most 255 bytes each; a longer value (a DKIM key) is split.
function txtData(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length || parts.length === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...labels.flatMap((label) => [Buffer.from([label.length]), Buffer.from(label, 'latin1')]), Buffer.from([0])]);
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail] = ip.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail ?? '').length;
  const all = [...groups(head), ...(tail === undefined ? [] : Array<string>(missing).fill('0')), ...groups(tail ?? '')];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}
