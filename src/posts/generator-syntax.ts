// Writers bring a Jekyll, Hugo or Eleventy posts folder as it is. Those generators ran template
// syntax inside the markdown before rendering it; herald renders the markdown alone, so that syntax
// reaches readers as text. This module turns the two constructs with a plain markdown meaning into
// markdown (Liquid's raw and Jekyll's highlight), and reports the rest, with the line in the file.

import type { Problem, ProblemCode } from '../errors.js';

export interface PreparedBody {
  markdown: string;
  warnings: Problem[];
}

const CODE: ProblemCode = 'E_POST_SYNTAX';
/** A post written for another generator can hold hundreds of constructs; the first ones show the way. */
const MAX_WARNINGS = 20;
/** Constructs are shown in messages up to this many characters. */
const SHOWN = 60;

/** Every construct starts with one of these; most posts contain none, and then nothing else runs. */
const QUICK = /\{[{%:]|:::/;

// `{% raw %}…{% endraw %}`, also written `{%- raw -%}`. Liquid takes the inside literally, and the
// dashes trim the whitespace outside the markers.
const RAW = /\{%(-?)\s*raw\s*-?%\}([\s\S]*?)\{%-?\s*endraw\s*(-?)%\}/g;
// Jekyll's language names (VALID_LANG_RX) and options such as `linenos`, which fenced code has no
// use for: herald's pages do not number lines.
const HIGHLIGHT = /\{%-?\s*highlight\s+([A-Za-z0-9.+#_-]+)[^%]*?-?%\}/;
const END_HIGHLIGHT = /\{%-?\s*endhighlight\s*-?%\}/g;
// On one line with what code spans and raw text are blanked out of: Hugo shortcodes (checked first,
// as they start like Liquid output), Liquid output, Liquid tags (possibly continued on later lines)
// and kramdown attribute lists and extensions.
const CONSTRUCT = /\{\{[<%].*?(?:[>%]\}\}|$)|\{\{.*?\}\}|\{%-?\s*[A-Za-z_].*?(?:%\}|$)|\{:[^}]*\}/g;
// markdown-it-container, Docusaurus and pandoc: `::: note` opens, a bare `:::` closes.
const CONTAINER = /^ {0,3}:{3,}[ \t]*[^\s:]/;
const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])([ \t]+|$)/;
const QUOTE_MARKERS = /^(?: {0,3}> ?)+/;
const BACKTICKS = /`+/g;

/**
 * Prepares a post's markdown body written for Jekyll, Hugo or Eleventy: removes Liquid raw markers
 * (keeping what they enclose as written), turns Jekyll `{% highlight %}` blocks into fenced code,
 * and warns about the template syntax readers would see as text. Code (fenced, indented and inline)
 * is the writer's literal text and never warned about. `firstLine` is the file's line number of the
 * body's first line, so warnings name the line in the file. With `liquid`, the body has been
 * through Liquid already (posts.liquid): what looks like Liquid now is the writer's text.
 */
export function prepareBody(body: string, file: string, firstLine: number, options: { liquid?: boolean } = {}): PreparedBody {
  // includes() first: a scan for one character is several times quicker than the regex, and
  // prose (no braces at all) is most posts.
  if (!(body.includes('{') ? QUICK.test(body) : body.includes(':::'))) return { markdown: body, warnings: [] };
  const unraw = removeRaw(body);
  const found: Found[] = [];
  const markdown = scan(unraw.text, unraw.literal, found);
  const shown = options.liquid ? found.filter((construct) => !construct.kind.startsWith('liquid')) : found;
  return { markdown, warnings: report(shown, (offset) => firstLine + lineIndex(body, unraw.originalOffset(offset)), file) };
}

interface Unraw {
  text: string;
  /** Ranges of `text` that were inside raw markers, sorted. */
  literal: Array<[number, number]>;
  /** Where a character of `text` was in the body. */
  originalOffset: (offset: number) => number;
}

/**
 * Liquid ran before markdown on the old site, so raw markers count wherever they are, code included
 * (the usual place: a code sample that shows Liquid is wrapped in raw so Jekyll leaves it alone).
 */
function removeRaw(body: string): Unraw {
  if (!body.includes('raw')) return { text: body, literal: [], originalOffset: (offset) => offset };
  let text = '';
  const literal: Array<[number, number]> = [];
  // [offset in text, offset in body] where each copied stretch starts.
  const segments: Array<[number, number]> = [];
  const copy = (from: number, to: number) => {
    if (to <= from) return;
    segments.push([text.length, from]);
    text += body.slice(from, to);
  };
  let cursor = 0;
  for (const match of body.matchAll(RAW)) {
    let before = match.index;
    if (match[1]) while (before > cursor && isSpace(body.charCodeAt(before - 1))) before--;
    copy(cursor, before);
    const content = match[2]!;
    const contentStart = match.index + match[0].indexOf('%}') + 2;
    literal.push([text.length, text.length + content.length]);
    copy(contentStart, contentStart + content.length);
    cursor = match.index + match[0].length;
    if (match[3]) while (cursor < body.length && isSpace(body.charCodeAt(cursor))) cursor++;
  }
  copy(cursor, body.length);
  if (segments.length === 0) segments.push([0, 0]);
  const originalOffset = (offset: number) => {
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (segments[middle]![0] <= offset) low = middle;
      else high = middle - 1;
    }
    const [from, original] = segments[low]!;
    return original + (offset - from);
  };
  return { text, literal, originalOffset };
}

type Kind = 'liquid-tag' | 'liquid-output' | 'shortcode' | 'kramdown' | 'container';

interface Found {
  kind: Kind;
  /** Offset in the text scanned (raw markers removed). */
  offset: number;
  /** The construct as written, for the message. */
  text: string;
  /** Tag or shortcode name, lower-cased, for a hint that fits it. */
  name: string;
}

/**
 * Walks the text line by line, knowing only as much markdown as decides what is code: fenced and
 * indented blocks (lists move the indentation) and code spans. Returns the text with highlight
 * blocks made fenced code; constructs outside code go to `found`.
 */
function scan(text: string, literal: Array<[number, number]>, found: Found[]): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let offset = 0;
  let fence: { char: string; length: number } | undefined;
  let blankBefore = true;
  let codeBefore = false;
  let paragraph = false;
  let listIndent = 0;
  // Length of a code span's backtick run left open on an earlier line of the paragraph.
  let openTicks = 0;
  let literalIndex = 0;

  for (let i = 0; i < lines.length; offset += lines[i]!.length + 1, i++) {
    const line = lines[i]!;
    const structure = line.replace(QUOTE_MARKERS, '');
    if (fence) {
      out.push(line);
      const close = FENCE.exec(structure);
      if (close && close[2]![0] === fence.char && close[2]!.length >= fence.length && !close[3]!.trim()) fence = undefined;
      continue;
    }
    if (!structure.trim()) {
      out.push(line);
      blankBefore = true;
      paragraph = false;
      openTicks = 0;
      continue;
    }
    const indent = indentation(structure);
    if (indent >= listIndent + 4 && (blankBefore || codeBefore) && !paragraph) {
      out.push(line);
      blankBefore = false;
      codeBefore = true;
      continue;
    }
    const opening = FENCE.exec(structure);
    if (opening && !(opening[2]![0] === '`' && opening[3]!.includes('`'))) {
      fence = { char: opening[2]![0]!, length: opening[2]!.length };
      out.push(line);
      blankBefore = codeBefore = paragraph = false;
      openTicks = 0;
      continue;
    }
    const item = LIST_ITEM.exec(structure);
    if (item) listIndent = item[1]!.length + item[2]!.length + Math.min(item[3]!.length || 1, 4);
    else if (blankBefore && indent < listIndent) listIndent = 0;
    blankBefore = codeBefore = false;
    paragraph = !/^ {0,3}#{1,6}(\s|$)/.test(structure);

    while (literalIndex < literal.length && literal[literalIndex]![1] <= offset) literalIndex++;
    const blanks: Array<[number, number]> = [];
    for (let l = literalIndex; l < literal.length && literal[l]![0] < offset + line.length; l++) {
      blanks.push([Math.max(0, literal[l]![0] - offset), Math.min(line.length, literal[l]![1] - offset)]);
    }
    if (openTicks || line.includes('`')) openTicks = codeSpans(line, openTicks, () => paragraphRest(text, offset + line.length), blanks);
    const visible = blanks.length ? blank(line, blanks) : line;
    if (!(visible.includes('{') ? QUICK.test(visible) : visible.includes(':::'))) {
      out.push(line);
      continue;
    }

    const highlight = HIGHLIGHT.exec(visible);
    if (highlight) {
      const start = offset + highlight.index;
      END_HIGHLIGHT.lastIndex = start + highlight[0].length;
      const end = END_HIGHLIGHT.exec(text);
      if (end) {
        findConstructs(visible.slice(0, highlight.index), offset, found);
        const before = line.slice(0, highlight.index);
        const code = text.slice(start + highlight[0].length, end.index).replace(/^[\r\n]+|[\r\n]+$/g, '');
        const lineEnd = text.indexOf('\n', end.index);
        const after = text.slice(end.index + end[0].length, lineEnd === -1 ? text.length : lineEnd);
        out.push(...fencedCode(before, highlight[1]!, code, after));
        // Go on after the line holding {% endhighlight %}.
        while (i + 1 < lines.length && offset + lines[i]!.length < end.index) {
          offset += lines[i]!.length + 1;
          i++;
        }
        paragraph = !!after.trim();
        openTicks = 0;
        continue;
      }
    }
    findConstructs(visible, offset, found);
    const container = CONTAINER.exec(visible);
    if (container) found.push({ kind: 'container', offset: offset + visible.indexOf(':'), text: visible.trim(), name: '' });
    out.push(line);
  }
  return out.join('\n');
}

