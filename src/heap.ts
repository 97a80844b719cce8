// A send walks a list of any length with a small live heap (tens of MB), but V8 lets the old
// generation grow to four times what survived the last full collection before it collects again,
// so a long send's memory peaks far above what it holds. Node takes no heap limit once started,
// and one set when starting would bind builds too: while a send runs, herald collects itself when
// the heap passes a ceiling.
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | undefined;
let growingSlowly = false;

/**
 * From now on the old generation grows by a quarter past what survived the last full collection,
 * where V8 otherwise lets it grow to up to four times that. A build holds a few KB a post (about
 * 160 MB live at 50,000 posts with pages) but peaked at 3 to 4 times that between collections;
 * the collections this adds are concurrent, and cost a build no measurable CPU at 10,000 posts.
 */
export function growHeapSlowly(): void {
  if (growingSlowly) return;
  v8.setFlagsFromString('--heap-growing-percent=25');
  growingSlowly = true;
}

/**
 * Starts watching the heap: a full collection whenever what is used has grown `headroomMb` past
 * what was left after the last one (or at the start). Measured from what is left, not from the
 * start, so a send whose live data outgrows the headroom is not collected on every check.
 * Returns the stop.
 */
export function keepHeapNear(headroomMb: number, everyMs = 250): () => void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    // Flags set now reach contexts made now: the new context has gc(), this one never will.
    collect = vm.runInNewContext('gc') as () => void;
  }
  const headroom = headroomMb * 1024 * 1024;
  let ceiling = process.memoryUsage().heapUsed + headroom;
  const timer = setInterval(() => {
    if (process.memoryUsage().heapUsed <= ceiling) return;
    collect!();
    ceiling = process.memoryUsage().heapUsed + headroom;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
