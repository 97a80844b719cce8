import type { Clock } from './newsletter/ports.js';

/**
 * The clock of a command: the real time, or with --now that moment. A one-shot command stands
 * still at it (every record and header says exactly --now); the worker runs on from it at the
 * real pace, so its schedule and scheduled posts still come.
 */
export function clockFrom(start: Date | undefined, runs: 'still' | 'on' = 'still'): Clock {
  if (!start) return { now: () => new Date() };
  if (runs === 'still') return { now: () => new Date(start) };
  const offset = start.getTime() - Date.now();
  return { now: () => new Date(Date.now() + offset) };
}
