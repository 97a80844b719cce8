import { basename, dirname, relative, sep } from 'node:path';
import matter from 'gray-matter';
import yaml from 'js-yaml';
import eleventySlugify from '@sindresorhus/slugify';
import { slug as slugify } from 'github-slugger';
import { parse as parseToml } from 'smol-toml';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { ARCHIVE_DIR, PAGE_DIR, reservedPaths, SITE_FILES, SITEMAP_PART, TOPICS_DIR } from '../layout.js';
import { ENCODINGS } from '../output.js';
import { pagePath } from '../pages/paths.js';
import { dropXmlForbidden } from '../text.js';
import { calendarParts, parsePostDate } from './dates.js';
import { readPlainYaml } from './plain-yaml.js';
import { BUNDLE_INDEX, POST_FILE } from './scan.js';
import { topicSlug } from './topics.js';

export interface Topic {
  name: string;
  /** URL- and path-safe form, used for topics/<slug>/ feeds. */
  slug: string;
}

export interface Author {
  name: string;
  email?: string;
  url?: string;
}

/** Everything herald knows about a post without rendering its body; small enough to cache. */
export interface PostMeta {
  file: string;
  slug: string;
  title: string;
  /** Milliseconds since the epoch. */
  date: number;
  /** False when the writer gave a day without a time of day. */
  dateHasTime: boolean;
  updated: number;
  draft: boolean;
  topics: readonly Topic[];
  summary?: string;
  /** The post's own authors; empty means the site's author. */
  authors: readonly Author[];
  /** The post's image (image or cover), absolute. */
  image?: string;
  /** Absolute. */
  url: string;
  /** An entry id the writer set (an absolute URI). */
  id?: string;
  /**
   * The feed entry id: the writer's id, else the post's URL as the generators use it. Once the post
   * is published, the id it had then is kept for good (posts/ids.ts), whatever site.url or the
   * permalink become.
   */
  entryId: string;
  /** Other paths of the site (from the root) that lead to this post: old URLs that keep working. */
  aliases: readonly string[];
  /** `html` for an .html post: its body is HTML already, not markdown. */
  format: 'markdown' | 'html';
  /** A page bundle's folder (the post is its index file): its other files are published beside the post. */
  bundle?: string;
  /**
   * The front matter field that decides the post's URL, the one to change when the URL is taken:
   * slug (line 1 when the file name gives it), url or permalink, or title for a {title} permalink.
   */
  urlSource: Readonly<{ field: string; line: number }>;
  /** The file line where the body starts, for reporting what is in it. */
  bodyLine: number;
}

/** `body` is prepared on demand: most parses only need the front matter. Warnings do not keep a post out. */
export type ParsedPost = { ok: true; meta: PostMeta; body: () => string; warnings: Problem[] } | { ok: false; problems: Problem[] };

const DATE_FORMS = 'use YYYY-MM-DD, YYYY-MM-DD HH:MM, YYYY-MM-DD HH:MM:SS or ISO 8601 such as 2026-02-10T14:00:00+01:00';
/** A date at the start of a file name, as Jekyll names posts: 2025-01-30-my-post.md. */
const LEADING_DATE = /^(\d{4}-\d{1,2}-\d{1,2})-/;
// The keys each generator writes for one thing; the first present wins.
const UPDATED_KEYS = ['updated', 'lastmod', 'last_modified_at', 'modified'];
const SUMMARY_KEYS = ['summary', 'description', 'excerpt'];
const URL_KEYS = ['url', 'permalink'];
const ALIAS_KEYS = ['aliases', 'redirect_from'];

