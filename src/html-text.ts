import type { HtmlToTextOptions } from 'html-to-text';
import { loadHtmlToText } from './lazy.js';

/** HTML as plain text, laid out as `options` say. */
export function htmlAsText(html: string, options: HtmlToTextOptions): string {
  return loadHtmlToText().convert(html, options);
}
