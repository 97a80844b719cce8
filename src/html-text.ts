import type { HtmlToTextOptions } from 'html-to-text';
import { htmlToText } from './lazy.js';

let convert: typeof import('html-to-text').convert | undefined;

/** HTML as plain text, laid out as `options` say. */
export function htmlAsText(html: string, options: HtmlToTextOptions): string {
  convert ??= htmlToText().convert;
  return convert(html, options);
}
