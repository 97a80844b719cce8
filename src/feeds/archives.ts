// RFC 5005 archived feeds: how a feed's posts are spread over its subscription document and its
// archive documents, and how those link to each other. The same pages serve JSON Feed's next_url.
import type { Config } from '../config.js';
import { archiveDir } from '../layout.js';
import type { PostMeta } from '../posts/parse.js';
import type { FeedSpec, FeedUrls } from './model.js';

/** One document of a feed as readers fetch it, in each format. */
export interface FeedDocument {
  feed: FeedSpec;
  /** 0 for the subscription document; k >= 1 for the k-th archive, 1 holding the oldest posts. */
  page: number;
  /** Folder below output. */
  dir: string;
  /** Newest first. */
  posts: PostMeta[];
  self: FeedUrls;
  /**
   * RFC 5005's fh:complete (the subscription document holds every post) or fh:archive (an
   * archive document); undefined for a subscription document that has archives.
   */
  history?: 'complete' | 'archive';
  /** The subscription document, named by each archive (RFC 5005's "current"). */
  current?: FeedUrls;
  /** The next older archive ("prev-archive"; JSON Feed's next_url, the next page back). */
  prev?: FeedUrls;
  /** The next newer archive ("next-archive"); the newest archive has none, as no archive follows it. */
  next?: FeedUrls;
}

/**
 * How many archive documents a feed of `total` posts has. Archive k holds the posts numbered
 * (k-1)*limit+1 to k*limit counting from the oldest, so a full page never changes as posts are
 * added. A page exists once any of its posts has left the subscription document (which always
 * shows the newest `limit`), so every post is in some document; the newest archive may repeat
 * some of the subscription document's posts, which readers merge by their ids as they merge
 * every fetch of a feed.
 */
export function archiveCount(total: number, limit: number): number {
  return total > limit ? Math.ceil(total / limit) - 1 : 0;
}

/** The subscription document and every archive document of a feed. */
export function feedDocuments(feed: FeedSpec, limit: number, files: Config['feed']['paths']): FeedDocument[] {
  const total = feed.posts.length;
  const count = archiveCount(total, limit);
  // Archives live below the feed's own folder, under the same file names.
  const archiveUrls = (k: number): FeedUrls => {
    const base = feed.base + archiveDir('', k);
    return { rss: base + files.rss, atom: base + files.atom, json: base + files.json };
  };
  const subscription: FeedDocument = {
    feed,
    page: 0,
    dir: feed.dir,
    posts: feed.posts.slice(0, limit),
    self: feed.links,
    history: count ? undefined : 'complete',
    prev: count ? archiveUrls(count) : undefined,
  };
  const archives = Array.from({ length: count }, (_, i): FeedDocument => {
    const k = i + 1;
    return {
      feed,
      page: k,
      dir: archiveDir(feed.dir, k),
      posts: feed.posts.slice(total - k * limit, total - (k - 1) * limit),
      self: archiveUrls(k),
      history: 'archive',
      current: feed.links,
      prev: k > 1 ? archiveUrls(k - 1) : undefined,
      next: k < count ? archiveUrls(k + 1) : undefined,
    };
  });
  return [subscription, ...archives];
}
