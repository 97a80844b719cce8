// herald doctor: what a mailbox provider checks before it trusts a newsletter (SPF, DKIM, DMARC
// and its alignment, HTTPS links, a one-click unsubscribe that answers), asked of DNS and the web
// as a receiver would ask it. Returns a report; printing it is the command's.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { readFileSync } from 'node:fs';
import { BlockList, isIP, isIPv4 } from 'node:net';
import type { DNSResolver } from 'mailauth';
import { spf } from 'mailauth/lib/spf/index.js';
import { aligned, organisation } from './dmarc.js';
import { mailboxAddress, mailboxDomain, type Config } from './config.js';

/** mailauth's resolver: node's resolve(name, rrtype), TXT answered as lists of strings. */
export type Resolver = DNSResolver;

export interface Check {
  name: string;
  status: 'ok' | 'warning' | 'problem';
  detail: string;
  fix?: string;
}

export interface DoctorReport {
  checks: Check[];
}

export interface DoctorOptions {
  resolver: Resolver;
  /** How the unsubscribe URL is asked (tests send it to a loopback server). */
  fetch?: typeof fetch;
  /** How long the unsubscribe URL has to answer. */
  timeoutMs?: number;
}

/** A resolver on `servers` (such as 127.0.0.1:5353), or the system's. Throws on a malformed address. */
export function dnsResolver(servers?: readonly string[]): Resolver {
  // c-ares' default (5 s, 4 tries) leaves a doctor silent for 20 s on an unreachable server.
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  if (servers?.length) resolver.setServers(servers);
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

export async function diagnose(config: Config, options: DoctorOptions): Promise<DoctorReport> {
  const { resolver } = options;
  const fromAddress = mailboxAddress(config.email.from)!;
  const from = mailboxDomain(fromAddress)!.toLowerCase();
  // Receivers check SPF against the envelope sender: the From address unless email.bounces is set.
  const envelope = config.email.bounces ?? fromAddress;
  const envelopeDomain = mailboxDomain(envelope)!.toLowerCase();
  const web = [httpsCheck(config), unsubscribeCheck(config, options.fetch ?? fetch, options.timeoutMs ?? 5000)];
  // A From domain DNS has never heard of (or a resolver that answers so for every name: no
  // network) makes every record check below a false "add this record".
  if (await nonexistent(resolver, from)) {
    const domain: Check = {
      name: 'domain',
      status: 'problem',
      detail: `${from}, the domain of email.from, does not exist in DNS (NXDOMAIN): receivers refuse mail from a domain that does not resolve, so SPF, DKIM and DMARC were not checked`,
      fix: `check email.from's domain; if it does exist, check the DNS server (--dns) or the network, then run herald doctor again`,
    };
    return { checks: [domain, ...(await Promise.all(web))] };
  }
  const sender = await sendingServer(config, resolver);
  const spfChecks =
    envelopeDomain === from
      ? [dnsCheck('SPF', spfCheck(fromAddress, config, resolver, sender))]
      : [
          dnsCheck('SPF', spfCheck(fromAddress, config, resolver, { status: 'ok', note: `receivers check the return path's domain (${envelopeDomain}), not this one, against the sending server` })),
          dnsCheck('SPF (return path)', spfCheck(envelope, config, resolver, sender)),
        ];
  const checks = await Promise.all([
    ...spfChecks,
    dnsCheck('DKIM', dkimCheck(config, resolver)),
    dnsCheck('DMARC', dmarcCheck(from, resolver)),
    alignmentCheck(config, from, envelopeDomain),
    ...web,
  ]);
  return { checks };
}

/** A DNS server that fails to answer (not "no such record") makes its check a problem, not a crash. */
async function dnsCheck(name: string, check: Promise<Omit<Check, 'name'>>): Promise<Check> {
  try {
    return { name, ...(await check) };
  } catch (error) {
    const { code, hostname } = error as { code?: string; hostname?: string };
    if (!code || !hostname) throw error;
    return { name, status: 'problem', detail: `DNS did not answer for ${hostname} (${code})`, fix: 'check the DNS server (--dns) or the network, then run herald doctor again' };
  }
}

/** The TXT records at `name`, each joined from its strings; none when the name or the type is missing. */
async function txtRecords(resolver: Resolver, name: string): Promise<string[]> {
  try {
    return ((await resolver(name, 'TXT')) as string[][]).map((chunks) => chunks.join(''));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** Whether DNS says the name does not exist at all (NXDOMAIN), not merely that it has no TXT record. */
async function nonexistent(resolver: Resolver, name: string): Promise<boolean> {
  try {
    await resolver(name, 'TXT');
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'ENOTFOUND';
  }
}

const isMissing = (error: unknown) => ['ENOTFOUND', 'ENODATA'].includes((error as { code?: string }).code ?? '');

/** DKIM's and DMARC's tag lists: `v=DKIM1; k=rsa; p=...`. */
function tags(record: string): Map<string, string> {
  const list = record.split(';').flatMap((part) => {
    const at = part.indexOf('=');
    return at > 0 ? [[part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()] as const] : [];
  });
  return new Map(list);
}


/** The sending server's addresses to test against SPF, or why there are none (and whether that is fine). */
type Sender = { host: string; addresses: string[] } | { note: string; status: 'ok' | 'warning' };

// Loopback and private addresses: a relay there sends from its own public address, unseen from here.
const LOCAL = new BlockList();
for (const [network, prefix] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['100.64.0.0', 10]] as const) LOCAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) LOCAL.addSubnet(network, prefix, 'ipv6');

async function sendingServer(config: Config, resolver: Resolver): Promise<Sender> {
  if (!config.smtp.url) return { status: 'ok', note: 'smtp.url is not set (messages go to the outbox), so no sending server was checked' };
  const host = new URL(config.smtp.url).hostname.replace(/^\[|\]$/g, '');
  const local = (addresses: string[]): Sender => ({
    status: 'ok',
    note: `smtp.url's host ${host}${addresses.length ? ` (${addresses.join(', ')})` : ''} is local: the server there sends from its own public address, which herald cannot see, so only the record was checked`,
  });
  if (host === 'localhost' || host.endsWith('.localhost')) return local([]);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    const answers = await Promise.allSettled([resolver(host, 'A'), resolver(host, 'AAAA')]);
    addresses = answers.flatMap((answer) => (answer.status === 'fulfilled' ? (answer.value as string[]) : []));
    if (!addresses.length) {
      const why = answers.map((answer, index) => `${index ? 'AAAA' : 'A'}: ${answer.status === 'rejected' ? ((answer.reason as { code?: string }).code ?? 'failed') : 'none'}`).join(', ');
      return { status: 'warning', note: `smtp.url's host ${host} did not resolve (${why}), so whether it may send was not checked` };
    }
  }
  const outward = addresses.filter((address) => !LOCAL.check(address, isIPv4(address) ? 'ipv4' : 'ipv6'));
  return outward.length ? { host, addresses: outward } : local(addresses);
}

