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
  // Every link written in the post is absolute by now (its quotes, in text or code, are escaped
  // as &quot;), so a bare `href="#` left is one marked-footnote wrote from its renderers.
  html = html.replace(/ href="(#[^"]*)"/g, (_all, fragment: string) => ` href="${absoluteUrl(fragment, baseUrl).replace(/"/g, '&quot;')}"`);
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

/**
 * Raw HTML (typed into a post, or a template's output): rewrite its src and href attributes the
 * same way. `keep` leaves some values as they are.
 */
export function absoluteHtmlUrls(html: string, baseUrl: string, keep: (url: string) => boolean = () => false): string {
  return html.replace(
    /(\s(?:src|href|poster)\s*=\s*)("([^"]*)"|'([^']*)'|([^\s"'>]+))/gi,
    (all, prefix: string, _value, double?: string, single?: string, bare?: string) => {
      const value = double ?? single ?? bare ?? '';
      if (keep(value)) return all;
      const url = absoluteUrl(value, baseUrl);
      return `${prefix}"${url.replace(/"/g, '&quot;')}"`;
    },
  );
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
