import { BlockList, isIP } from 'node:net';

export interface RateLimiter {
  /** True when the request may go on; a refused request is not counted. */
  take(key: string, now?: number): boolean;
  /** Keys held now (never more than maxKeys). */
  readonly size: number;
}

export interface RateLimitOptions {
  /** Requests let through per key and window. */
  limit: number;
  windowMs: number;
  /** Keys remembered at most: an attacker with many addresses cannot grow memory without bound. */
  maxKeys: number;
}

/**
 * A fixed window per key, starting at the key's first request: one count and one time per key,
 * where a log of every request would grow with the limit. Refused requests are not counted, so a
 * client that keeps knocking is let in again when its window ends, not pushed out forever.
 */
export function createRateLimiter({ limit, windowMs, maxKeys }: RateLimitOptions): RateLimiter {
  if (!(maxKeys >= 1)) throw new RangeError('maxKeys must be at least 1');
  // In the order windows started (a Map keeps insertion order), so the front is always the
  // oldest window: expired ones are dropped from there, and when full that one goes first, the
  // entry closest to being forgotten anyway.
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key, now = Date.now()) {
      for (const [oldKey, window] of windows) {
        if (now - window.start < windowMs) break;
        windows.delete(oldKey);
      }
      let window = windows.get(key);
      // Only if the clock went back can an expired window sit behind a live one; not counted on.
      if (window && now - window.start >= windowMs) {
        windows.delete(key);
        window = undefined;
      }
      if (!window) {
        window = { start: now, count: 0 };
        windows.set(key, window);
        if (windows.size > maxKeys) windows.delete(windows.keys().next().value!);
      }
      if (window.count >= limit) return false;
      window.count++;
      return true;
    },
    get size() {
      return windows.size;
    },
  };
}

/**
 * The reverse proxies whose X-Forwarded-For is believed, as a BlockList for clientAddress;
 * undefined when there are none. Entries are addresses or CIDR ranges (config.ts validates them).
 */
export function trustedProxies(entries: readonly string[]): BlockList | undefined {
  if (!entries.length) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [written = '', prefix] = entry.split('/');
    const address = plainAddress(written) ?? written;
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, family);
    // A mapped range (::ffff:10.0.0.0/104) is the IPv4 range under it.
    else if (family === 'ipv4' && isIP(written) === 6) {
      if (Number(prefix) >= 96) list.addSubnet(address, Number(prefix) - 96, 'ipv4');
      else list.addSubnet(written, Number(prefix), 'ipv6');
    } else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/**
 * The address a request comes from, for rate limits and logs. X-Forwarded-For is only believed
 * when the socket's peer is a trusted proxy, and then walked from the right (each proxy appends
 * the address it saw), past the trusted proxies, to the first address that is not one: what a
 * client writes into the header itself is further left and never reached. With no trusted
 * proxies (the default) the header is ignored, as anyone can send it.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trusted: BlockList | undefined): string {
  let client = plainAddress(socketAddress ?? '') ?? socketAddress ?? '';
  if (!trusted || !forwardedFor || !isTrusted(trusted, client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i]!);
    // Not an address: nothing left of it can be believed either; the last good hop stands.
    if (hop === undefined) break;
    client = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  return client;
}

function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * An address in one spelling, or undefined when it is none: IPv6 compressed and lower-case, an
 * IPv4-mapped IPv6 address (::ffff:127.0.0.1, what a dual-stack socket reports for IPv4 peers)
 * as plain IPv4, and without the port some proxies add (1.2.3.4:5678, [::1]:80).
 */
export function plainAddress(value: string): string | undefined {
  let address = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  const family = isIP(address);
  if (family !== 6) return family === 4 ? address : undefined;
  // A zone (fe80::1%eth0) is only meaningful on this host; URL refuses it, so it is kept as written.
  if (address.includes('%')) return address.toLowerCase();
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([\da-f]{1,4}):([\da-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * The key a client is limited by: its IPv4 address, or the /64 its IPv6 address is in, as one
 * IPv6 host is usually given a whole /64 and could otherwise change address for every request.
 */
export function limitKey(address: string): string {
  if (isIP(address) !== 6 || address.includes('%')) return address;
  const groups = expandIPv6(address).slice(0, 4);
  return `${groups.join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 forms) counts as two groups; only the first four matter here.
  const rightGroups = right.flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const missing = tail === undefined ? [] : Array<string>(8 - left.length - rightGroups.length).fill('0');
  return [...left, ...missing, ...rightGroups].map((group) => parseInt(group, 16).toString(16));
}
