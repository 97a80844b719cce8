import type { TokenizerCallbacks } from 'htmlparser2';
import { loadHtmlparser2 } from '../lazy.js';
import { Marked, type Token, type Tokens } from 'marked';
import markedFootnote from 'marked-footnote';
import { gfmHeadingId } from 'marked-gfm-heading-id';

export interface RenderedMarkdown {
  html: string;
  /** Plain text of the first paragraph, for a summary when the writer gave none. */
  firstParagraph: string;
}

/**
 * Renders GitHub-flavoured markdown, with footnotes and heading ids as GitHub makes them, and makes
 * every link and image absolute against `baseUrl` (the post's own URL), so the HTML works in a feed
 * reader or an inbox, far from the site.
 *
 * In-page links (`#my-heading`, and the footnotes' own links) become the post's URL plus the
 * fragment: on the post's page a browser still just scrolls, and in a feed reader (which resolves
 * a bare `#x` against the feed, or not at all) or a mail client they open the post at that place.
 */
export function renderMarkdown(markdown: string, baseUrl: string): RenderedMarkdown {
  let firstParagraph = '';
  // A walkTokens given to parse replaces the extensions' own: marked-footnote's moves the notes to
  // the end of the post, so it is called from ours.
  const extensionsWalkTokens = marked.defaults.walkTokens;
  let html: string;
  try {
    html = marked.parse(markdown, {
      walkTokens(token) {
        if (token.type === 'link' || token.type === 'image') {
          const link = token as Tokens.Link | Tokens.Image;
          link.href = absoluteUrl(link.href, baseUrl);
        } else if (token.type === 'html') {
          const html = token as Tokens.HTML | Tokens.Tag;
          html.text = absoluteHtmlUrls(html.text, baseUrl);
        } else if (token.type === 'paragraph' && !firstParagraph) {
          firstParagraph = plainText((token as Tokens.Paragraph).tokens).trim();
        } else if (token.type === 'footnote' || token.type === 'footnoteRef') {
          // The label goes into ids and an aria-label unescaped: `[^a"b]` would end the attribute.
          // Refs were matched to their notes while lexing, so changing every label alike is safe.
          const note = token as Tokens.Generic;
          note.label = escapeAttribute(String(note.label));
        }
        return extensionsWalkTokens?.call(this, token);
      },
    }) as string;
  } catch (error) {
    // marked-footnote keeps the post it is in the middle of inside the extension: start afresh
    // rather than carry a half-read post into the next one.
    marked = createMarked();
    throw error;
  }
  // Every link written in the post is absolute by now, so an <a> with a bare `href="#` left is one
  // marked-footnote wrote from its renderers. A tag, not just the attribute: a raw <pre> may show
  // href="#x" as text, which must stay as written.
  html = html.replace(/(<a (?:id="[^"]*" )?)href="(#[^"]*)"/g, (_all, start: string, fragment: string) => `${start}href="${absoluteUrl(fragment, baseUrl).replace(/"/g, '&quot;')}"`);
  return { html, firstParagraph };
}

// One instance for every post (one per call renders twice as slowly). marked-gfm-heading-id's
// slugger restarts in its preprocess hook, which parse runs for each post, so `## Notes` is
// `notes` in every post, and `notes-1` only for a second one in the same post.
function createMarked(): Marked {
  // GitHub's footnote ids are fn-1 and fnref-1 (behind its user-content- prefix); marked-footnote
  // derives both from one prefix, giving fn-1 and fn-ref-1.
  return new Marked({ gfm: true, async: false }, markedFootnote({ prefixId: 'fn-' }), gfmHeadingId());
}
let marked = createMarked();

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function absoluteUrl(href: string, baseUrl: string): string {
  if (!href) return href;
  try {
    return new URL(href, baseUrl).href;
  } catch {
    return href;
  }
}

// The attributes that hold a URL, and the elements each does on (null: any element).
const URL_ATTRIBUTES = new Map<string, ReadonlySet<string> | null>([
  ['href', null],
  ['src', null],
  ['srcset', new Set(['img', 'source'])],
  ['poster', new Set(['video'])],
  ['data', new Set(['object'])],
  ['cite', new Set(['blockquote', 'q', 'del', 'ins'])],
  ['action', new Set(['form'])],
]);
// Most HTML in a post has none of them: it is returned as it is, without being read.
const MAY_HOLD_URL = /(?:href|src|srcset|poster|data|cite|action)\s*=/i;
const SCHEME = /^\s*[a-z][a-z0-9+.-]*:/i;

/**
 * Raw HTML (typed into a post, or a template's output): makes the relative URLs in its attributes
 * absolute against `baseUrl`, each candidate of a srcset too. Only those attribute values change:
 * text (a <pre> code sample that shows src="..."), comments, scripts and absolute URLs stay as
 * written, byte for byte. `keep` leaves some relative values as they are.
 */
export function absoluteHtmlUrls(html: string, baseUrl: string, keep: (url: string) => boolean = () => false): string {
  if (!MAY_HOLD_URL.test(html)) return html;
  Object.assign(scan, { html, out: '', copied: 0, tag: '', attribute: '', valueStart: -1 });
  scan.rewrite = (url) => (url.trim() && !SCHEME.test(url) && !keep(url) ? absoluteUrl(url, baseUrl) : url);
  // A tokenizer per call: one reused would carry an unclosed <script> or <style> into the next.
  const { Tokenizer, QuoteType } = loadHtmlparser2();
  Object.assign(scan, { noValue: QuoteType.NoValue, unquoted: QuoteType.Unquoted });
  const tokenizer = new Tokenizer({ decodeEntities: false }, SCAN_CALLBACKS);
  tokenizer.write(html);
  tokenizer.end();
  const result = scan.copied ? scan.out + html.slice(scan.copied) : html;
  scan.html = scan.out = '';
  return result;
}

// What the tokenizer's callbacks share while absoluteHtmlUrls reads one piece of HTML. Module
// state, so a call makes no closures; absoluteHtmlUrls is synchronous and never re-entered.
// htmlparser2 loads only for a post whose raw HTML may hold a URL, so its QuoteType values are kept here.
const scan = { html: '', out: '', copied: 0, tag: '', attribute: '', valueStart: -1, rewrite: (url: string) => url, noValue: -1, unquoted: -1 };
const ignore = () => {};

// Entities are left as written, so a value is its bytes: `?a=1&amp;b=2` resolves to itself behind
// the new base and reads back the same. It also lets the tokenizer skip through text.
const SCAN_CALLBACKS: TokenizerCallbacks = {
  onopentagname(start, end) {
    scan.tag = scan.html.slice(start, end).toLowerCase();
  },
  onattribname(start, end) {
    scan.attribute = scan.html.slice(start, end).toLowerCase();
    scan.valueStart = -1;
  },
  onattribdata(start) {
    if (scan.valueStart < 0) scan.valueStart = start;
  },
  onattribend(quote, end) {
    const { html, attribute, valueStart } = scan;
    const elements = URL_ATTRIBUTES.get(attribute);
    if (elements === undefined || elements?.has(scan.tag) === false || valueStart < 0 || quote === scan.noValue) return;
    const quoted = quote !== scan.unquoted;
    const value = html.slice(valueStart, quoted ? end - 1 : end);
    const url = attribute === 'srcset' ? rewriteSrcset(value, scan.rewrite) : scan.rewrite(value);
    if (url === value) return;
    scan.out += `${html.slice(scan.copied, quoted ? valueStart - 1 : valueStart)}"${url.replace(/"/g, '&quot;')}"`;
    scan.copied = end;
  },
  onattribentity: ignore,
  oncdata: ignore,
  onclosetag: ignore,
  oncomment: ignore,
  ondeclaration: ignore,
  onend: ignore,
  onopentagend: ignore,
  onprocessinginstruction: ignore,
  onselfclosingtag: ignore,
  ontext: ignore,
  ontextentity: ignore,
};

const SEPARATORS = /[\s,]*/y;
const NOT_SPACE = /\S+/y;

/**
 * A srcset with each candidate's URL rewritten, and its width or density descriptor, the commas
 * and the spaces kept. A URL is a run without spaces (a data: URL's own comma included); commas
 * at its end separate it from the next candidate, as browsers read it.
 */
function rewriteSrcset(srcset: string, rewrite: (url: string) => string): string {
  let out = '';
  let at = 0;
  while (at < srcset.length) {
    SEPARATORS.lastIndex = at;
    const separators = SEPARATORS.exec(srcset)![0];
    out += separators;
    at += separators.length;
    if (at >= srcset.length) break;
    NOT_SPACE.lastIndex = at;
    const run = NOT_SPACE.exec(srcset)![0];
    const url = run.replace(/,+$/, '');
    out += rewrite(url);
    at += url.length;
    if (url.length === run.length) {
      // The descriptors, up to and with the comma that ends the candidate.
      const comma = srcset.indexOf(',', at);
      const end = comma < 0 ? srcset.length : comma + 1;
      out += srcset.slice(at, end);
      at = end;
    }
  }
  return out;
}

// Hugo's and WordPress's summary divider; Jekyll sites set excerpt_separator to it too.
export const MORE = /<!--\s*more\s*-->/i;

/**
 * The plain text before <!--more-->, or undefined when the post has none. The whole post is read,
 * so a footnote whose note sits below the divider is still known as one (and left out).
 */
export function excerptText(markdown: string): string | undefined {
  if (!MORE.test(markdown)) return undefined;
  const blocks: Token[] = [];
  for (const token of marked.lexer(markdown)) {
    if (token.type === 'html' && MORE.test(token.raw)) break;
    const inline = token.type === 'paragraph' ? (token as Tokens.Paragraph).tokens.findIndex((part) => part.type === 'html' && MORE.test(part.raw)) : -1;
    if (inline >= 0) {
      blocks.push({ ...token, tokens: (token as Tokens.Paragraph).tokens.slice(0, inline) } as Tokens.Paragraph);
      break;
    }
    blocks.push(token);
  }
  return blocksText(blocks).replace(/\s+/g, ' ').trim();
}

/** The plain text of a whole post, as an excerpt reads it: headings, lists, tables and code, no raw HTML. */
export function markdownText(markdown: string): string {
  return blocksText(marked.lexer(markdown)).replace(/\s+/g, ' ').trim();
}

function blocksText(tokens: Token[]): string {
  return tokens
    .map((token) => {
      switch (token.type) {
        case 'list':
          return (token as Tokens.List).items.map((item) => blocksText(item.tokens)).join(' ');
        case 'table': {
          const table = token as Tokens.Table;
          return [table.header, ...table.rows].map((row) => row.map((cell) => plainText(cell.tokens)).join(' ')).join(' ');
        }
        case 'blockquote':
          return blocksText((token as Tokens.Blockquote).tokens);
        case 'code':
          return (token as Tokens.Code).text;
        case 'footnotes':
        case 'html':
          return '';
        default:
          return 'tokens' in token && token.tokens ? plainText(token.tokens) : '';
      }
    })
    .join(' ');
}

function plainText(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  return tokens
    .map((token) => {
      // As the generators' summaries (Hugo's plainify, jekyll-feed's strip_html): an image adds no
      // words, so a post that opens with a picture is summed up by its first words.
      if (token.type === 'image') return '';
      if ('tokens' in token && token.tokens) return plainText(token.tokens);
      if (token.type === 'br') return ' ';
      if (token.type === 'html') return '';
      return 'text' in token ? String(token.text) : '';
    })
    .join('');
}

/** A summary of at most `max` characters, cut at a word boundary. */
export function summarize(text: string, max = 280): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, '')}…`;
}