/** Parses one post file's text. Pure: the caller does the reading. `file` is the path shown in reports. */
export function parsePost(source: string, file: string, config: Config): ParsedPost {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const problem = (line: number, field: string | undefined, message: string, hint: string, code: Problem['code'] = 'E_POST_FIELD') =>
    problems.push({ code, file, line, field, message, hint });

  const split = splitFrontMatter(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source);
  if (!split) {
    problem(1, undefined, 'the front matter is never closed', 'add a line with --- (or +++ for TOML) after the last field', 'E_POST_YAML');
    return { ok: false, problems };
  }
  const front = normalizeText(split.front);
  let data: Record<string, unknown>;
  let duplicated: { key: string; line: number } | undefined;
  try {
    ({ data, duplicated } = readFrontMatter(front, split.language));
  } catch (error) {
    const failure = error as yaml.YAMLException & { line?: number };
    // The front matter text starts right after the opening delimiter, so its line 0 is file line 1.
    const line = failure.mark ? failure.mark.line + 1 : (failure.line ?? 1);
    const language = split.language.toUpperCase();
    problem(
      line,
      undefined,
      `front matter is not valid ${language}: ${failure.reason ?? failure.message.split('\n')[0]}`,
      split.language === 'yaml' ? 'fix the YAML between the --- lines; quote a value that contains ": " or starts with a special character' : `fix the ${language} at that line`,
      'E_POST_YAML',
    );
    return { ok: false, problems };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problem(2, undefined, 'front matter must be a list of fields (key: value)', 'write it as title: ..., date: ...', 'E_POST_YAML');
    return { ok: false, problems };
  }
  const lineOf = (key: string) => lineOfField(front, key);
  if (duplicated) {
    warnings.push({ code: 'E_POST_FIELD', file, line: duplicated.line, field: duplicated.key, message: `"${duplicated.key}" is given twice; the last one counts, as in Hugo and Jekyll`, hint: 'delete one of the two lines' });
  }
  const first = (keys: string[]) => keys.find((key) => data[key] !== undefined && data[key] !== null && data[key] !== '');
  const stringField = (key: string): string | undefined => {
    const value = data[key];
    if (value === undefined || value === null) return undefined;
    // YAML escapes such as "\u0007" can produce forbidden characters after parsing, too.
    if (typeof value === 'string' || typeof value === 'number') return dropXmlForbidden(String(value)).trim();
    problem(lineOf(key) ?? 1, key, `"${key}" must be text, not a ${Array.isArray(value) ? 'list' : typeof value}`, `write ${key}: some text`);
    return undefined;
  };

  const title = stringField('title');
  if (!title && !problems.length) {
    problem(lineOf('title') ?? 1, 'title', 'the post has no title', 'add a line "title: Your title" to the front matter');
  }

  const zone = config.site.timezone;
  const name = basename(file);
  const bundle = BUNDLE_INDEX.test(name) ? dirname(file) : undefined;
  // Jekyll dates a post by its file name when the front matter has no date; a bundle by its folder.
  const nameDate = LEADING_DATE.exec(bundle ? basename(bundle) : name)?.[1];
  let date: Date | undefined;
  let dateHasTime = false;
  let dateOffset: number | undefined;
  if (data.date === undefined || data.date === null || data.date === '') {
    const parsed = nameDate ? parsePostDate(nameDate, zone) : undefined;
    if (parsed?.ok) date = parsed.date;
    else if (nameDate) problem(1, 'date', `the date its ${bundle ? 'folder' : 'file'} name starts with, ${nameDate}, is not a real date`, `rename the ${bundle ? 'folder' : 'file'} with the day it was published, or add a line "date: 2026-01-26" to the front matter`, 'E_POST_DATE');
    else problem(lineOf('date') ?? 1, 'date', 'the post has no date', `add a line "date: 2026-01-26" to the front matter, or start the file name with the date (2026-01-26-my-post.md); ${DATE_FORMS}`, 'E_POST_DATE');
  } else {
    const parsed = parsePostDate(data.date, zone, config.posts.timesWithoutOffset === 'utc');
    if (parsed.ok) ({ date, hasTime: dateHasTime, offset: dateOffset } = parsed);
    else problem(lineOf('date') ?? 1, 'date', `date ${parsed.reason}`, DATE_FORMS, 'E_POST_DATE');
  }

  let updated: Date | undefined;
  const updatedKey = first(UPDATED_KEYS);
  if (updatedKey) {
    const parsed = parsePostDate(data[updatedKey], zone, config.posts.timesWithoutOffset === 'utc');
    if (parsed.ok) updated = parsed.date;
    else problem(lineOf(updatedKey) ?? 1, updatedKey, `${updatedKey} ${parsed.reason}`, DATE_FORMS, 'E_POST_DATE');
  }

  const draft = parseFlag(data.draft);
  if (draft === undefined) {
    problem(lineOf('draft') ?? 1, 'draft', `draft must be true or false, not "${String(data.draft)}"`, 'write draft: true or remove the line');
  }
  // Jekyll's way of keeping a post back: `published: false` is a draft under another name.
  const published = parseFlag(data.published ?? true);
  if (published === undefined) {
    problem(lineOf('published') ?? 1, 'published', `published must be true or false, not "${String(data.published)}"`, 'write published: false or remove the line');
  }

  const topics = new Map<string, Topic>();
  for (const key of config.posts.topicKeys) {
    const found = parseTopics(data[key], key !== 'topics');
    if (typeof found === 'string') problem(lineOf(key) ?? 1, key, found.replace(/^topics/, key), `write ${key}: work or ${key}: [work, life]`);
    else for (const topic of found) if (!topics.has(topic.slug) && !config.posts.ignoredTopics.has(topic.slug)) topics.set(topic.slug, topic);
  }

  const slugValue = stringField('slug');
  const fileSlug = (bundle ? basename(bundle) : name.replace(POST_FILE, '')).replace(LEADING_DATE, '');
  const slug = slugValue ?? fileSlug;
  if (!slug || /[/\\?#\s]/.test(slug) || slug === '.' || slug === '..') {
    problem(
      lineOf('slug') ?? 1,
      'slug',
      `"${slug}" cannot be a slug: it must be non-empty, without spaces, slashes, ? or #`,
      slugValue ? 'set slug: to a word-like name such as my-first-post' : 'rename the file, or add slug: my-first-post to the front matter',
      'E_POST_SLUG',
    );
  }

  const summaryKey = first(SUMMARY_KEYS);
  const summary = summaryKey ? stringField(summaryKey) : undefined;
  const authors = parseAuthors(data.authors ?? data.author);
  if (typeof authors === 'string') problem(lineOf(data.authors ? 'authors' : 'author') ?? 1, 'author', authors, 'write author: Ada Lovelace, or author: { name: Ada Lovelace, email: ada@example.com }');

  const id = stringField('id');
  if (id && !isAbsoluteUri(id)) {
    problem(lineOf('id') ?? 1, 'id', `id "${id}" is not an absolute URI (a scheme, a colon, then the rest), which feeds need to tell entries apart`, idHint(id, config, date));
  }
  if (problems.length || !title || !date || typeof authors === 'string') return { ok: false, problems };

  // Jekyll's :categories are the categories (and a single category:) alone, not the tags. Their
  // path segments are slugged as herald always has (C++ is c), so posts keep their addresses.
  const categories = () => [
    ...new Set([parseTopics(data.categories, true), parseTopics(data.category, false)].flatMap((names) => (typeof names === 'string' ? [] : names.map((topic) => slugify(topic.name))))),
  ];
  const placeholders = { slug, title, date, dateOffset, categories };
  const urlKey = first(URL_KEYS);
  let url = permalinkUrl(config, placeholders);
  const slugSource = { field: 'slug', line: slugValue === undefined ? 1 : (lineOf('slug') ?? 1) };
  let urlSource = placesSlug(permalinkParts(config)) ? slugSource : { field: 'title', line: lineOf('title') ?? 1 };
  if (urlKey) {
    const own = ownUrl(config, String(data[urlKey]), placeholders);
    if (own) {
      url = own;
      urlSource = slugValue !== undefined && placesSlug(pathParts(String(data[urlKey]))) ? slugSource : { field: urlKey, line: lineOf(urlKey) ?? 1 };
    } else warnings.push({ code: 'E_POST_FIELD', file, line: lineOf(urlKey) ?? 1, field: urlKey, message: `${urlKey} "${String(data[urlKey])}" is not a path herald can use, so the post is at ${url}`, hint: 'write a path from the site root such as /2015/07/01/my-post/, or remove the line' });
  }
  const aliasKey = first(ALIAS_KEYS);
  const parsedAliases = aliasKey ? parseAliases(data[aliasKey], config) : { paths: [], refused: [] };
  const aliases = parsedAliases.paths;
  if (parsedAliases.refused.length) {
    warnings.push({
      code: 'E_POST_FIELD',
      file,
      line: lineOf(aliasKey!) ?? 1,
      field: aliasKey,
      message: `${aliasKey} ${parsedAliases.refused.map((alias) => JSON.stringify(alias)).join(', ')} ${parsedAliases.refused.length > 1 ? 'are not paths' : 'is not a path'} herald can use, so no redirect is made there`,
      hint: 'write old addresses as paths on this site, such as /2015/07/01/old-name/ (no .., no other host)',
    });
  }
  // Whatever the permalink's placeholders gave (a title, a category), the address stays in the site.
  if (climbsOut(config, url)) {
    const { field, line } = urlSource;
    problems.push({ code: 'E_POST_SLUG', file, line, field, message: `its address ${url} has a . or .. segment, which would put its page outside the site`, hint: `change ${field}: so that it makes a plain address` });
    return { ok: false, problems };
  }
  // A page there would replace one of herald's own files, or be shadowed by it.
  const taken = reservedPlace(config, url);
  if (taken) {
    const { field, line } = urlSource;
    let change = `set ${field}: to another path`;
    if (field === 'slug') change = slugValue === undefined ? 'rename the file, or set slug: to another name in its front matter' : 'set slug: to another name';
    else if (field === 'title') change = 'change the title, or set url: to a path of its own';
    problem(line, field, `the post's URL ${url} is ${taken.what}`, `${change}; herald keeps ${taken.url} for itself`, 'E_POST_SLUG');
  }
  for (const alias of aliases) {
    const href = new URL(alias, config.site.url).href;
    const place = href.startsWith(config.site.url) ? reservedPlace(config, href) : undefined;
    if (place) problem(lineOf(aliasKey!) ?? 1, aliasKey, `the old address ${alias} is ${place.what}`, `remove it from ${aliasKey}; herald keeps ${place.url} for itself`, 'E_POST_SLUG');
  }
  if (problems.length) return { ok: false, problems };
  const image = imageOf(data.image ?? data.cover);

  return {
    ok: true,
    warnings,
    body: () => bodyText(split.body),
    // Every field is always set (undefined when absent): one object shape for every post keeps
    // the code that reads them all, feeds and pages, fast.
    meta: {
      file,
      slug: detached(slug),
      title: detached(title),
      date: date.getTime(),
      dateHasTime,
      updated: Math.max((updated ?? date).getTime(), date.getTime()),
      draft: draft === true || published === false,
      topics: [...topics.values()].map(sharedTopic),
      summary: summary ? detached(summary) : undefined,
      authors: authors.length ? authors.map((author) => ({ ...author, name: detached(author.name) })) : NONE,
      image: image ? absoluteTo(url, image) : undefined,
      url,
      id: id ? detached(id) : undefined,
      entryId: id ? detached(id) : config.feed.ids === 'jekyll' ? jekyllPostId(url, slug) : url,
      aliases: aliases.length ? aliases : NONE,
      format: /\.html?$/i.test(name) ? 'html' : 'markdown',
      bundle,
      urlSource: sharedUrlSource(urlSource),
      bodyLine: split.bodyLine,
    },
  };
}

// What many posts have alike is one object for them all, not one each: a site of 50,000 posts held
// 150,000 topic objects and names for its six topics, and an empty list for each post without
// authors or aliases. Shared, so frozen: a post's fields are read, never changed in place.
const NONE: readonly never[] = Object.freeze([]);
const alike = new Map<string, object>();

/** The one frozen object kept under `key`, made by `make` the first time. */
function shared<T extends object>(key: string, make: () => T): T {
  let kept = alike.get(key) as T | undefined;
  if (!kept) alike.set(key, (kept = Object.freeze(make())));
  return kept;
}

const sharedTopic = ({ name, slug }: Topic): Topic => shared(`topic\0${slug}\0${name}`, () => ({ name: detached(name), slug: detached(slug) }));
const sharedUrlSource = ({ field, line }: PostMeta['urlSource']): PostMeta['urlSource'] => shared(`url\0${field}\0${line}`, () => ({ field, line }));

/**
 * A post read back from the post cache, sharing what parsePost would have made it share. One kept
 * in memory since the last build shares them already, which its frozen urlSource tells (parsePost
 * always shares it).
 */
export function shareAlike(meta: PostMeta): PostMeta {
  if (Object.isFrozen(meta.urlSource)) return meta;
  meta.topics = meta.topics.map(sharedTopic);
  if (!meta.authors.length) meta.authors = NONE;
  if (!meta.aliases.length) meta.aliases = NONE;
  meta.urlSource = sharedUrlSource(meta.urlSource);
  return meta;
}

/**
 * A copy of a string that holds no other. V8 keeps a piece cut from a string (a title from the
 * front matter, itself cut from the post's first kilobyte) as a view of the whole, so every post's
 * text would stay in memory for as long as its fields do: the whole build (1.9 KB a post instead
 * of 1.0 KB). Joining a character in front makes a new string that the slice is taken from.
 */
function detached(text: string): string {
  return (` ${text}`).slice(1);
}

// YAML 1.1 habits (Jekyll, Hugo) read yes/no/on/off as booleans; writers keep using them.
function parseFlag(value: unknown): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value === true;
  const word = String(value).trim().toLowerCase();
  if (['true', 'yes', 'on'].includes(word)) return true;
  if (['false', 'no', 'off'].includes(word)) return false;
  return undefined;
}

