import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BUILT_CLI, closedPort, makeSite, post } from './helpers.js';
import { startSmtpSink } from './smtp.js';

const CONFIG = 'site:\n  title: Worker\n  url: https://example.com/\nschedule: "* * * * * *"\n';

function startWorker(cwd: string, env: Record<string, string>, args = ['--no-http']): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [BUILT_CLI, 'start', ...args], { cwd, env: { ...process.env, ...env } });
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  // A worker ended by a signal says which, so a failed exit-code assertion shows it.
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      if (signal) output += `\n[ended by ${signal}]`;
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the worker publishes and mails a post dropped into posts/ within a few ticks; SIGTERM exits 0', async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, CONFIG);
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\na@example.com,A,active,,,\n');
  const worker = startWorker(site.dir, { HERALD_SMTP_URL: sink.url });
  t.after(() => worker.child.kill('SIGKILL'));
  await until(() => /next pass at/.test(worker.output()), 10_000, 'the first pass');
  assert.match(worker.output(), /first run: baseline set/);
  // Dated a moment ahead: it is published, and mailed, on the first tick after that moment.
  await site.write('posts/fresh.md', post({ title: 'Fresh', date: new Date(Date.now() + 1500).toISOString() }));
  await until(() => sink.received.length > 0, 10_000, 'the email');
  assert.equal(sink.received[0]!.mail.subject, 'Fresh');
  assert.match(await site.read('public/rss.xml'), /Fresh/);
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.output());
  assert.match(worker.output(), /SIGTERM: stopping/);
});

test('SIGTERM in the middle of a pass exits 0; the next pass sends the rest, each exactly once', async (t) => {
  const sink = await startSmtpSink({ parse: false, delayMs: 5 });
  t.after(() => sink.close());
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, CONFIG.replace('"* * * * * *"', '"0 0 1 1 *"'));
  const rows = Array.from({ length: 600 }, (_, i) => `r${i}@example.com,R,active,,,`);
  await site.write('subscribers/subscribers.csv', `email,name,status,topics,created_at,updated_at\n${rows.join('\n')}\n`);
  const env = { HERALD_SMTP_URL: sink.url };
  await new Promise((resolve) => spawn(process.execPath, [BUILT_CLI, 'run'], { cwd: site.dir, env: { ...process.env, ...env } }).on('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  await site.write('posts/big.md', post({ title: 'Big', date: new Date().toISOString() }));
  const worker = startWorker(site.dir, env);
  t.after(() => worker.child.kill('SIGKILL'));
  await until(() => sink.received.length >= 100, 15_000, 'sending to start');
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.output());
  const atStop = sink.received.length;
  assert.ok(atStop < 600, `stopped part-way (${atStop})`);
  const rerun = await new Promise<number | null>((resolve) => spawn(process.execPath, [BUILT_CLI, 'run'], { cwd: site.dir, env: { ...process.env, ...env } }).on('exit', resolve));
  assert.equal(rerun, 0);
  const counts = new Map<string, number>();
  for (const { to } of sink.received) counts.set(to[0]!, (counts.get(to[0]!) ?? 0) + 1);
  assert.equal(counts.size, 600);
  assert.ok([...counts.values()].every((count) => count === 1), 'a clean stop sends nobody the post twice');
});

test('a herald start that served the web side is remembered: check no longer says one-click unsubscribe cannot work', async (t) => {
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, CONFIG);
  assert.equal((await site.run('run')).code, 0);
  assert.match((await site.run('check')).err, /one-click unsubscribe cannot work/);
  const worker = startWorker(site.dir, {}, ['--port', String(await closedPort())]);
  t.after(() => worker.child.kill('SIGKILL'));
  await until(() => /next pass at/.test(worker.output()), 10_000, 'the first pass');
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0);
  assert.doesNotMatch((await site.run('check')).err, /one-click/);
});

