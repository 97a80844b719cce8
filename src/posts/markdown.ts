import { Marked, type Token, type Tokens } from 'marked';

const marked = new Marked({ gfm: true, async: false });

export interface RenderedMarkdown {
  html: string;
  /** Plain text of the first paragraph, for a summary when the writer gave none. */
  firstParagraph: string;
}

/**
 * Renders GitHub-flavoured markdown and makes every link and image absolute against `baseUrl`
 * (the post's own URL), so the HTML works in a feed reader or an inbox, far from the site.
 */
export function renderMarkdown(markdown: string, baseUrl: string): RenderedMarkdown {
  const tokens = marked.lexer(markdown);
  let firstParagraph = '';
  marked.walkTokens(tokens, (token) => {
    if (token.type === 'link' || token.type === 'image') {
      const link = token as Tokens.Link | Tokens.Image;
      link.href = absoluteUrl(link.href, baseUrl);
    } else if (token.type === 'html') {
      const html = token as Tokens.HTML | Tokens.Tag;
      html.text = absoluteHtmlUrls(html.text, baseUrl);
    } else if (token.type === 'paragraph' && !firstParagraph) {
      firstParagraph = plainText((token as Tokens.Paragraph).tokens).trim();
    }
  });
  return { html: marked.parser(tokens), firstParagraph };
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

function plainText(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  return tokens
    .map((token) => {
      if ('tokens' in token && token.tokens) return plainText(token.tokens);
      if (token.type === 'image') return (token as Tokens.Image).text;
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
