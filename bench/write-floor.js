// node bench/write-floor.js FROM TO: writes into TO (a folder that must not exist) the files a
// finished herald build left in FROM, and nothing else: no posts read, nothing rendered. The files'
// text is read into memory first, untimed; then, timed, every file is written as herald writes it
// (a folder made once, the bytes written straight to the file: less than herald's temporary file
// and rename), and where FROM has gzip and brotli copies of a file they are made from its bytes
// with herald's settings, as herald makes them. The work is split over two threads (this one and
// one more, as herald has), by file. Prints the timed milliseconds as JSON: the bench takes that as
// the floor under any Node tool that must write and precompress what herald writes.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// herald's own settings (src/output.ts).
const brotli = (data) =>
  brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 5,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_LGWIN]: Math.min(constants.BROTLI_MAX_WINDOW_BITS, Math.max(constants.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(data.length + 16)))),
    },
  });
const gzip = (data) => gzipSync(data, { level: 9 });

function writeAll(files, to) {
  const made = new Set();
  for (const { name, bytes, compress } of files) {
    const path = join(to, name);
    const dir = dirname(path);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(path, bytes);
    if (compress) {
      writeFileSync(`${path}.br`, brotli(bytes));
      writeFileSync(`${path}.gz`, gzip(bytes));
    }
  }
}

if (isMainThread) {
  const [from, to] = process.argv.slice(2);
  if (!from || !to || existsSync(to)) throw new Error('usage: node bench/write-floor.js FROM TO (TO must not exist)');
  const names = readdirSync(from, { recursive: true }).filter((name) => !/\.(br|gz)$/.test(name) && !/\.tmp$/.test(name));
  const files = [];
  for (const name of names) {
    const path = join(from, name);
    let bytes;
    try {
      bytes = readFileSync(path);
    } catch {
      continue; // a folder
    }
    files.push({ name, bytes, compress: existsSync(`${path}.br`) });
  }
  const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)];
  const started = process.hrtime.bigint();
  const other = new Worker(new URL(import.meta.url), { workerData: { files: halves[1], to } });
  const otherDone = new Promise((resolve, reject) => {
    other.on('message', resolve);
    other.on('error', reject);
  });
  writeAll(halves[0], to);
  await otherDone;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(JSON.stringify({ ms, files: files.length, compressed: files.filter((file) => file.compress).length, bytes: files.reduce((sum, file) => sum + file.bytes.length, 0) }));
} else {
  writeAll(workerData.files, workerData.to);
  parentPort.postMessage('done');
}
