import { v5 as uuidv5 } from 'uuid';
import type { Config } from '../config.js';
import { feedDir, stylesheetPath } from '../layout.js';
import type { PostMeta, Topic } from '../posts/parse.js';
import type { RenderedPost } from '../posts/render.js';

/** A post ready for a feed: its metadata plus the body rendered once. */
export type FeedEntry = RenderedPost;

/** A URL per feed format. */
export interface FeedUrls {
  rss: string;
  atom: string;
  json: string;
}

/** An entry's author when the post names none: the site's, with the site as their page. */
export interface FeedAuthor {
  name: string;
  email?: string;
  url: string;
}

/** One feed in all three formats: the whole site, or one topic. */
export interface FeedSpec {
  /** Folder below the output folder: '' for the site, 'topics/<slug>/' for a topic (layout's feedDir). */
  dir: string;
  topic?: Topic;
  /** The URL of that folder. */
  base: string;
  title: string;
  description: string;
  /** The page the feed is the feed of: the topic's page where there is one, else the site. */
  homeUrl: string;
  language: string;
  author: FeedAuthor;
  /** The subscription feed's URLs. */
  links: FeedUrls;
  /** Every published post of the feed, newest first; the subscription feed shows the first feed.limit. */
  posts: PostMeta[];
  /** Absolute image URLs: a small square one and a wider one. */
  icon?: string;
  logo?: string;
  /** WebSub hubs named in the subscription feed. */
  hubs: readonly string[];
  /**
   * The XSLT stylesheet a browser shows RSS and Atom with, root-relative: browsers refuse a
   * stylesheet from another origin, and a feed is opened under more names than site.url's
   * (127.0.0.1 or localhost, http or https, www or not).
   */
  stylesheet: string;
}

/**
 * The feeds a site has: every published post overall and per topic.
 * `knownTopics` are topics that had a feed before; they keep one (empty) so readers see the
 * retracted posts go rather than a frozen copy.
 */
export function selectFeeds(published: PostMeta[], config: Config, knownTopics: Topic[] = []): FeedSpec[] {
  const newestFirst = [...published].sort(newestFirstOrder);
  const site = config.site;
  const author = { ...site.author, url: site.url };
  const stylesheet = stylesheetPath(site.url);
  const spec = (posts: PostMeta[], topic?: Topic): FeedSpec => {
    const dir = feedDir(topic?.slug);
    const base = new URL(dir, site.url).href;
    return {
      dir,
      topic,
      base,
      title: topic ? `${site.title}: ${topic.name}` : site.title,
      description: topic ? `Posts about ${topic.name} from ${site.title}` : site.description,
      // The pages stage makes a topic's page only while the topic has posts.
      homeUrl: topic && config.pages && posts.length ? base : site.url,
      language: site.language,
      author,
      links: { rss: base + config.feed.paths.rss, atom: base + config.feed.paths.atom, json: base + config.feed.paths.json },
      posts,
      icon: site.icon,
      logo: site.logo,
      hubs: config.feed.hubs,
      stylesheet,
    };
  };
  const byTopic = new Map<string, { topic: Topic; posts: PostMeta[] }>();
  for (const topic of knownTopics) byTopic.set(topic.slug, { topic, posts: [] });
  for (const post of newestFirst) {
    for (const topic of post.topics) {
      const group = byTopic.get(topic.slug);
      if (group?.posts.length) group.posts.push(post);
      else byTopic.set(topic.slug, { topic, posts: [post] });
    }
  }
  const topics = [...byTopic.values()].sort((a, b) => a.topic.slug.localeCompare(b.topic.slug));
  return [spec(newestFirst), ...topics.map(({ topic, posts }) => spec(posts, topic))];
}

export function newestFirstOrder(a: PostMeta, b: PostMeta): number {
  return b.date - a.date || a.slug.localeCompare(b.slug);
}

/** The feed entry id: fixed for good when the post was published (see posts/ids.ts). */
export function entryId(post: PostMeta): string {
  return post.entryId;
}

const ID_NAMESPACE = uuidv5('https://herald.invalid/post-id', uuidv5.URL);

/**
 * The id herald gave before ids were URLs: a UUID of the site's host and the slug. Posts already
 * published under it keep it, so readers' apps do not see them again as new.
 */
export function legacyEntryId(post: PostMeta, siteUrl: string): string {
  return post.id ?? `urn:uuid:${uuidv5(`${new URL(siteUrl).host}/${post.slug}`, ID_NAMESPACE)}`;
}
