// The files of the published site. Text that readers fetch again and again (feeds, pages, the
// sitemap) is written with gzip and brotli copies beside it (`rss.xml.gz`, `rss.xml.br`), made
// once when the file changes: herald start serves them as they are, and so do nginx's
// gzip_static / brotli_static and most static hosts, instead of compressing every answer.
import { rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { HeraldError } from './errors.js';
import { readExistingSync, removeEmptyFolders, writeFileAtomicSync } from './files.js';

/** Files worth compressing, by name. */
export const COMPRESSIBLE = /\.(html?|xml|rss|atom|rdf|json|xsl|opml|txt|css|js|mjs|svg)$/i;

/** The precompressed copies, with the Content-Encoding each is served with; best first. */
export const ENCODINGS = [
  { suffix: '.br', encoding: 'br' },
  { suffix: '.gz', encoding: 'gzip' },
] as const;

// Synchronous on purpose: for files of a few KB, zlib's async calls cost far more than the
// compression (each sets up a stream in the thread pool): 13 s of CPU against 2 s for 11,000
// pages. Brotli's window is sized to the file, which makes it 2.6x cheaper for the same output.
// Quality 5 compresses within a few percent of quality 11 at a fiftieth of the time.
const compressors: Record<(typeof ENCODINGS)[number]['encoding'], (data: Buffer) => Buffer> = {
  br: (data) =>
    brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 5,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_LGWIN]: Math.min(constants.BROTLI_MAX_WINDOW_BITS, Math.max(constants.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(data.length + 16)))),
      },
    }),
  gzip: (data) => gzipSync(data, { level: 9 }),
};

/**
 * Writes a published file only when its bytes differ (an unchanged file keeps its mtime, so HTTP
 * caches stay valid), then its compressed copies. A copy older than its file is stale: herald
 * start does not serve it, and the next write makes it again (a crash between the two, or a site
 * built before herald made copies). Returns whether the file changed. `compress: false` is for
 * what is fetched once and kept (RFC 5005 archive documents): their copies would cost most of a
 * large site's first build.
 *
 * A build that writes many files hands them to a thread of their own (output-worker.ts), so the
 * writing and compressing on one core overlaps the rendering on the other; the writes are done in
 * the order they were asked for. Callers keep a few dozen in flight.
 *
 * Whoever waits for the write must not hold the text meanwhile, and neither does this function
 * (it is not async: a suspended async call keeps its arguments alive). Texts held until the
 * writer thread answered outlived V8's young generation: copying and promoting them was most of
 * a build's garbage collection, 1.6 s of a 10,000-post feeds build.
 */
export function writeOutput(path: string, text: string, options: OutputOptions = {}): Promise<boolean> {
  let written: Promise<boolean>;
  try {
    const writer = outputThread();
    written = writer ? writer.write(path, text, options) : Promise.resolve(writeOutputSync(path, Buffer.from(text, 'utf8'), options));
  } catch (error) {
    written = Promise.reject(error);
  }
  return written.catch((error: unknown) => {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new HeraldError({ code: 'E_OUTPUT', file: path, message: `cannot write this file: ${code ?? message}`, hint: 'check that the output folder is writable and that nothing of yours (a folder, a read-only file) is where herald writes' });
  });
}

export interface OutputOptions {
  compress?: boolean;
}

/** writeOutput's work, on whichever thread does it. */
export function writeOutputSync(path: string, bytes: Buffer, { compress = true }: OutputOptions): boolean {
  const current = readExistingSync(path);
  const changed = !current?.equals(bytes);
  // A new file's copies are new too (a copy left without its file is replaced whatever its mode).
  const isNew = current === null;
  if (changed) writeFileAtomicSync(path, bytes, { isNew });
  if (!compress || !COMPRESSIBLE.test(path)) {
    // Copies left from when this file had them would now stand for other bytes.
    if (changed && COMPRESSIBLE.test(path)) for (const { suffix } of ENCODINGS) rmSync(path + suffix, { force: true });
    return changed;
  }
  if (!changed && copiesFresh(path)) return false;
  for (const { suffix, encoding } of ENCODINGS) writeFileAtomicSync(path + suffix, compressors[encoding](bytes), { isNew });
  return changed;
}

// A thread costs ~30 ms to start: worth it only past a few dozen files, and only in the built
// herald (dist/output-worker.js); run from TypeScript source, a worker could not load it.
const THREAD_AFTER_WRITES = 64;
const CAN_THREAD = !import.meta.url.endsWith('.ts');
let writesAsked = 0;
let thread: OutputThread | undefined;

function outputThread(): OutputThread | undefined {
  if (thread || !CAN_THREAD || ++writesAsked <= THREAD_AFTER_WRITES) return thread;
  thread = new OutputThread();
  return thread;
}

/** The writer thread and the writes it owes answers for; unreferenced while idle, so it never keeps herald running. */
class OutputThread {
  private readonly worker = new Worker(new URL('./output-worker.js', import.meta.url));
  private readonly pending = new Map<number, { resolve(changed: boolean): void; reject(error: Error): void }>();
  private nextId = 0;

  constructor() {
    this.worker.unref();
    this.worker.on('message', ({ id, changed, error }: OutputAnswer) => {
      const waiting = this.pending.get(id)!;
      this.pending.delete(id);
      if (!this.pending.size) this.worker.unref();
      if (error) waiting.reject(Object.assign(new Error(error.message), { code: error.code, path: error.path }));
      else waiting.resolve(changed!);
    });
    // The thread died (out of memory, a bug): every write it owed fails, and the next ones go to a new one.
    this.worker.on('error', (error) => {
      thread = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    });
  }

  write(path: string, text: string, options: OutputOptions): Promise<boolean> {
    const id = this.nextId++;
    if (!this.pending.size) this.worker.ref();
    // The text as it is: copying it to the other thread costs this one less than encoding it as
    // UTF-8 (the other thread does that).
    this.worker.postMessage({ id, path, text, options } satisfies OutputRequest);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }
}

export interface OutputRequest {
  id: number;
  path: string;
  text: string;
  options: OutputOptions;
}

export interface OutputAnswer {
  id: number;
  changed?: boolean;
  error?: { message: string; code?: string; path?: string };
}

/** Whether every compressed copy of `path` exists and is no older than the file. */
export function copiesFresh(path: string, mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs): boolean {
  if (mtimeMs === undefined) return false;
  return ENCODINGS.every(({ suffix }) => (statSync(path + suffix, { throwIfNoEntry: false })?.mtimeMs ?? -Infinity) >= mtimeMs);
}

/** Removes a published file and its compressed copies, and the folders below `root` this leaves empty. */
export async function removeOutput(path: string, root?: string): Promise<void> {
  await Promise.all([path, ...ENCODINGS.map(({ suffix }) => path + suffix)].map((file) => rm(file, { force: true })));
  if (root !== undefined) await removeEmptyFolders(dirname(path), root);
}
