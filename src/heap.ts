// A send walks a list of any length with a small live heap (tens of MB), but V8 lets the old
// generation grow to four times what survived the last full collection before it collects again,
// so a long send's memory peaks far above what it holds. Node takes no heap limit once started,
// and one set when starting would bind builds too: while a send runs, herald collects itself when
// the heap passes a ceiling.
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | undefined;

/**
 * Starts watching the heap: a full collection whenever what is used grows `headroomMb` past what
 * was in use at the start. Returns the stop.
 */
export function keepHeapNear(headroomMb: number, everyMs = 250): () => void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    // Flags set now reach contexts made now: the new context has gc(), this one never will.
    collect = vm.runInNewContext('gc') as () => void;
  }
  const ceiling = process.memoryUsage().heapUsed + headroomMb * 1024 * 1024;
  const timer = setInterval(() => {
    if (process.memoryUsage().heapUsed > ceiling) collect!();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
