import { basename } from 'node:path';
import matter from 'gray-matter';
import yaml from 'js-yaml';
import { slug as slugify } from 'github-slugger';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { dropXmlForbidden } from '../text.js';
import { calendarParts, parsePostDate } from './dates.js';

export interface Topic {
  name: string;
  /** URL- and path-safe form, used for topics/<slug>/ feeds. */
  slug: string;
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
  topics: Topic[];
  summary?: string;
  url: string;
  /** An entry id the writer set; otherwise feeds derive one (see entryId). */
  id?: string;
  /** Line of the `slug:` field, or of the opening front matter, for reporting slug clashes. */
  slugLine: number;
}

/** `body` is prepared on demand: most parses only need the front matter. */
export type ParsedPost = { ok: true; meta: PostMeta; body: () => string } | { ok: false; problems: Problem[] };

const DATE_FORMS = 'use YYYY-MM-DD, YYYY-MM-DD HH:MM, YYYY-MM-DD HH:MM:SS or ISO 8601 such as 2026-02-10T14:00:00+01:00';
const LEADING_DATE = /^\d{4}-\d{1,2}-\d{1,2}-/;

/** Parses one post file's text. Pure: the caller does the reading. `file` is the path shown in reports. */
export function parsePost(source: string, file: string, config: Config): ParsedPost {
  const problems: Problem[] = [];
  const problem = (line: number, field: string | undefined, message: string, hint: string, code: Problem['code'] = 'E_POST_FIELD') =>
    problems.push({ code, file, line, field, message, hint });

  const split = splitFrontMatter(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source);
  if (!split) {
    problem(1, undefined, 'the front matter is never closed', 'add a line with --- after the last field', 'E_POST_YAML');
    return { ok: false, problems };
  }
  const front = normalizeText(split.front);
  let data: Record<string, unknown>;
  try {
    data = matter(front, { engines: { yaml: parseYaml } }).data;
  } catch (error) {
    const yamlError = error as yaml.YAMLException;
    // The YAML text starts right after the opening ---, so its line 0 is file line 1.
    problem(
      yamlError.mark ? yamlError.mark.line + 1 : 1,
      undefined,
      `front matter is not valid YAML: ${yamlError.reason ?? yamlError.message}`,
      'fix the YAML between the --- lines; quote a value that contains ": " or starts with a special character',
      'E_POST_YAML',
    );
    return { ok: false, problems };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problem(2, undefined, 'front matter must be a list of fields (key: value)', 'write it as title: ..., date: ...', 'E_POST_YAML');
    return { ok: false, problems };
  }

  const lineOf = (key: string) => lineOfField(front, key);
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
  let date: Date | undefined;
  let dateHasTime = false;
  if (data.date === undefined || data.date === null || data.date === '') {
    problem(lineOf('date') ?? 1, 'date', 'the post has no date', `add a line "date: 2026-01-26" to the front matter; ${DATE_FORMS}`, 'E_POST_DATE');
  } else {
    const parsed = parsePostDate(data.date, zone);
    if (parsed.ok) ({ date, hasTime: dateHasTime } = parsed);
    else problem(lineOf('date') ?? 1, 'date', `date ${parsed.reason}`, DATE_FORMS, 'E_POST_DATE');
  }

  let updated: Date | undefined;
  if (data.updated !== undefined && data.updated !== null && data.updated !== '') {
    const parsed = parsePostDate(data.updated, zone);
    if (parsed.ok) updated = parsed.date;
    else problem(lineOf('updated') ?? 1, 'updated', `updated ${parsed.reason}`, DATE_FORMS, 'E_POST_DATE');
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

  const topics = parseTopics(data.topics);
  if (typeof topics === 'string') problem(lineOf('topics') ?? 1, 'topics', topics, 'write topics: work or topics: [work, life]');

  const slugValue = stringField('slug');
  const slug = slugValue ?? basename(file).replace(/\.(md|markdown)$/i, '').replace(LEADING_DATE, '');
  if (!slug || /[/\\?#\s]/.test(slug) || slug === '.' || slug === '..') {
    problem(
      lineOf('slug') ?? 1,
      'slug',
      `"${slug}" cannot be a slug: it must be non-empty, without spaces, slashes, ? or #`,
      slugValue ? 'set slug: to a word-like name such as my-first-post' : 'rename the file, or add slug: my-first-post to the front matter',
      'E_POST_SLUG',
    );
  }

  const summary = stringField('summary');
  const id = stringField('id');
  if (problems.length || !title || !date || typeof topics === 'string') return { ok: false, problems };

  const url = permalinkUrl(config, slug, date);
  return {
    ok: true,
    body: () => normalizeText(split.body).replace(/^\n/, ''),
    meta: {
      file,
      slug,
      title,
      date: date.getTime(),
      dateHasTime,
      updated: Math.max((updated ?? date).getTime(), date.getTime()),
      draft: draft === true || published === false,
      topics,
      summary: summary || undefined,
      url,
      id: id || undefined,
      slugLine: slugValue === undefined ? 1 : (lineOf('slug') ?? 1),
    },
  };
}

// YAML 1.1 habits (Jekyll, Hugo) read yes/no/on/off as booleans; writers keep using them.
function parseFlag(value: unknown): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value === true;
  const word = String(value).trim().toLowerCase();
  if (['true', 'yes', 'on'].includes(word)) return true;
  if (['false', 'no', 'off'].includes(word)) return false;
  return undefined;
}

function parseTopics(value: unknown): Topic[] | string {
  if (value === undefined || value === null || value === '') return [];
  const names = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (!names || names.some((name) => typeof name !== 'string' && typeof name !== 'number')) {
    return 'topics must be a name or a list of names';
  }
  const topics = new Map<string, Topic>();
  for (const raw of names) {
    const name = dropXmlForbidden(String(raw)).trim();
    const slug = slugify(name);
    if (!name) continue;
    if (!slug) return `topic "${name}" has no letters or digits to name its feed by`;
    if (!topics.has(slug)) topics.set(slug, { name, slug });
  }
  return [...topics.values()];
}

export function permalinkUrl(config: Config, slug: string, date: Date): string {
  let path = config.permalink.replace(/\{slug\}/g, encodeURIComponent(slug)).replace(/^\/+/, '');
  if (path.includes('{')) {
    const parts = calendarParts(date, config.site.timezone);
    path = path.replace(/\{year\}/g, parts.year).replace(/\{month\}/g, parts.month).replace(/\{day\}/g, parts.day);
  }
  // site.url ends in "/" and the path is already encoded, so joining them is a valid URL.
  return config.site.url + path;
}

const parseYaml = (front: string) => (yaml.load(front, { schema: yaml.CORE_SCHEMA }) ?? {}) as object;

/**
 * Separates the front matter block from the body. Only the block goes to gray-matter, which
 * copies and hashes whatever it is given; the body is not needed until a post is rendered.
 * Returns undefined when a block is opened but never closed.
 */
function splitFrontMatter(text: string): { front: string; body: string } | undefined {
  if (!/^---[ \t]*\r?\n/.test(text)) return { front: '', body: text };
  const close = /\r?\n---[ \t]*(\r?\n|$)/g;
  close.lastIndex = 3;
  const match = close.exec(text);
  if (!match) return undefined;
  const end = match.index + match[0].length;
  return { front: text.slice(0, end), body: text.slice(end) };
}

/** LF line endings, and none of the characters XML forbids. */
function normalizeText(text: string): string {
  return dropXmlForbidden(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text);
}

/** 1-based line of a top-level front matter field, if present. */
function lineOfField(front: string, key: string): number | undefined {
  const lines = front.split('\n');
  const pattern = new RegExp(`^["']?${key}["']?\\s*:`);
  const index = lines.findIndex((line, i) => i > 0 && pattern.test(line));
  return index < 0 ? undefined : index + 1;
}
