import { createRequire } from 'node:module';
import type { HtmlToTextOptions } from 'html-to-text';

// html-to-text, with the HTML parser under it, is some 300 KB of code. It is loaded the first
// time HTML is read as text (an email's text part, a post written in HTML), so a build of
// markdown posts does not pay to load it. A require, as the callers are synchronous.
const load = createRequire(import.meta.url);
let convert: typeof import('html-to-text').convert | undefined;

/** HTML as plain text, laid out as `options` say. */
export function htmlAsText(html: string, options: HtmlToTextOptions): string {
  convert ??= (load('html-to-text') as typeof import('html-to-text')).convert;
  return convert(html, options);
}
