import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { clientAddress, createRateLimiter, limitKey, plainAddress, trustedProxies } from '../../src/web/rate-limit.js';
import { createWebServer } from '../../src/web/server.js';
import { makeSite, post, testApp } from '../helpers.js';

test('a key gets `limit` requests per window; refused requests do not push the window on', () => {
  const limiter = createRateLimiter({ limit: 3, windowMs: 1000, maxKeys: 100 });
  assert.deepEqual([0, 10, 20, 30].map((now) => limiter.take('a', now)), [true, true, true, false]);
  for (let now = 40; now < 1000; now += 40) assert.equal(limiter.take('a', now), false, `${now}`);
  assert.equal(limiter.take('b', 500), true, 'keys are counted apart');
  assert.equal(limiter.take('a', 1000), true, 'the window started at the first request, not the last refused one');
  assert.deepEqual([1001, 1002, 1003].map((now) => limiter.take('a', now)), [true, true, false]);
});

test('memory is bounded: at most maxKeys keys, the oldest window forgotten first, expired ones dropped', () => {
  const limiter = createRateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 10_000 });
  for (let i = 0; i < 100_000; i++) assert.equal(limiter.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, i), true);
  assert.equal(limiter.size, 10_000);
  assert.equal(limiter.take('10.1.134.159', 100_000), false, 'the newest keys are still limited');
  assert.equal(limiter.take('10.0.0.0', 100_000), true, 'the oldest was forgotten');
  limiter.take('late', 1_000_000);
  assert.equal(limiter.size, 1, 'every window that had passed was dropped');

  const small = createRateLimiter({ limit: 1, windowMs: 1000, maxKeys: 2 });
  assert.deepEqual(['a', 'a', 'b', 'c', 'b', 'a'].map((key, i) => small.take(key, i)), [true, false, true, true, false, true]);
});

test('clientAddress: the socket peer, unless it is a trusted proxy; then X-Forwarded-For from the right', () => {
  const proxies = trustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  // Trusting nobody (the default), the header is ignored: anyone can send one.
  assert.equal(clientAddress('203.0.113.9', '198.51.100.1', undefined), '203.0.113.9');
  assert.equal(clientAddress('::ffff:127.0.0.1', '198.51.100.1', undefined), '127.0.0.1');
  // A peer that is not a proxy cannot choose its address by sending the header.
  assert.equal(clientAddress('203.0.113.9', '198.51.100.1', proxies), '203.0.113.9');
  assert.equal(clientAddress('127.0.0.1', undefined, proxies), '127.0.0.1');
  assert.equal(clientAddress('127.0.0.1', '198.51.100.1', proxies), '198.51.100.1');
  assert.equal(clientAddress('::ffff:127.0.0.1', '198.51.100.1', proxies), '198.51.100.1');
  // What the client wrote itself is left of the address the proxy saw, and never reached.
  assert.equal(clientAddress('127.0.0.1', '1.1.1.1, 2.2.2.2, 198.51.100.1', proxies), '198.51.100.1');
  assert.equal(clientAddress('127.0.0.1', '1.1.1.1, 198.51.100.1, 10.1.2.3', proxies), '198.51.100.1', 'past a chain of trusted proxies');
  assert.equal(clientAddress('127.0.0.1', ['1.1.1.1', '198.51.100.1, 10.0.0.2'], proxies), '198.51.100.1');
  assert.equal(clientAddress('127.0.0.1', '10.0.0.3, 10.0.0.2', proxies), '10.0.0.3', 'every hop trusted: the first');
  assert.equal(clientAddress('127.0.0.1', 'not-an-address, 10.0.0.2', proxies), '10.0.0.2', 'a malformed hop ends the walk');
  assert.equal(clientAddress('127.0.0.1', '', proxies), '127.0.0.1');
  assert.equal(clientAddress('fd00::1', '2001:DB8::1, fd12::5', proxies), '2001:db8::1');
  assert.equal(clientAddress('127.0.0.1', '[2001:db8::1]:4711, 198.51.100.1:80', proxies), '198.51.100.1');
});

test('trustedProxies: none is undefined; addresses, CIDR ranges and IPv4-mapped forms', () => {
  assert.equal(trustedProxies([]), undefined);
  const list = trustedProxies(['192.168.1.1', '172.16.0.0/12', '2001:db8::/32', '::ffff:100.64.0.0/106'])!;
  const check = (address: string) => list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  assert.deepEqual(['192.168.1.1', '192.168.1.2', '172.31.255.255', '172.32.0.0', '2001:db8:ffff::1', '2001:db9::1', '100.127.0.1', '100.128.0.1'].map(check), [true, false, true, false, true, false, true, false]);
});

test('addresses are compared in one spelling; IPv6 clients are limited by their /64', () => {
  assert.equal(plainAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(plainAddress('::FFFF:7F00:1'), '127.0.0.1');
  assert.equal(plainAddress('2001:DB8:0:0::1'), '2001:db8::1');
  assert.equal(plainAddress('1.2.3.4:5678'), '1.2.3.4');
  assert.equal(plainAddress('[::1]:80'), '::1');
  assert.equal(plainAddress('unknown'), undefined);
  assert.equal(limitKey('198.51.100.7'), '198.51.100.7');
  assert.equal(limitKey('2001:db8:1:2:3:4:5:6'), limitKey('2001:db8:1:2::9'));
  assert.notEqual(limitKey('2001:db8:1:2::9'), limitKey('2001:db8:1:3::9'));
});

async function webServer(t: TestContext, trustProxy: string[]) {
  const site = await makeSite(t, { 'hello.md': post() });
  await site.run('build');
  const config = parseConfig({ web: { trustProxy, subscribeLimit: 2 } }, join(site.dir, 'herald.config.yml'), site.dir);
  const app = await testApp(t, site.dir, config);
  const server = createWebServer({ config, cwd: site.dir, newsletter: app.newsletter });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const { port } = server.address() as AddressInfo;
  return (forwardedFor: string) =>
    new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/subscribe', method: 'POST', headers: { 'X-Forwarded-For': forwardedFor, 'Content-Type': 'application/x-www-form-urlencoded' } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      })
        .on('error', reject)
        .end('email=x%40example.com');
    });
}

test('the web server limits subscribe POSTs by the forwarded client only behind a trusted proxy', async (t) => {
  const direct = await webServer(t, []);
  assert.deepEqual([await direct('1.1.1.1'), await direct('2.2.2.2'), await direct('3.3.3.3')], [200, 200, 429], 'the header is ignored');
  const proxied = await webServer(t, ['127.0.0.1']);
  const statuses = [];
  for (const client of ['1.1.1.1', '1.1.1.1', '1.1.1.1', '2.2.2.2', '9.9.9.9, 2.2.2.2', '8.8.8.8, 2.2.2.2']) statuses.push(await proxied(client));
  assert.deepEqual(statuses, [200, 200, 429, 200, 200, 429], 'each client has its own limit, whatever it adds to the header');
});
