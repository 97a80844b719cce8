import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { closeServer, createWebServer } from '../../src/web/server.js';
import { makeSite, post, testApp } from '../helpers.js';

async function listening(t: TestContext, web: Record<string, unknown> = {}): Promise<{ server: Server; port: number }> {
  const site = await makeSite(t, { 'hello.md': post() });
  await site.run('build');
  const config = parseConfig({ web }, join(site.dir, 'herald.config.yml'), site.dir);
  const app = await testApp(t, site.dir, config);
  const server = createWebServer({ config, cwd: site.dir, newsletter: app.newsletter });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** A raw TCP client: what it was sent, and a promise that settles when the server closes it. */
async function client(t: TestContext, port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.on('data', (data) => (received += data));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => received, closed };
}

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), ms))]);

test('past web.maxConnections a new connection is closed at once; those already open are served', async (t) => {
  const { server, port } = await listening(t, { maxConnections: 2 });
  assert.equal(server.maxConnections, 2);
  assert.ok(server.headersTimeout > 0 && server.headersTimeout <= 15_000 && server.requestTimeout <= 30_000, 'slow clients are cut off');
  const first = await client(t, port);
  const second = await client(t, port);
  const third = await client(t, port);
  assert.ok(await within(third.closed, 2000), 'the third connection is dropped');
  assert.equal(third.received(), '');
  first.socket.write('GET /rss.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.match(first.received(), /^HTTP\/1\.1 200 OK/);
  assert.equal(await within(second.closed, 100), false, 'the second is still open');
});

test('closeServer closes idle connections at once and cuts an unfinished request after the grace period', async (t) => {
  const idleOnly = await listening(t);
  const idle = await client(t, idleOnly.port);
  idle.socket.write('GET /rss.xml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.match(idle.received(), /^HTTP\/1\.1 200 OK/);
  const idleStarted = Date.now();
  await closeServer(idleOnly.server, 5000);
  assert.ok(Date.now() - idleStarted < 1000, 'an idle keep-alive connection does not hold the close');
  assert.ok(await within(idle.closed, 500));

  const { server, port } = await listening(t);
  const slow = await client(t, port);
  slow.socket.write('POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  await closeServer(server, 300);
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
  assert.ok(await within(slow.closed, 500), 'the unfinished request was cut');
  assert.equal(server.listening, false);
});