// RFC 5737's documentation address: no real sender uses it, so a record that lets it pass lets anyone.
const NOBODY = '192.0.2.1';

const mechanism = (address: string) => `${isIPv4(address) ? 'ip4' : 'ip6'}:${address}`;

/**
 * The domain of `address` has one SPF record that evaluates without error, and the sending
 * server's addresses pass it (or a note on why they were not tried).
 */
async function spfCheck(address: string, config: Config, resolver: Resolver, sender: Sender): Promise<Omit<Check, 'name'>> {
  const domain = mailboxDomain(address)!.toLowerCase();
  const evaluate = (ip: string) => spf({ sender: address, ip, helo: config.smtp.name, mta: 'herald', resolver });
  const probe = await evaluate(NOBODY);
  const record = probe.rr ? ` ("${probe.rr}")` : '';
  const reason = (probe.status.comment ?? '').replace(/^herald: /, '');
  const example = `"v=spf1 ${'addresses' in sender ? sender.addresses.map(mechanism).join(' ') : "ip4:<the sending server's address>"} -all"`;
  switch (probe.status.result) {
    case 'none':
      return { status: 'problem', detail: `no SPF record at ${domain}: receivers cannot tell which servers may send as it`, fix: `add a TXT record at ${domain} such as ${example} (or with the include: your mail provider documents)` };
    case 'permerror':
      return { status: 'problem', detail: `the SPF record at ${domain}${record} is broken: ${reason}; receivers treat it as failing`, fix: `correct the TXT record at ${domain} (one v=spf1 record, at most 10 lookups)` };
    case 'temperror':
      return { status: 'problem', detail: `the SPF record at ${domain} could not be evaluated: ${reason}`, fix: 'check the DNS server (--dns), and the domains the record\'s include: and redirect= name; then run herald doctor again' };
    case 'pass':
      return { status: 'warning', detail: `the SPF record at ${domain}${record} lets any server send as ${domain}`, fix: `list only your senders and end the record with -all (or ~all), such as ${example}` };
  }
  if (!('addresses' in sender)) return { status: sender.status, detail: `${domain} has an SPF record${record}; ${sender.note}` };
  const results = await Promise.all(sender.addresses.map(async (ip) => ({ ip, result: (await evaluate(ip)).status.result })));
  const refused = results.filter(({ result }) => result !== 'pass');
  if (!refused.length) return { status: 'ok', detail: `the SPF record at ${domain}${record} lets ${sender.host} (${sender.addresses.join(', ')}) send` };
  return {
    status: 'problem',
    detail: `the SPF record at ${domain}${record} does not let smtp.url's host ${sender.host} send: ${refused.map(({ ip, result }) => `${ip} is ${result}`).join(', ')}`,
    fix: `add ${refused.map(({ ip }) => mechanism(ip)).join(' ')} to the record at ${domain} (or, for a mail provider's relay, the include: it documents)`,
  };
}