function findConstructs(visible: string, offset: number, found: Found[]): void {
  if (!visible.includes('{')) return;
  for (const match of visible.matchAll(CONSTRUCT)) {
    const text = match[0];
    let kind: Kind;
    let name: string;
    if (text.startsWith('{{<') || text.startsWith('{{%')) {
      const head = /^\{\{[<%]\s*(\/(?!\*))?\s*(?:\/\*\s*)?([\w./-]*)/.exec(text)!;
      if (head[1]) continue; // the closing half of a pair: the opening one is reported
      kind = 'shortcode';
      name = head[2]!;
    } else if (text.startsWith('{{')) {
      if (!text.slice(2, -2).replace(/-/g, '').trim()) continue;
      kind = 'liquid-output';
      name = '';
    } else if (text.startsWith('{%')) {
      name = /^\{%-?\s*(\w+)/.exec(text)![1]!;
      // Reported with the tag that opened their block.
      if (/^(end\w+|else|elsif|when)$/.test(name)) continue;
      kind = 'liquid-tag';
    } else {
      if (text.startsWith('{:/')) continue; // closes a kramdown extension such as {::comment}
      kind = 'kramdown';
      name = /^\{::?\s*(\w*)/.exec(text)![1]!;
    }
    found.push({ kind, offset: offset + match.index, text, name: name.toLowerCase() });
  }
}

/**
 * Blanks out the line's code spans into `blanks`, the CommonMark way: a run of backticks is closed
 * by the next run of the same length, in the same paragraph; one never closed is literal backticks.
 * Returns the length of a run still open at the end of the line (0 for none).
 */
function codeSpans(line: string, openTicks: number, rest: () => string, blanks: Array<[number, number]>): number {
  let from = 0;
  if (openTicks) {
    const close = nextRun(line, 0, openTicks);
    if (!close) {
      blanks.push([0, line.length]);
      return openTicks;
    }
    blanks.push([0, close]);
    from = close;
  }
  BACKTICKS.lastIndex = from;
  for (let run = BACKTICKS.exec(line); run; run = BACKTICKS.exec(line)) {
    let start = run.index;
    let length = run[0].length;
    // A backslash escapes the first backtick of a run.
    if (escaped(line, start)) {
      start++;
      length--;
      if (!length) continue;
    }
    const close = nextRun(line, run.index + run[0].length, length);
    if (close) {
      blanks.push([start, close]);
      BACKTICKS.lastIndex = close;
    } else if (nextRun(rest(), 0, length)) {
      blanks.push([start, line.length]);
      return length;
    }
  }
  return 0;
}

/** The end of the next run of exactly `length` backticks in `text` from `from`, or 0. */
function nextRun(text: string, from: number, length: number): number {
  const runs = /`+/g;
  runs.lastIndex = from;
  for (let run = runs.exec(text); run; run = runs.exec(text)) if (run[0].length === length) return run.index + length;
  return 0;
}

/** The paragraph's text after `offset` (up to the next blank line), where a code span may close. */
function paragraphRest(text: string, offset: number): string {
  const end = /\n[ \t]*(?:\n|$)/.exec(text.slice(offset));
  return text.slice(offset, end ? offset + end.index : text.length);
}

function escaped(line: string, index: number): boolean {
  let backslashes = 0;
  while (index - backslashes > 0 && line.charCodeAt(index - backslashes - 1) === 92) backslashes++;
  return backslashes % 2 === 1;
}

function blank(line: string, ranges: Array<[number, number]>): string {
  const chars = line.split('');
  for (const [from, to] of ranges) for (let i = from; i < to; i++) chars[i] = ' ';
  return chars.join('');
}

/**
 * Jekyll's highlight block as fenced code. The fence is longer than any backtick run opening a line
 * of the code, so code that shows a fence stays inside it.
 */
function fencedCode(before: string, language: string, code: string, after: string): string[] {
  const longest = Math.max(0, ...(code.match(/^[ \t]*`+/gm) ?? []).map((run) => run.trim().length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  // Text before the tag stays on its own line (a fence must start one); blank text before it is
  // the indentation of a list item the block belongs to.
  const indent = before.trim() ? '' : before;
  return [
    ...(before.trim() ? [before.trimEnd()] : []),
    `${indent}${fence}${language}`,
    ...(code ? [code] : []),
    `${indent}${fence}`,
    ...(after.trim() ? [after.trimStart()] : []),
  ];
}

function indentation(line: string): number {
  let width = 0;
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code === 32) width++;
    else if (code === 9) width += 4 - (width % 4);
    else break;
  }
  return width;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** 0-based line of `offset` in `text`. */
function lineIndex(text: string, offset: number): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

function report(found: Found[], lineOf: (offset: number) => number, file: string): Problem[] {
  const warnings = found.slice(0, MAX_WARNINGS).map((construct): Problem => ({ code: CODE, file, line: lineOf(construct.offset), ...describe(construct) }));
  if (found.length > MAX_WARNINGS) {
    const more = found.length - MAX_WARNINGS;
    warnings.push({
      code: CODE,
      file,
      line: lineOf(found[MAX_WARNINGS]!.offset),
      message: `and ${more} more template construct${more === 1 ? '' : 's'} from here on that readers would see as text`,
      hint: 'fix the ones above the same way, then build again to see the rest',
    });
  }
  return warnings;
}

const LIQUID_CHOICE = 'or set posts.liquid: true in the config to run Liquid in posts';

function describe({ kind, text, name }: Found): { message: string; hint: string } {
  const shown = show(text);
  switch (kind) {
    case 'liquid-output':
      return {
        message: `Liquid output ${shown} is not filled in: readers see it as text`,
        hint: `write the value it stood for, ${LIQUID_CHOICE}`,
      };
    case 'liquid-tag':
      return { message: `Liquid tag ${shown} is not run: readers see it as text`, hint: liquidHint(name) };
    case 'shortcode':
      return { message: `Hugo shortcode ${shown} is not rendered: readers see it as text`, hint: shortcodeHint(name) };
    case 'kramdown':
      if (name === 'toc') {
        return { message: `kramdown ${shown} is not applied: readers see it as text`, hint: 'herald makes no table of contents: delete it, and the "* TOC" list item above it' };
      }
      if (text.startsWith('{::')) {
        return { message: `kramdown extension ${shown} is not applied: readers see it as text`, hint: 'delete it: herald renders markdown the GitHub way, without kramdown options' };
      }
      return {
        message: `kramdown attribute list ${shown} is not applied: readers see it as text`,
        hint: 'delete it, or write the element it decorates as HTML with that attribute, e.g. <img src="…" alt="…" class="float-end">',
      };
    case 'container':
      return {
        message: `container ${shown} is not rendered: readers see its ::: lines as text`,
        hint: 'make it a blockquote that starts "> **Note:**", or an HTML <aside>, and delete the ::: lines',
      };
  }
}

function liquidHint(name: string): string {
  switch (name) {
    case 'include':
    case 'include_relative':
      return `paste in the HTML or markdown the include produced, ${LIQUID_CHOICE}`;
    case 'post_url':
    case 'link':
      return `write the page's URL instead, ${LIQUID_CHOICE}`;
    case 'comment':
      return 'delete it and the comment down to {% endcomment %}: the old site hid them';
    case 'highlight':
      return 'close it with {% endhighlight %}, or make it a ``` fenced code block with the language';
    case 'raw':
      return 'close it with {% endraw %}, or delete it: herald does not run Liquid, so text needs no raw';
    default:
      return `replace it with what it produced on the old site, ${LIQUID_CHOICE}`;
  }
}

function shortcodeHint(name: string): string {
  switch (name) {
    case 'youtube':
    case 'vimeo':
      return 'replace it with a link to the video, or the <iframe> the old site made';
    case 'figure':
      return 'replace it with ![description](image.jpg), or a <figure> in HTML';
    case 'gist':
      return 'link to the gist, or paste its code into a ``` fenced code block';
    case 'highlight':
      return 'make it a ``` fenced code block with the language, and delete the closing shortcode';
    case 'ref':
    case 'relref':
      return "write the page's URL instead";
    case 'notice':
    case 'note':
    case 'hint':
    case 'tip':
    case 'warning':
    case 'alert':
    case 'admonition':
    case 'callout':
      return 'make it a blockquote that starts "> **Note:**", and delete the closing shortcode';
    default:
      return "replace it with the HTML it produced, as the old site's page source shows it";
  }
}

/** The construct on one line, shortened in the middle so its closing delimiter still shows. */
function show(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= SHOWN) return flat;
  const close = /\s?(?:-?%\}|[>%]\}\}|\}\}|\})$/.exec(flat)?.[0] ?? '';
  return `${flat.slice(0, SHOWN - close.length - 1).trimEnd()}…${close}`;
}