test('a schedule that is not a cron expression stops the worker at start-up with a clear error', async (t) => {
  const site = await makeSite(t, {}, 'schedule: "every ten minutes"\n');
  const result = await site.run('start', '--no-http');
  assert.equal(result.code, 1);
  assert.match(result.err, /"schedule" "every ten minutes" is not a cron expression \(write five fields/);
});

test('a failing pass is logged and the worker goes on; a tick during a pass is skipped and logged', async (t) => {
  const port = await closedPort();
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, CONFIG);
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\na@example.com,A,active,,,\n');
  // The mail server is down: each pass retries for a few seconds, while the schedule ticks every second.
  const worker = startWorker(site.dir, { HERALD_SMTP_URL: `smtp://127.0.0.1:${port}`, HERALD_RETRY_BACKOFF_MS: '700' });
  t.after(() => worker.child.kill('SIGKILL'));
  await until(() => /next pass at/.test(worker.output()), 10_000, 'the first pass');
  await site.write('posts/new.md', post({ title: 'New', date: new Date(Date.now() + 1200).toISOString() }));
  await until(() => /skipped the scheduled pass: the previous one is still running/.test(worker.output()), 15_000, 'a skipped tick');
  await until(() => /the pass finished with problems/.test(worker.output()), 15_000, 'a failed pass');
  assert.match(worker.output(), /failed a@example\.com: .*ECONNREFUSED/);
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0);
});

test('a port in use or not a number is a clear error', async (t) => {
  const { createServer } = await import('node:net');
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => busy.close(resolve)));
  const { port } = busy.address() as import('node:net').AddressInfo;
  const site = await makeSite(t, {});
  const inUse = await site.run('start', '--port', String(port));
  assert.equal(inUse.code, 2);
  assert.match(inUse.err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(pick another port`));
  const nonsense = await site.run('start', '--port', 'eighty');
  assert.equal(nonsense.code, 2);
  assert.match(nonsense.err, /port "eighty" is not a port number/);
});

test('SIGTERM exits 0 within seconds while a client holds an unfinished request open', async (t) => {
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, CONFIG.replace('"* * * * * *"', '"0 0 1 1 *"'));
  const worker = startWorker(site.dir, { HERALD_SECRET: 'a-test-secret-that-is-long-enough-0123456789' }, ['--port', '0']);
  t.after(() => worker.child.kill('SIGKILL'));
  await until(() => /next pass at/.test(worker.output()), 10_000, 'the first pass');
  const port = Number(/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(worker.output())![1]);
  const { connect } = await import('node:net');
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  let closedByServer = false;
  socket.on('close', () => (closedByServer = true));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  // Headers complete, 3 bytes of a 100-byte body, and then nothing: the request never ends.
  socket.write('POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nabc');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const sent = Date.now();
  worker.child.kill('SIGTERM');
  const code = await Promise.race([worker.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000))]);
  assert.equal(code, 0, worker.output());
  assert.ok(Date.now() - sent < 10_000);
  assert.match(worker.output(), /SIGTERM: stopping[\s\S]*stopped/);
  assert.ok(closedByServer, 'the held connection was closed');
});

test('the worker keeps its last build in memory and still sees an edit in place, a new file in a new folder, and a feed deleted by hand', async (t) => {
  const site = await makeSite(t, { 'old.md': post({ title: 'Old', date: '2026-01-01' }) }, CONFIG);
  const worker = startWorker(site.dir, {});
  t.after(() => worker.child.kill('SIGKILL'));
  await until(() => /next pass at/.test(worker.output()), 10_000, 'the first pass');
  // Rewritten in place (same inode, as many editors save), not replaced.
  const { appendFile, rm, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await writeFile(join(site.dir, 'posts/old.md'), post({ title: 'Old, retitled', date: '2026-01-01' }));
  await until(() => /Old, retitled/.test(readSync(join(site.dir, 'public/rss.xml'))), 10_000, 'the edit in the feed');
  await site.write('posts/2026/bundle/index.md', post({ title: 'In a bundle', date: '2026-01-02' }));
  await until(() => /In a bundle/.test(readSync(join(site.dir, 'public/rss.xml'))), 10_000, 'the new post in the feed');
  await rm(join(site.dir, 'public/atom.xml'));
  await until(() => /In a bundle/.test(readSync(join(site.dir, 'public/atom.xml'))), 10_000, 'the deleted feed made again').catch((error) => {
    throw new Error(`${error.message}\n${worker.output()}\natom: ${readSync(join(site.dir, 'public/atom.xml')).slice(0, 300)}`);
  });
  await appendFile(join(site.dir, 'posts/old.md'), '\nA second paragraph.\n');
  await until(() => /A second paragraph/.test(readSync(join(site.dir, 'public/rss.xml'))), 10_000, 'an appended paragraph');
  // Every pass says how long it took, so it can be watched in production.
  assert.match(worker.output(), /pass done: nothing due \(\d+ ms\)/);
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.output());
});

function readSync(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