/** The public key at selector._domainkey.domain is the one of smtp.dkim.privateKey. */
async function dkimCheck(config: Config, resolver: Resolver): Promise<Omit<Check, 'name'>> {
  const dkim = config.smtp.dkim;
  if (!dkim) {
    return {
      status: 'warning',
      detail: 'smtp.dkim is not set: herald sends unsigned mail (unless your mail provider signs it with your domain), and Gmail and Yahoo require DKIM of bulk senders',
      fix: 'set smtp.dkim (domain, selector, privateKey) and publish the public key at <selector>._domainkey.<domain>',
    };
  }
  const at = `${dkim.selector}._domainkey.${dkim.domain}`;
  let ours: string;
  try {
    ours = spkiBase64(createPublicKey(createPrivateKey(readFileSync(dkim.privateKeyFile, 'utf8'))));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a PEM private key';
    return { status: 'problem', detail: `smtp.dkim.privateKey (${dkim.privateKeyFile}): ${why}`, fix: 'point smtp.dkim.privateKey at the PEM private key (herald check says more)' };
  }
  const publish = `"v=DKIM1; k=rsa; p=${ours}"`;
  const keys = (await txtRecords(resolver, at)).map(tags).filter((record) => record.has('p'));
  if (!keys.length) return { status: 'problem', detail: `no DKIM key at ${at}: receivers cannot verify herald's signatures`, fix: `add a TXT record at ${at}: ${publish}` };
  if (keys.length > 1) return { status: 'problem', detail: `${keys.length} DKIM keys at ${at}: a receiver verifies with one of them`, fix: `keep one TXT record there: ${publish}` };
  const published = keys[0]!.get('p')!.replace(/\s+/g, '');
  if (!published) return { status: 'problem', detail: `the DKIM key at ${at} is revoked (p= is empty)`, fix: `publish the key at ${at}: ${publish}` };
  const theirs = publicKeyOf(published);
  if (theirs === ours) return { status: 'ok', detail: `${at} publishes the public key of smtp.dkim.privateKey` };
  return {
    status: 'problem',
    detail: theirs ? `the key at ${at} is not the public key of smtp.dkim.privateKey (${dkim.privateKeyFile}): every signature fails` : `p= at ${at} is not a public key (cut short, or split wrongly into strings?)`,
    fix: `publish ${publish} at ${at}, or point smtp.dkim.privateKey at the private key of the one published there`,
  };
}

const spkiBase64 = (key: ReturnType<typeof createPublicKey>) => key.export({ type: 'spki', format: 'der' }).toString('base64');

/** A p= value as SPKI base64: the usual SubjectPublicKeyInfo, or the bare RSAPublicKey some tools publish. */
function publicKeyOf(base64: string): string | undefined {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return spkiBase64(createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type }));
    } catch {
      // Not this encoding; try the next.
    }
  }
  return undefined;
}

/** _dmarc.<From domain>, else the organisation's (RFC 7489 §6.6.3), has one v=DMARC1 record with a policy. */
async function dmarcCheck(from: string, resolver: Resolver): Promise<Omit<Check, 'name'>> {
  const org = organisation(from);
  const recordsAt = async (domain: string) => (await txtRecords(resolver, `_dmarc.${domain}`)).filter((record) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(record.trim()));
  let at = from;
  let records = await recordsAt(from);
  if (!records.length && org !== from) records = await recordsAt((at = org));
  const name = `_dmarc.${at}`;
  if (!records.length) {
    return {
      status: 'problem',
      detail: `no DMARC record at _dmarc.${from}${org === from ? '' : ` or _dmarc.${org}`}: Gmail and Yahoo require one of bulk senders`,
      fix: `add a TXT record at _dmarc.${org}: "v=DMARC1; p=none; rua=mailto:dmarc@${org}", and move to p=quarantine once the reports show your mail passing`,
    };
  }
  if (records.length > 1) return { status: 'problem', detail: `${records.length} DMARC records at ${name}: receivers then apply none`, fix: `keep one v=DMARC1 record at ${name}` };
  const record = tags(records[0]!);
  // A subdomain's mail falls under the organisation's sp= when it has no record of its own.
  const tag = at !== from && record.has('sp') ? 'sp' : 'p';
  const policy = (record.get(tag) ?? '').toLowerCase();
  const shown = `${name}: "${records[0]}"`;
  if (!['none', 'quarantine', 'reject'].includes(policy)) return { status: 'problem', detail: `${shown} has no valid policy (${tag}=)`, fix: `set ${tag}=none, ${tag}=quarantine or ${tag}=reject in the record at ${name}` };
  if (policy === 'none') {
    return {
      status: 'warning',
      detail: `${shown} is ${tag}=none: receivers deliver mail that fails DMARC, so anyone can send as ${from}`,
      fix: `once the reports (rua=) show your mail passing, set ${tag}=quarantine, then ${tag}=reject`,
    };
  }
  return { status: 'ok', detail: shown };
}