/**
 * Topic names from one front matter key: a list, or text. herald's own `topics` text is split on
 * commas; Jekyll's `tags` and `categories` text on spaces (`categories: jekyll update`), unless
 * it has commas.
 */
function parseTopics(value: unknown, spaceSeparated: boolean): Topic[] | string {
  if (value === undefined || value === null || value === '') return [];
  const names =
    typeof value === 'string' ? value.split(spaceSeparated && !value.includes(',') ? /\s+/ : ',') : typeof value === 'number' ? [String(value)] : Array.isArray(value) ? value : undefined;
  if (!names || names.some((name) => typeof name !== 'string' && typeof name !== 'number')) {
    return 'topics must be a name or a list of names';
  }
  const topics = new Map<string, Topic>();
  for (const raw of names) {
    const name = dropXmlForbidden(String(raw)).trim();
    const slug = topicSlug(name);
    if (!name) continue;
    if (!slug) return `topic "${name}" has no letters or digits to name its feed by`;
    if (!topics.has(slug)) topics.set(slug, { name, slug });
  }
  return [...topics.values()];
}

/** A name, { name, email, url }, or a list of those (Hugo's authors, Jekyll's author). */
function parseAuthors(value: unknown): Author[] | string {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : [value];
  const authors: Author[] = [];
  for (const item of list) {
    if (typeof item === 'string' || typeof item === 'number') {
      const name = dropXmlForbidden(String(item)).trim();
      if (name) authors.push({ name });
    } else if (item && typeof item === 'object' && typeof (item as Record<string, unknown>).name === 'string') {
      const { name, email, url, uri } = item as Record<string, unknown>;
      authors.push({
        name: dropXmlForbidden(name as string).trim(),
        ...(typeof email === 'string' && email.includes('@') ? { email: email.trim() } : {}),
        ...(typeof (url ?? uri) === 'string' && URL.canParse(String(url ?? uri)) ? { url: String(url ?? uri) } : {}),
      });
    } else return 'author must be a name, { name, email, url }, or a list of them';
  }
  return authors;
}

