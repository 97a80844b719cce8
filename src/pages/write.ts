import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { hash, templatesStamp } from '../cache.js';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { writeIfChanged } from '../files.js';
import type { CachedPost } from '../posts/load.js';
import type { PostMeta } from '../posts/parse.js';
import { renderPost } from '../posts/render.js';
import { pagePath } from './paths.js';
import { loadPageTemplates, renderIndexPage, renderPostPage, renderRedirectPage } from './render.js';

export interface WrittenPages {
  written: string[];
  /** Each page herald made, with a fingerprint of what it was made from. */
  pages: Record<string, string>;
  /** What the rendered posts would show readers raw. */
  warnings: Problem[];
}

/**
 * The static archive: index.html and a page at each post's permalink. A post page is made again
 * only when its file or the templates changed; pages of posts no longer published are removed.
 */
export async function writePages(published: PostMeta[], cache: ReadonlyMap<string, CachedPost>, config: Config, cwd: string, previous: Record<string, string>): Promise<WrittenPages> {
  const templates = loadPageTemplates(config, cwd);
  const result: WrittenPages = { written: [], pages: {}, warnings: [] };
  const write = async (path: string, html: string) => {
    if (await writeIfChanged(path, html)) result.written.push(relative(cwd, path));
  };
  const stamp = templatesStamp(config);
  const stale = published.filter((post) => {
    const path = pagePath(config, post.url);
    const entry = cache.get(resolve(cwd, post.file));
    const fingerprint = hash([stamp, config.site, entry?.size, entry?.mtimeMs]);
    result.pages[path] = fingerprint;
    return previous[path] !== fingerprint || !existsSync(path);
  });
  // Rendering is synchronous; the writes overlap in the thread pool, a few dozen at a time.
  let next = 0;
  const worker = async () => {
    while (next < stale.length) {
      const post = stale[next++]!;
      const rendered = renderPost(post, config, cwd);
      result.warnings.push(...rendered.warnings);
      await write(pagePath(config, post.url), renderPostPage(rendered, templates, config));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const index = pagePath(config, config.site.url);
  await write(index, renderIndexPage(published, templates, config));
  result.pages[index] = '';
  // Old addresses of posts keep working: a redirect page at each, unless a page lives there now.
  for (const post of published) {
    for (const alias of post.aliases) {
      // An alias is a path from the host's root, the site's own path (Jekyll's baseurl) included.
      const path = pagePath(config, new URL(alias, config.site.url).href);
      if (path in result.pages) {
        result.warnings.push({ code: 'E_POST_FIELD', file: post.file, field: 'aliases', message: `the old address ${alias} is where another page lives now, so it does not lead to this post`, hint: 'remove it from aliases (or redirect_from)' });
        continue;
      }
      result.pages[path] = '';
      await write(path, renderRedirectPage(post.url));
    }
  }
  for (const path of Object.keys(previous)) {
    if (!(path in result.pages)) await rm(path, { force: true });
  }
  return result;
}
