import { DateTime, FixedOffsetZone } from 'luxon';

// The forms writers really use: 2026-1-26, 2026-01-26, 2026-02-10 14:00, 2026-02-10 14:00:30,
// and ISO 8601 with Z or an offset. Without an offset the time is wall-clock time in `zone`.
const DATE_FORM =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[T ]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** `offset`: the UTC offset written with the date, in minutes, when one was (Z is 0). */
export type ParsedDate = { ok: true; date: Date; hasTime: boolean; offset?: number } | { ok: false; reason: string };

/**
 * A post's date. Without an offset, a time is wall-clock time in `zone`; with `timesInUtc`, a time
 * with seconds (not a date alone, not HH:MM) without one is UTC, as Jekyll reads front matter,
 * though the post's calendar day is still the site's (no offset is recorded).
 */
export function parsePostDate(value: unknown, zone: string, timesInUtc = false): ParsedDate {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { ok: false, reason: value === null || value === undefined ? 'is empty' : `is a ${Array.isArray(value) ? 'list' : typeof value}, not a date` };
  }
  const text = String(value).trim();
  const match = DATE_FORM.exec(text);
  if (!match) return { ok: false, reason: `"${text}" is not a date herald can read` };
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const parts = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour ?? 0),
    minute: Number(minute ?? 0),
    second: Number(second ?? 0),
    millisecond: fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0,
  };
  const invalid = { ok: false, reason: `"${text}" is not a real date or time` } as const;
  const hasTime = hour !== undefined;
  // Ruby's YAML (Jekyll's) takes a time for UTC only with its seconds: 22:00 stays text, read in the site's zone.
  if (offset || zone === 'UTC' || (timesInUtc && second !== undefined)) {
    // A fixed offset needs no time zone database: plain UTC arithmetic, checked for overflow.
    const utc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second, parts.millisecond);
    const check = new Date(utc);
    if (check.getUTCMonth() !== parts.month - 1 || check.getUTCDate() !== parts.day || parts.hour > 23 || parts.minute > 59 || parts.second > 59) return invalid;
    return { ok: true, date: new Date(utc - offsetMinutes(offset) * 60_000), hasTime, ...(offset ? { offset: offsetMinutes(offset) } : {}) };
  }
  const at = DateTime.fromObject(parts, { zone });
  if (!at.isValid || at.month !== parts.month || at.day !== parts.day) return invalid;
  return { ok: true, date: at.toJSDate(), hasTime };
}

function offsetMinutes(offset: string | undefined): number {
  if (!offset || offset.toUpperCase() === 'Z') return 0;
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
  const total = Number(hours) * 60 + Number(minutes ?? 0);
  return sign === '-' ? -total : total;
}

/**
 * Calendar parts of an instant as seen in `zone`, or at a fixed `offset` in minutes, for permalinks
 * like /{year}/{month}/{slug}/.
 */
export function calendarParts(date: Date, zone: string, offset?: number): { year: string; month: string; day: string } {
  const local = offset === undefined ? DateTime.fromJSDate(date, { zone }) : DateTime.fromJSDate(date, { zone: FixedOffsetZone.instance(offset) });
  return { year: local.toFormat('yyyy'), month: local.toFormat('MM'), day: local.toFormat('dd') };
}