/** `image: x.png`, `image: { path: x.png }` (Jekyll), `cover: { image: x.png }` (Hugo). */
function imageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object') {
    const fields = value as Record<string, unknown>;
    for (const key of ['path', 'image', 'src', 'url']) if (typeof fields[key] === 'string' && fields[key]) return (fields[key] as string).trim();
  }
  return undefined;
}

function absoluteTo(base: string, href: string): string {
  try {
    return new URL(href, base).href;
  } catch {
    return href;
  }
}

/**
 * jekyll-feed's entry id, `post.id | absolute_url`: Jekyll's post.id is the folder of the post's
 * URL and its slug, so /2024/05/01/my-post.html and /2024/05/01/my-post/ both have the id
 * /2024/05/01/my-post.
 */
function jekyllPostId(url: string, slug: string): string {
  const path = new URL(url).pathname.replace(/\/$/, '');
  return new URL(`${path.slice(0, path.lastIndexOf('/') + 1)}${encodeURIComponent(slug)}`, url).href;
}

/** Two ids the writer could use instead of `id`, made from it where it is a plain word like post-42. */
function idHint(id: string, config: Config, date: Date | undefined): string {
  const { hostname, origin } = new URL(config.site.url);
  const name = /^[\w.~-]+$/.test(id.replace(/^\/+|\/+$/g, '')) ? id.replace(/^\/+|\/+$/g, '') : 'post-42';
  const year = date ? date.getUTCFullYear() : 'YYYY';
  return `use a full URL such as ${origin}/${name} or a tag URI such as tag:${hostname},${year}:${name}, or remove the line (the post's URL is then its id)`;
}

function isAbsoluteUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(value) && URL.canParse(value);
}

interface Placeholders {
  slug: string;
  title: string;
  date: Date;
  /**
   * The UTC offset written with the date, if any: its year, month and day are the ones written,
   * as Jekyll and Hugo read them (2024-06-30T23:30:00Z is in June whatever the site's zone).
   */
  dateOffset?: number;
  /** Asked for only by a path that has them. */
  categories: () => string[];
}

type PlaceholderKey = 'slug' | 'title' | 'hugo:title' | 'eleventy:title' | 'categories' | 'year' | 'month' | 'day';
/** A path pattern cut into its text and its placeholders, as many as the pattern has. */
type PathParts = (string | { key: PlaceholderKey })[];

const PLACEHOLDER = /\{(slug|title|hugo:title|eleventy:title|categories|year|month|day)\}|:(slug|title|categories|year|month|day)\b/g;

/**
 * herald's {slug}, {title}, {year}, {month}, {day}, {categories}, and Jekyll's and Hugo's :slug,
 * :title, :year, :month, :day, :categories. Jekyll's :title is the file's slug.
 */
function pathParts(pattern: string): PathParts {
  const parts: PathParts = [];
  let at = 0;
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    parts.push(pattern.slice(at, match.index), { key: match[1] ? (match[1] as PlaceholderKey) : match[2] === 'title' ? 'slug' : (match[2] as PlaceholderKey) });
    at = match.index + match[0].length;
  }
  parts.push(pattern.slice(at));
  return parts;
}

