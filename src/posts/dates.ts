import { DateTime, FixedOffsetZone } from 'luxon';

// The forms writers really use: 2026-1-26, 2026-01-26, 2026-02-10 14:00, 2026-02-10 14:00:30,
// and ISO 8601 with Z or an offset. Without an offset the time is wall-clock time in `zone`.
const DATE_FORM =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[T ]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

export type ParsedDate = { ok: true; date: Date; hasTime: boolean } | { ok: false; reason: string };

export function parsePostDate(value: unknown, zone: string): ParsedDate {
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
  const at = DateTime.fromObject(parts, { zone: offset ? offsetZone(offset) : zone });
  if (!at.isValid || at.month !== parts.month || at.day !== parts.day) {
    return { ok: false, reason: `"${text}" is not a real date or time` };
  }
  return { ok: true, date: at.toJSDate(), hasTime: hour !== undefined };
}

function offsetZone(offset: string): FixedOffsetZone {
  if (offset.toUpperCase() === 'Z') return FixedOffsetZone.utcInstance;
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset)!;
  const total = Number(hours) * 60 + Number(minutes ?? 0);
  return FixedOffsetZone.instance(sign === '-' ? -total : total);
}

/** Calendar parts of an instant as seen in `zone`, for permalinks like /{year}/{month}/{slug}/. */
export function calendarParts(date: Date, zone: string): { year: string; month: string; day: string } {
  const local = DateTime.fromJSDate(date, { zone });
  return { year: local.toFormat('yyyy'), month: local.toFormat('MM'), day: local.toFormat('dd') };
}
