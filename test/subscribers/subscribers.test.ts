import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILT_CLI, makeSite } from '../helpers.js';

const NOW = '2026-03-01T10:00:00Z';

test('add, update, remove and purge; addresses trimmed, validated and matched in any case', async (t) => {
  const site = await makeSite(t);
  assert.equal((await site.run('subscribers', 'add', '  Ada@Example.com ', '--name', 'Ada', '--topics', 'work, life', '--now', NOW)).code, 0);
  const again = await site.run('subscribers', 'add', 'ada@example.COM', '--topics', 'books', '--now', '2026-03-02T10:00:00Z');
  assert.equal(again.code, 0);
  assert.match(again.out, /^updated/);
  const bad = await site.run('subscribers', 'add', 'not-an-address');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /"not-an-address" is not an email address/);

  const csv = await site.read('subscribers/subscribers.csv');
  assert.equal(csv, 'email,name,status,topics,created_at,updated_at\nAda@Example.com,Ada,active,books,2026-03-01T10:00:00.000Z,2026-03-02T10:00:00.000Z\n');

  assert.equal((await site.run('subscribers', 'remove', 'ADA@example.com', '--now', NOW)).code, 0);
  const list = JSON.parse((await site.run('subscribers', 'list', '--json')).out);
  assert.equal(list[0].status, 'unsubscribed');
  const readd = await site.run('subscribers', 'add', 'ada@example.com');
  assert.equal(readd.code, 1);
  assert.match(readd.err, /is unsubscribed; herald does not re-add them/);

  assert.equal((await site.run('subscribers', 'remove', 'ada@example.com', '--purge')).code, 0);
  assert.equal(await site.read('subscribers/subscribers.csv'), 'email,name,status,topics,created_at,updated_at\n');
  assert.equal((await site.run('subscribers', 'remove', 'ada@example.com')).code, 1);
});

test('list filters by status; a bad --status is named', async (t) => {
  const site = await makeSite(t);
  await site.write(
    'subscribers/subscribers.csv',
    'email,name,status,topics,created_at,updated_at\na@example.com,A,active,,,\nb@example.com,B,pending,,,\nc@example.com,C,bounced,,,\n',
  );
  const pending = JSON.parse((await site.run('subscribers', 'list', '--status', 'pending', '--json')).out);
  assert.deepEqual(pending.map((s: { email: string }) => s.email), ['b@example.com']);
  const text = await site.run('subscribers', 'list');
  assert.match(text.out, /3 shown; 1 active, 1 pending, 0 unsubscribed, 1 bounced/);
  const wrong = await site.run('subscribers', 'list', '--status', 'gone');
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /--status "gone" is not a status \(use one of active, pending, unsubscribed, bounced\)/);
});

test('a hand-edited file keeps its extra columns and its bad rows, which are reported by line', async (t) => {
  const site = await makeSite(t);
  const original = 'email,name,status,topics,created_at,updated_at,source\nok@example.com,"Smith, Jo",active,"a,b",x,y,twitter\nnot an address,X,active,,,,blog\ndup@example.com,D,active,,,,\nDUP@example.com,D2,active,,,,\nodd@example.com,O,sleeping,,,,\n';
  await site.write('subscribers/subscribers.csv', original);
  const list = await site.run('subscribers', 'list');
  assert.equal(list.code, 1);
  assert.match(list.err, /subscribers\/subscribers\.csv:3: "not an address" is not an email address/);
  assert.match(list.err, /subscribers\/subscribers\.csv:5: DUP@example\.com is already on line 4/);
  assert.match(list.err, /subscribers\/subscribers\.csv:6: status "sleeping" is not one of active, pending, unsubscribed, bounced/);
  await site.run('subscribers', 'add', 'new@example.com', '--now', NOW);
  assert.equal(await site.read('subscribers/subscribers.csv'), `${original}new@example.com,,active,,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z,\n`);
});

test('a file without an email column is refused, not rewritten', async (t) => {
  const site = await makeSite(t);
  await site.write('subscribers/subscribers.csv', 'mail,name\nx@example.com,X\n');
  const result = await site.run('subscribers', 'add', 'y@example.com');
  assert.equal(result.code, 1);
  assert.match(result.err, /subscribers\/subscribers\.csv:1: the first row has no "email" column/);
  assert.equal(await site.read('subscribers/subscribers.csv'), 'mail,name\nx@example.com,X\n');
});