function placesSlug(parts: PathParts): boolean {
  return parts.some((part) => typeof part !== 'string' && part.key === 'slug');
}

/** A path pattern filled in for one post. */
function fillPath(parts: PathParts, config: Config, values: Placeholders): string {
  let day: ReturnType<typeof calendarParts> | undefined;
  const calendar = () => (day ??= calendarParts(values.date, config.site.timezone, values.dateOffset));
  let path = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      path += part;
      continue;
    }
    switch (part.key) {
      case 'slug':
        path += encodeURIComponent(values.slug);
        break;
      // Hugo's :title and herald's {title} are the title made into a slug.
      case 'title':
        path += encodeURIComponent(slugify(values.title) || values.slug);
        break;
      // Hugo's :title as Hugo makes it (urlize), for a blog brought from Hugo: its addresses stay.
      case 'hugo:title':
        path += hugoUrlize(values.title).split('/').map(encodeHugoSegment).join('/') || encodeURIComponent(values.slug);
        break;
      // Eleventy's {{ title | slugify }}: the same library with the same options (Eleventy 2 and 3).
      case 'eleventy:title':
        path += encodeURIComponent(eleventySlugify(values.title, { decamelize: false }) || values.slug);
        break;
      case 'categories':
        path += values.categories().map(encodeURIComponent).join('/');
        break;
      default:
        path += calendar()[part.key];
    }
  }
  // No categories leaves an empty segment.
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}

/**
 * A title as Hugo puts it in an address (its urlize: helpers.UnicodeSanitize, lower-cased), read
 * off Hugo 0.111's output: letters, digits, marks and . _ ~ # @ / \\ - kept, a %XX escape kept,
 * spaces and + become one hyphen between words (none before the first or after the last), the
 * rest dropped. "Tips & Tricks: Go's defer" -> tips-tricks-gos-defer; "Node.js vs. C++ (2024)"
 * -> node.js-vs.-c-2024.
 */
