import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { readPostBody } from './load.js';
import { renderMarkdown, summarize } from './markdown.js';
import type { PostMeta } from './parse.js';

export interface RenderedPost {
  meta: PostMeta;
  html: string;
  /** Plain text: the writer's summary, else the start of the first paragraph. */
  summary: string;
}

/** Reads a post's body and renders it, links made absolute: the one rendering feeds and emails share. */
export function renderPost(meta: PostMeta, config: Config, cwd: string): RenderedPost {
  const rendered = renderMarkdown(readPostBody(resolve(cwd, meta.file), config, meta.file), meta.url);
  return { meta, html: rendered.html, summary: meta.summary ?? summarize(rendered.firstParagraph) };
}
