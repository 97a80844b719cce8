// The files of the published site. Text that readers fetch again and again (feeds, pages, the
// sitemap) is written with gzip and brotli copies beside it (`rss.xml.gz`, `rss.xml.br`), made
// once when the file changes: herald start serves them as they are, and so do nginx's
// gzip_static / brotli_static and most static hosts, instead of compressing every answer.
import { rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readExistingSync, writeFileAtomicSync } from './files.js';

/** Files worth compressing, by name. */
export const COMPRESSIBLE = /\.(html?|xml|json|xsl|opml|txt|css|js|mjs|svg)$/i;

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
 * Synchronous inside (see writeFileAtomicSync); a promise, so callers need not care.
 */
export async function writeOutput(path: string, text: string, { compress = true }: { compress?: boolean } = {}): Promise<boolean> {
  const bytes = Buffer.from(text, 'utf8');
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

/** Whether every compressed copy of `path` exists and is no older than the file. */
export function copiesFresh(path: string, mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs): boolean {
  if (mtimeMs === undefined) return false;
  return ENCODINGS.every(({ suffix }) => (statSync(path + suffix, { throwIfNoEntry: false })?.mtimeMs ?? -Infinity) >= mtimeMs);
}

/** Removes a published file and its compressed copies. */
export async function removeOutput(path: string): Promise<void> {
  await Promise.all([path, ...ENCODINGS.map(({ suffix }) => path + suffix)].map((file) => rm(file, { force: true })));
}
