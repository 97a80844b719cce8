import { v5 as uuidv5 } from 'uuid';
import type { Config } from '../config.js';
import type { PostMeta, Topic } from '../posts/parse.js';
import type { RenderedPost } from '../posts/render.js';

/** A post ready for a feed: its metadata plus the body rendered once. */
export type FeedEntry = RenderedPost;

/** One feed in all three formats: the whole site, or one topic. */
export interface FeedSpec {
  /** Folder below the output folder: '' for the site, 'topics/<slug>' for a topic. */
  dir: string;
  topic?: Topic;
  title: string;
  description: string;
  homeUrl: string;
  language: string;
  author: { name: string; email?: string };
  links: { rss: string; atom: string; json: string };
  /** Newest first. */
  posts: PostMeta[];
}

/**
 * The feeds a site has: the newest `feed.limit` published posts overall and per topic.
 * `knownTopics` are topics that had a feed before; they keep one (empty) so readers see the
 * retracted posts go rather than a frozen copy.
 */
export function selectFeeds(published: PostMeta[], config: Config, knownTopics: Topic[] = []): FeedSpec[] {
  const newestFirst = [...published].sort(newestFirstOrder);
  const limit = config.feed.limit;
  const site = config.site;
  const spec = (dir: string, posts: PostMeta[], topic?: Topic): FeedSpec => {
    const base = new URL(dir ? `${dir}/` : '', site.url).href;
    return {
      dir,
      topic,
      title: topic ? `${site.title}: ${topic.name}` : site.title,
      description: topic ? `Posts about ${topic.name} from ${site.title}` : site.description,
      homeUrl: site.url,
      language: site.language,
      author: site.author,
      links: { rss: base + config.feed.paths.rss, atom: base + config.feed.paths.atom, json: base + config.feed.paths.json },
      posts: posts.slice(0, limit),
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
  return [spec('', newestFirst), ...topics.map(({ topic, posts }) => spec(`topics/${topic.slug}`, posts, topic))];
}

export function newestFirstOrder(a: PostMeta, b: PostMeta): number {
  return b.date - a.date || a.slug.localeCompare(b.slug);
}

/** A feed's own updated time: the newest change among its entries, so unchanged feeds keep their bytes. */
export function feedUpdated(spec: FeedSpec): Date {
  return new Date(Math.max(0, ...spec.posts.map((post) => post.updated)));
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
