// Listings split into pages of site.perPage posts, newest first: index.html is page 1, then
// page/2/index.html and on (Hugo's and Jekyll's paginate path), the same below each topic's folder.
import { join } from 'node:path';
import type { Config } from '../config.js';
import { listingPage } from '../layout.js';
import { listingUrl } from './paths.js';

/**
 * What a listing template is told about its page, under Jekyll's names (jekyll-paginate's
 * `paginator`), so a writer's Jekyll templates read it as they are: `*_path` from the host's root
 * as Jekyll gives them, `*_url` absolute, as every other URL herald gives templates.
 */
export interface Paginator {
  page: number;
  per_page: number;
  total_pages: number;
  total_posts: number;
  /** This page's own URL. */
  url: string;
  previous_page: number | null;
  previous_page_path: string | null;
  previous_page_url: string | null;
  next_page: number | null;
  next_page_path: string | null;
  next_page_url: string | null;
}

export interface ListingPage<T> {
  /** The page's file in the output folder. */
  path: string;
  paginator: Paginator;
  posts: T[];
}

/**
 * The pages of a listing of `posts` (newest first) in the folder `dir` below output ('' for the
 * site, topics/<slug>/ for a topic), site.perPage posts a page unless told otherwise (Infinity:
 * one page). An empty listing still has its first page.
 *
 * The first page takes the posts that do not fill a page of their own (so it shows perPage to
 * 2 x perPage - 1 posts), and the other pages are counted off from the oldest post. A new post
 * then changes the first page only, and the other pages stay as they were, for readers' caches
 * and for the build, until the first page has a whole page to give up (every perPage-th post);
 * Hugo and Jekyll move every post on every page along by one instead.
 */
export function paginate<T>(posts: T[], dir: string, config: Config, perPage = config.site.perPage): ListingPage<T>[] {
  const total = Math.max(1, Math.floor(posts.length / perPage));
  // (With one page, perPage may be Infinity: 0 x Infinity is NaN.)
  const first = total === 1 ? posts.length : posts.length - (total - 1) * perPage;
  // Each page's address is named by up to three pages (its own, and its neighbours' links): made once.
  const urls = Array.from({ length: total }, (_, i) => listingUrl(config, dir, i + 1));
  const paths = urls.map((href) => new URL(href).pathname);
  const url = (k: number) => urls[k - 1]!;
  const pathOf = (k: number) => paths[k - 1]!;
  return Array.from({ length: total }, (_, i) => {
    const page = i + 1;
    const previous = page > 1 ? page - 1 : null;
    const next = page < total ? page + 1 : null;
    const start = page === 1 ? 0 : first + (page - 2) * perPage;
    return {
      path: join(config.paths.output, listingPage(dir, page)),
      posts: posts.slice(start, page === 1 ? first : start + perPage),
      paginator: {
        page,
        per_page: Number.isFinite(perPage) ? perPage : posts.length,
        total_pages: total,
        total_posts: posts.length,
        url: url(page),
        previous_page: previous,
        previous_page_path: previous === null ? null : pathOf(previous),
        previous_page_url: previous === null ? null : url(previous),
        next_page: next,
        next_page_path: next === null ? null : pathOf(next),
        next_page_url: next === null ? null : url(next),
      },
    };
  });
}