/** DMARC passes on an aligned DKIM signature or an aligned SPF pass; DKIM is the one forwarding keeps. */
function alignmentCheck(config: Config, from: string, envelope: string): Check {
  const name = 'alignment';
  const dkim = config.smtp.dkim?.domain.toLowerCase();
  const spfAligned = aligned(envelope, from);
  const spfPart = `the return path's domain (${envelope}) ${spfAligned ? 'is' : 'is not'} aligned with From's (${from})`;
  if (dkim && !aligned(dkim, from)) {
    return {
      name,
      status: spfAligned ? 'warning' : 'problem',
      detail: `smtp.dkim.domain (${dkim}) is not aligned with the From address's domain (${from}), so its signatures do not count for DMARC; ${spfPart}${spfAligned ? ', but forwarded mail loses SPF' : ': DMARC fails for every message'}`,
      fix: `sign with ${from} or another domain under ${organisation(from)} (smtp.dkim.domain, and its key in DNS)`,
    };
  }
  if (!dkim && !spfAligned) {
    return { name, status: 'problem', detail: `nothing is DKIM-signed and ${spfPart}: DMARC fails for every message`, fix: `set smtp.dkim with a domain under ${organisation(from)}, or use a return path (email.bounces) under it` };
  }
  return { name, status: 'ok', detail: dkim ? `smtp.dkim.domain (${dkim}) is aligned with From's (${from}); ${spfPart}` : spfPart };
}

function httpsCheck(config: Config): Check {
  const urls = [['site.url', config.site.url], ...(config.web.url === config.site.url ? [] : [['web.url', config.web.url]])] as const;
  const plain = urls.filter(([, url]) => new URL(url).protocol !== 'https:');
  if (!plain.length) return { name: 'HTTPS', status: 'ok', detail: urls.map(([key, url]) => `${key} is ${url}`).join(', ') };
  const unsubscribe = new URL(config.web.url).protocol !== 'https:';
  return {
    name: 'HTTPS',
    status: 'warning',
    detail:
      `${plain.map(([key, url]) => `${key} is ${url}`).join(', ')}: every email links to pages over plain HTTP, which filters distrust` +
      (unsubscribe ? ', and RFC 8058 one-click unsubscribe (which Gmail and Yahoo ask of bulk senders) needs an HTTPS link' : ''),
    fix: `serve ${plain.map(([key]) => key).join(' and ')} over HTTPS and give the https:// address`,
  };
}

/**
 * A mail provider's one-click unsubscribe is a POST to the link in List-Unsubscribe (RFC 8058).
 * herald start answers a made-up token with 400; a static host answers 404 or 405.
 */
async function unsubscribeCheck(config: Config, fetcher: typeof fetch, timeoutMs: number): Promise<Check> {
  const name = 'one-click unsubscribe';
  const url = `${config.web.url}unsubscribe?token=invalid`;
  const fix = `run herald start behind ${config.web.url}, or set web.url to the address where herald start answers`;
  let response: Response;
  try {
    response = await fetcher(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { name, status: 'problem', detail: `POST ${url} failed (${why}): nothing answers there, so one-click unsubscribes cannot work`, fix };
  }
  await response.body?.cancel();
  const { status } = response;
  if (status === 400) return { name, status: 'ok', detail: `POST ${url} answered 400 to a made-up token, as herald start does` };
  if (status === 404 || status === 405 || status === 501) {
    return { name, status: 'problem', detail: `POST ${url} answered ${status}: nothing there takes a POST (a static host serves that address, and herald start is not running behind it), so one-click unsubscribes cannot work`, fix };
  }
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location') ?? 'nowhere';
    return { name, status: 'warning', detail: `POST ${url} answered ${status}, a redirect to ${location}: mail providers may not follow it with their POST`, fix: `set web.url to the address herald start answers at, without a redirect` };
  }
  return { name, status: 'problem', detail: `POST ${url} answered ${status}, where herald start answers a made-up token with 400: something else answers there`, fix };
}
