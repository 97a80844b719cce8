import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const chunk = Buffer.allocUnsafe(16 * 1024);
const FIRST_READ = 1024;
const FRONT_MATTER_END = /\r?\n---[ \t]*\r?\n/;

/**
 * A post file's text. With `frontOnly`, reading stops once the front matter is complete, which is
 * all that loading posts needs: bodies are read again, whole, for the few posts that are rendered.
 */
export function readPostText(path: string, frontOnly: boolean): string {
  const fd = openSync(path, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    let text = '';
    for (;;) {
      // Most front matter fits in the first kilobyte; decoding whole bodies would be wasted work.
      const read = readSync(fd, chunk, 0, frontOnly && !text ? FIRST_READ : chunk.length, null);
      if (read === 0) return text + decoder.end();
      text += decoder.write(chunk.subarray(0, read));
      if (frontOnly && hasWholeFrontMatter(text)) return text;
    }
  } finally {
    closeSync(fd);
  }
}

function hasWholeFrontMatter(text: string): boolean {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (!text.startsWith('---', start)) return text.length > start + 3;
  return FRONT_MATTER_END.test(text.slice(start + 3));
}

/** A post's text up to the end of its front matter; for a file that cannot be read, why. */
export function readFrontText(path: string): [text: string, error?: undefined] | [text: null, error: string] {
  try {
    return [readPostText(path, true)];
  } catch (error) {
    return [null, (error as NodeJS.ErrnoException).code ?? (error as Error).message];
  }
}