export function hugoUrlize(title: string): string {
  const chars = [...title];
  const hex = (char: string | undefined) => char !== undefined && /^[0-9a-f]$/i.test(char);
  let out = '';
  let hyphenNext = false;
  let wasHyphen = false;
  chars.forEach((char, i) => {
    if (/^[\p{L}\p{N}\p{M}._~#@/\\-]$/u.test(char) || (char === '%' && hex(chars[i + 1]) && hex(chars[i + 2]))) {
      wasHyphen = char === '-';
      if (hyphenNext && !wasHyphen) out += '-';
      hyphenNext = false;
      out += char;
    } else if (out !== '' && !wasHyphen && (/^\s$/u.test(char) || char === '+')) hyphenNext = true;
  });
  // A title such as "../../x" must not climb out of the site: no empty, . or .. segment.
  return out
    .toLowerCase()
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .join('/');
}

function climbsOut(config: Config, url: string): boolean {
  return url
    .slice(config.site.url.length)
    .replace(/[?#].*$/, '')
    .split('/')
    .some((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return true;
      }
      return decoded === '.' || decoded === '..' || decoded.includes('/');
    });
}

// What Hugo leaves as it is in a path segment that encodeURIComponent would escape.
const encodeHugoSegment = (segment: string) => encodeURIComponent(segment).replace(/%40/g, '@');

// The site's permalink, cut once: it is filled for every post.
let permalink: { pattern: string; parts: PathParts } | undefined;

function permalinkParts(config: Config): PathParts {
  if (permalink?.pattern !== config.permalink) permalink = { pattern: config.permalink, parts: pathParts(config.permalink) };
  return permalink.parts;
}

export function permalinkUrl(config: Config, values: Placeholders): string {
  // site.url ends in "/" and the path is already encoded, so joining them is a valid URL.
  return config.site.url + fillPath(permalinkParts(config), config, values).replace(/^\/+/, '');
}

/** A post's own url or permalink (Hugo, Jekyll): a path from the site root, undefined if unusable. */
function ownUrl(config: Config, value: string, values: Placeholders): string | undefined {
  const path = value.trim();
  // Eleventy permalinks are templates ({{ page.fileSlug }}); herald does not run them.
  if (!path || path.includes('{{') || path.includes('{%') || /^[a-z][a-z0-9+.-]*:/i.test(path) || path.includes('..')) return undefined;
  const filled = fillPath(pathParts(path), config, values).replace(/^\/+/, '');
  return URL.canParse(config.site.url + filled) && namesAFile(filled) ? new URL(config.site.url + filled).href : undefined;
}

// The page is written at the decoded path, so a % that starts no %XX escape names no file.
function namesAFile(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

// reservedPaths for the config the posts are read with, and the first path segment of each
// ('' for the root's index.html): a page whose first segment is none of them is clear, which is
// all most posts need asking.
let reserved: { config: Config; paths: string[]; firsts: Set<string> } | undefined;
const SERVED_AS = /(?:\.(?:gz|br))?(?:\.html?)?$/;

/**
 * The herald path that a page at `url` (below site.url) would collide with, and what herald has
 * there. The page's file is what counts: /rss.xml/ would need rss.xml to be a folder, /rss.xml is
 * written as rss.xml.html, which hosts serve at /rss.xml, and /rss.xml.gz is the feed's copy.
 */
function reservedPlace(config: Config, url: string): { url: string; what: string } | undefined {
  if (reserved?.config !== config) {
    const paths = reservedPaths(config);
    const firsts = new Set(paths.map((path) => path.toLowerCase().split('/')[0]!));
    if (firsts.has('index.html')) firsts.add('');
    reserved = { config, paths, firsts };
  }
  const below = url.slice(config.site.url.length);
  const end = below.search(/[/?#]|$/);
  const first = decodeURIComponent(below.slice(0, end)).toLowerCase();
  if (SITEMAP_PART.test(first.replace(SERVED_AS, ''))) return { url: config.site.url + first.replace(SERVED_AS, ''), what: 'where herald writes a part of a large sitemap' };
  if (!reserved.firsts.has(first) && !reserved.firsts.has(first.replace(SERVED_AS, ''))) return undefined;
  const file = relative(config.paths.output, pagePath(config, url)).split(sep).join('/').toLowerCase();
  // Both the file and the address it is served at: x/index.html is /x/, and x.html is /x unless
  // the URL names x.html itself.
  const names = [file, file.replace(/\.html?$/i.test(new URL(url).pathname) ? /\/index\.html$/ : /\/index\.html$|\.html$/, '')];
  const path = reserved.paths.find((reservedPath) => {
    // As the duplicate check does: a case-insensitive disk or host makes RSS.xml rss.xml.
    const path = reservedPath.toLowerCase();
    return names.some((name) =>
      path.endsWith('/')
        ? name.startsWith(path) || name === path.slice(0, -1)
        : name === path || name.startsWith(`${path}/`) || ENCODINGS.some(({ suffix }) => name === path + suffix),
    );
  });
  return path === undefined ? undefined : { url: config.site.url + path, what: whatHeraldHasAt(config, path) };
}

function whatHeraldHasAt(config: Config, path: string): string {
  const feeds = config.feed.paths;
  const files: Record<string, string> = {
    [feeds.rss]: 'the RSS feed',
    [feeds.atom]: 'the Atom feed',
    [feeds.json]: 'the JSON feed',
    'index.html': "the site's front page",
    [`${TOPICS_DIR}/`]: 'the topic pages and feeds',
    [`${ARCHIVE_DIR}/`]: "the site feed's archive",
    [`${PAGE_DIR}/`]: "the front page's further pages",
    [SITE_FILES.stylesheet]: "the feeds' stylesheet",
    [SITE_FILES.opml]: 'the list of every feed (OPML)',
    [SITE_FILES.sitemap]: 'the sitemap',
    [SITE_FILES.robots]: 'robots.txt',
  };
  const what = files[path];
  // The rest are herald start's routes, reserved because web.url puts them inside site.url.
  return what ? `where herald writes ${what}` : `where herald start answers /${path} (web.url is inside site.url)`;
}

/** Old paths (Hugo's aliases, jekyll-redirect-from's redirect_from), from the site root. */
function parseAliases(value: unknown, config: Config): { paths: string[]; refused: string[] } {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const base = new URL(config.site.url).pathname;
  const paths: string[] = [];
  const refused: string[] = [];
  for (const item of list) {
    // A climb (..) or another host would put the redirect page outside the site, or nowhere.
    const usable = typeof item === 'string' && item.trim() && !item.includes('..') && !/^[a-z]+:/i.test(item);
    const path = usable ? new URL(item.trim().replace(/^\/+/, ''), `http://x${base}`).pathname : undefined;
    if (path !== undefined && namesAFile(path)) paths.push(path);
    else refused.push(String(item));
  }
  return { paths: [...new Set(paths)], refused };
}

const parseYaml = (front: string) => (yaml.load(front, { schema: yaml.CORE_SCHEMA }) ?? {}) as object;
// A key given twice: the last one counts, as in Hugo and Jekyll.
const parseYamlKeepingLast = (front: string) => (yaml.load(front, { schema: yaml.CORE_SCHEMA, json: true }) ?? {}) as object;

/**
 * The fields of a front matter block: YAML (plain-yaml.ts for simple blocks, else gray-matter and
 * js-yaml), TOML (smol-toml) or JSON. A YAML key given twice is read the way Hugo and Jekyll read
 * it, and said: js-yaml refuses it first (which costs nothing when no key is), with the line.
 */
function readFrontMatter(front: string, language: 'yaml' | 'toml' | 'json'): { data: Record<string, unknown>; duplicated?: { key: string; line: number } } {
  if (!front) return { data: {} };
  if (language === 'json') return { data: JSON.parse(front) as Record<string, unknown> };
  if (language === 'toml') return { data: plainDates(matter(front, { delimiters: '+++', language: 'toml', engines: { toml: (text: string) => parseToml(text) as object } }).data) };
  const plain = readPlainYaml(front);
  if (plain) return { data: plain };
  try {
    return { data: matter(front, { engines: { yaml: parseYaml } }).data };
  } catch (error) {
    const failure = error as yaml.YAMLException;
    if (!/duplicated mapping key/.test(failure.reason ?? '') || !failure.mark) throw error;
    // gray-matter caches what it parsed by text: a fresh object, so the failed parse is not reused.
    const data = matter(front, { engines: { yaml: parseYamlKeepingLast } }).data;
    const line = failure.mark.line + 1;
    const key = /^["']?([^"':]+?)["']?\s*:/.exec(front.split('\n')[line - 1] ?? '')?.[1] ?? '';
    return { data, duplicated: { key, line } };
  }
}

// TOML has its own date type; herald reads dates from text, as it does YAML's.
function plainDates(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]));
}

// YAML between --- lines, TOML between +++ lines; each line may carry trailing blanks.
const FENCES = {
  yaml: { open: /^---[ \t]*\r?\n/, close: /\r?\n---[ \t]*(\r?\n|$)/g, language: 'yaml' },
  toml: { open: /^\+\+\+[ \t]*\r?\n/, close: /\r?\n\+\+\+[ \t]*(\r?\n|$)/g, language: 'toml' },
} as const;

/**
 * Separates the front matter block from the body. Only the block goes to gray-matter, which
 * copies and hashes whatever it is given; the body is not needed until a post is rendered.
 * YAML between --- lines (Jekyll, Eleventy, Hugo), TOML between +++ lines (Hugo), or a JSON
 * object at the top (Hugo). Returns undefined when a block is opened but never closed.
 */
function splitFrontMatter(text: string): { front: string; body: string; language: 'yaml' | 'toml' | 'json'; bodyLine: number } | undefined {
  const fence = text.startsWith('---') ? FENCES.yaml : text.startsWith('+++') ? FENCES.toml : undefined;
  if (fence?.open.test(text)) {
    fence.close.lastIndex = 3;
    const match = fence.close.exec(text);
    if (!match) return undefined;
    const end = match.index + match[0].length;
    const front = text.slice(0, end);
    return { front, body: text.slice(end), language: fence.language, bodyLine: bodyLine(front) };
  }
  if (text.startsWith('{')) {
    // Hugo's JSON front matter: an object whose closing brace ends a line.
    const close = /\n\}[ \t]*(\r?\n|$)/.exec(text);
    if (!close) return undefined;
    const end = close.index + close[0].length;
    const front = text.slice(0, end);
    return { front, body: text.slice(end), language: 'json', bodyLine: bodyLine(front) };
  }
  return { front: '', body: text, language: 'yaml', bodyLine: 1 };
}

/**
 * A post's body as parsePost gives it, for a post that was parsed already: its front matter is
 * only split off, not read again. Undefined when the block is no longer closed.
 */
export function postBody(source: string): string | undefined {
  const split = splitFrontMatter(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source);
  return split && bodyText(split.body);
}

function bodyText(body: string): string {
  return normalizeText(body).replace(/^\n/, '');
}

/** The line after a front matter block's last: its newlines, plus one (plus one more if it ends the file). */
function bodyLine(front: string): number {
  let lines = front.endsWith('\n') ? 1 : 2;
  for (let at = front.indexOf('\n'); at !== -1; at = front.indexOf('\n', at + 1)) lines++;
  return lines;
}

/** LF line endings, and none of the characters XML forbids. */
function normalizeText(text: string): string {
  return dropXmlForbidden(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text);
}

/** 1-based line of a top-level front matter field, if present (YAML `key:` or TOML `key =`). */
function lineOfField(front: string, key: string): number | undefined {
  const lines = front.split('\n');
  const pattern = new RegExp(`^["']?${key}["']?\\s*[:=]`);
  const index = lines.findIndex((line, i) => i > 0 && pattern.test(line));
  return index < 0 ? undefined : index + 1;
}
