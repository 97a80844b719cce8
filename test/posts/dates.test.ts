import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePostDate } from '../../src/posts/dates.js';

const iso = (value: string, zone = 'UTC') => {
  const parsed = parsePostDate(value, zone);
  assert.ok(parsed.ok, `${value}: ${parsed.ok ? '' : parsed.reason}`);
  return parsed.date.toISOString();
};

test('every date form writers use is read', () => {
  assert.equal(iso('2026-1-26'), '2026-01-26T00:00:00.000Z');
  assert.equal(iso('2026-01-26'), '2026-01-26T00:00:00.000Z');
  assert.equal(iso('2026-02-10 14:00'), '2026-02-10T14:00:00.000Z');
  assert.equal(iso('2026-02-10 14:00:30'), '2026-02-10T14:00:30.000Z');
  assert.equal(iso('2026-02-10T14:00:30Z'), '2026-02-10T14:00:30.000Z');
  assert.equal(iso('2026-02-10T14:00:30+02:00'), '2026-02-10T12:00:30.000Z');
  assert.equal(iso('2026-02-10T14:00:30.250-05:30'), '2026-02-10T19:30:30.250Z');
  assert.equal(iso('2026-02-10T14:00+0100'), '2026-02-10T13:00:00.000Z');
});

test('a date without an offset is wall-clock time in the site time zone, DST included', () => {
  assert.equal(iso('2026-01-26', 'Europe/Berlin'), '2026-01-25T23:00:00.000Z');
  assert.equal(iso('2026-07-01 09:00', 'Europe/Berlin'), '2026-07-01T07:00:00.000Z');
  assert.equal(iso('2026-07-01 09:00', 'America/New_York'), '2026-07-01T13:00:00.000Z');
  // An explicit offset wins over the site zone.
  assert.equal(iso('2026-07-01T09:00:00Z', 'Asia/Tokyo'), '2026-07-01T09:00:00.000Z');
});

test('a day without a time is marked as such', () => {
  const day = parsePostDate('2026-01-26', 'UTC');
  const timed = parsePostDate('2026-01-26 08:00', 'UTC');
  assert.ok(day.ok && !day.hasTime);
  assert.ok(timed.ok && timed.hasTime);
});

test('impossible or unreadable dates are refused with the reason', () => {
  for (const [value, reason] of [
    ['2026-02-30', /not a real date/],
    ['2026-13-01', /not a real date/],
    ['2026-02-10 24:30', /not a real date/],
    ['26/01/2026', /not a date herald can read/],
    ['next tuesday', /not a date herald can read/],
  ] as const) {
    const parsed = parsePostDate(value, 'UTC');
    assert.ok(!parsed.ok, value);
    assert.match(parsed.reason, reason);
  }
  const list = parsePostDate(['2026-01-01'], 'UTC');
  assert.ok(!list.ok && /list/.test(list.reason));
});

test('times in UTC as Jekyll reads them: only a time with its seconds and no offset; HH:MM and a date alone stay in the zone', () => {
  const zone = 'Asia/Tokyo';
  const at = (value: string) => {
    const parsed = parsePostDate(value, zone, true);
    assert.ok(parsed.ok, value);
    return parsed.date.toISOString();
  };
  assert.equal(at('2024-03-01 22:00:00'), '2024-03-01T22:00:00.000Z');
  assert.equal(at('2024-03-01 22:00'), '2024-03-01T13:00:00.000Z');
  assert.equal(at('2024-03-01'), '2024-02-29T15:00:00.000Z');
  assert.equal(at('2024-03-01 22:00:00 +0100'), '2024-03-01T21:00:00.000Z');
});