test('import reads other services exports, reports rejected rows by line, and is idempotent', async (t) => {
  const site = await makeSite(t);
  await site.run('subscribers', 'add', 'left@example.com');
  await site.run('subscribers', 'remove', 'left@example.com');
  await site.write(
    'mailchimp.csv',
    'Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME\nzoe@example.com,Zoe,Zeta,2,2020-01-01\nnot-an-email,X,Y,1,\nLEFT@example.com,Back,Again,1,\n,,,,\nZOE@example.com,Zoe,Again,1,\n',
  );
  const first = await site.run('subscribers', 'import', 'mailchimp.csv', '--now', NOW);
  assert.equal(first.code, 1);
  assert.match(first.out, /imported 1, already on the list 1, rejected 3/);
  assert.match(first.err, /^mailchimp\.csv:3: "not-an-email" is not an email address/m);
  assert.match(first.err, /^mailchimp\.csv:5: no email address/m);
  assert.match(first.err, /^mailchimp\.csv:6: ZOE@example\.com is already on line 2 of this file/m);
  const after = await site.read('subscribers/subscribers.csv');
  assert.match(after, /zoe@example\.com,Zoe Zeta,active/);
  assert.match(after, /left@example\.com,,unsubscribed/, 'an import never reactivates someone who unsubscribed');

  const second = await site.run('subscribers', 'import', 'mailchimp.csv', '--now', '2026-04-01T00:00:00Z');
  assert.match(second.out, /imported 0, already on the list 2/);
  assert.equal(await site.read('subscribers/subscribers.csv'), after, 'importing twice changes nothing');

  await site.write('substack.csv', 'email,active_subscription,created_at\nsam@example.com,true,2021-05-05\n');
  assert.match((await site.run('subscribers', 'import', 'substack.csv')).out, /imported 1/);
  await site.write('other.csv', 'Email,Status\ngone@example.com,unsubscribed\n');
  await site.run('subscribers', 'import', 'other.csv');
  assert.match(await site.read('subscribers/subscribers.csv'), /gone@example\.com,,unsubscribed/);
  const noEmail = await site.run('subscribers', 'import', 'substack.csv'.replace('substack', 'nothing'));
  assert.equal(noEmail.code, 2);
});

test('export prints the list as CSV', async (t) => {
  const site = await makeSite(t);
  await site.run('subscribers', 'add', 'a@example.com', '--name', 'Ann, A.', '--now', NOW);
  const result = await site.run('subscribers', 'export');
  assert.equal(result.out, 'email,name,status,topics,created_at,updated_at\na@example.com,"Ann, A.",active,,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z');
});

test('concurrent writers lose no row: 12 processes adding at once', async (t) => {
  const site = await makeSite(t);
  const runs = Array.from({ length: 12 }, (_, i) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [BUILT_CLI, 'subscribers', 'add', `reader${i}@example.com`], { cwd: site.dir, stdio: 'ignore' });
      child.on('exit', (code) => resolve(code ?? 1));
    }),
  );
  assert.deepEqual(await Promise.all(runs), Array(12).fill(0));
  const list = JSON.parse((await site.run('subscribers', 'list', '--json')).out);
  assert.equal(list.length, 12);
});

test('a lock left behind by a killed process is taken over once stale', async (t) => {
  const site = await makeSite(t);
  const lock = join(site.dir, 'subscribers/subscribers.csv.lock');
  await mkdir(lock, { recursive: true });
  const old = new Date(Date.now() - 60_000);
  await utimes(lock, old, old);
  const result = await site.run('subscribers', 'add', 'after-crash@example.com');
  assert.equal(result.code, 0, result.err);
});

test('import reads semicolon- and tab-separated exports, with a BOM and CRLF line ends', async (t) => {
  const site = await makeSite(t);
  await site.write('excel.csv', '\uFEFFE-Mail;Name;Land\r\nanna@example.de;Schmidt, Anna;DE\r\n');
  await site.write('tabs.tsv', 'Email\tName\nted@example.com\tTed\n');
  assert.match((await site.run('subscribers', 'import', 'excel.csv')).out, /imported 1/);
  assert.match((await site.run('subscribers', 'import', 'tabs.tsv')).out, /imported 1/);
  const csv = await site.read('subscribers/subscribers.csv');
  assert.match(csv, /anna@example\.de,"Schmidt, Anna",active/);
  assert.match(csv, /ted@example\.com,Ted,active/);
});
