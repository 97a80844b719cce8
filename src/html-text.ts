import type { HtmlToTextOptions } from 'html-to-text';
import { loadHtmlToText } from './lazy.js';

// html-to-text compiles its options (selectors, formatters) on every convert(); herald's options
// are constants, so each is compiled once.
const compiled = new WeakMap<HtmlToTextOptions, (html: string) => string>();

/** HTML as plain text, laid out as `options` say. */
export function htmlAsText(html: string, options: HtmlToTextOptions): string {
  let convert = compiled.get(options);
  if (!convert) compiled.set(options, (convert = loadHtmlToText().compile(options)));
  return convert(html);
}
