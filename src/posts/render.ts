import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { prepareBody } from './generator-syntax.js';
import { renderBodyLiquid } from './liquid.js';
import { readPostBody } from './load.js';
import { htmlAsText } from '../html-text.js';
import { absoluteHtmlUrls, excerptText, markdownText, MORE, renderMarkdown, summarize } from './markdown.js';
import type { PostMeta } from './parse.js';

export interface RenderedPost {
  meta: PostMeta;
  html: string;
  /**
   * Plain text, never empty (an RSS item needs a description): the writer's summary, else what
   * comes before <!--more-->, else the start of the first paragraph, else of the post's text
   * (a post of headings, lists or code), else the title.
   */
  summary: string;
  /** What readers would see raw: template syntax of the generator the post was written for. */
  warnings: Problem[];
}


// A post written in HTML, read as text for its summary: words only, no link targets or images.
const TEXT_OPTIONS = {
  wordwrap: false as const,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ],
};

// An excerpt is whole (up to 1,000 characters); a summary taken from the post is shorter.
const EXCERPT_MAX = 1000;

/** Reads a post's body and renders it, links made absolute: the one rendering feeds, pages and emails share. */
export function renderPost(meta: PostMeta, config: Config, cwd: string): RenderedPost {
  return renderBody(readPostBody(resolve(cwd, meta.file), meta.file), meta, config);
}

/** Pure: a post's body as readers get it. */
export function renderBody(body: string, meta: PostMeta, config: Config): RenderedPost {
  const liquid = config.posts.liquid ? renderBodyLiquid(body, meta, config) : { text: body, warnings: [] };
  const prepared = prepareBody(liquid.text, meta.file, meta.bodyLine, { liquid: config.posts.liquid });
  const warnings = [...liquid.warnings, ...prepared.warnings];
  if (meta.format === 'html') {
    const html = absoluteHtmlUrls(prepared.markdown, meta.url);
    const more = MORE.exec(html);
    const summary =
      meta.summary || (more && summarize(htmlAsText(html.slice(0, more.index), TEXT_OPTIONS), EXCERPT_MAX)) || summarize(htmlAsText(html, TEXT_OPTIONS)) || meta.title;
    return { meta, html, summary, warnings };
  }
  const rendered = renderMarkdown(prepared.markdown, meta.url);
  const excerpt = meta.summary ? undefined : excerptText(prepared.markdown);
  const summary =
    meta.summary || (excerpt && summarize(excerpt, EXCERPT_MAX)) || summarize(rendered.firstParagraph) || summarize(markdownText(prepared.markdown)) || meta.title;
  return { meta, html: rendered.html, summary, warnings };
}
