// The reader thread behind readAhead in load.ts: reads front matter in order, in batches.
import { parentPort, workerData } from 'node:worker_threads';
import { readFrontMatters } from './read.js';

const paths = workerData as string[];
const BATCH = 100;
for (let start = 0; start < paths.length; start += BATCH) {
  parentPort!.postMessage(readFrontMatters(paths.slice(start, start + BATCH)));
}
