// The thread behind writeOutput (output.ts) in a large build: writes each published file and its
// compressed copies, in the order asked, and answers whether the file changed.
import { parentPort } from 'node:worker_threads';
import { writeOutputSync, type OutputAnswer, type OutputRequest } from './output.js';

parentPort!.on('message', ({ id, path, text, options }: OutputRequest) => {
  let answer: OutputAnswer;
  try {
    answer = { id, changed: writeOutputSync(path, Buffer.from(text, 'utf8'), options) };
  } catch (error) {
    const { message, code, path: at } = error as NodeJS.ErrnoException;
    answer = { id, error: { message, code, path: at } };
  }
  parentPort!.postMessage(answer);
});
