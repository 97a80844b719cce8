// What herald init --from found in a blog: the herald settings it means, each with where it came
// from, and what cannot be carried over. The readers (jekyll.ts, hugo.ts, eleventy.ts) make one;
// write.ts turns it into herald.config.yml. Paths stay relative to the blog's folder until then,
// as only the writer knows where the config goes.

export type Generator = 'Jekyll' | 'Hugo' | 'Eleventy';

/** A path inside the blog's folder (with /), rebased by the writer onto the config's folder. */
export class SourcePath {
  constructor(readonly path: string) {}
}

export interface StaticFolder {
  folder: SourcePath;
  /** Where below output it goes; undefined: under its own name (herald's short form). */
  path?: string;
}

export interface Setting {
  /** A herald config key, dotted: site.title, posts.folder, feed.paths.atom, static. */
  key: string;
  value: string | number | boolean | string[] | SourcePath | StaticFolder[];
  /** Where the value comes from, shown as the line's comment: `_config.yml title`. */
  from: string;
}

export interface InitPlan {
  generator: Generator;
  /** The files read for settings, relative to the blog's folder. */
  read: string[];
  settings: Setting[];
  /** What herald cannot carry over, one line each: what it is, and what herald does instead. */
  notes: string[];
  /** How many posts herald will find in the posts folder. */
  posts: number;
  /** The generator's own output folder, relative to the blog's: herald must not write into it. */
  generatorOutput?: string;
}

/** Collects settings and notes while a reader works; a value of undefined sets nothing. */
export class PlanBuilder {
  readonly settings: Setting[] = [];
  readonly notes: string[] = [];

  set(key: string, value: Setting['value'] | undefined, from: string): void {
    if (value === undefined || value === '' || (Array.isArray(value) && !value.length)) return;
    const index = this.settings.findIndex((setting) => setting.key === key);
    if (index >= 0) this.settings.splice(index, 1);
    this.settings.push({ key, value, from });
  }

  get(key: string): Setting['value'] | undefined {
    return this.settings.find((setting) => setting.key === key)?.value;
  }

  note(line: string): void {
    if (!this.notes.includes(line)) this.notes.push(line);
  }
}

/** A value as text when it is one (numbers too: YAML reads `title: 2024` as a number). */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  // Titles and descriptions are one line in feeds; YAML's folded blocks leave line breaks in.
  const text = value.replace(/\s+/g, ' ').trim();
  return text || undefined;
}

/** An author as the generators write it: a name, { name, email }, or a list whose first is the site's. */
export function authorOf(value: unknown): { name?: string; email?: string } | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'string') return textOf(first) ? { name: textOf(first) } : undefined;
  if (first && typeof first === 'object') {
    const fields = first as Record<string, unknown>;
    const author = { name: textOf(fields.name), email: textOf(fields.email) };
    return author.name || author.email ? author : undefined;
  }
  return undefined;
}

/** A language as herald writes it: en_US (Jekyll's locale) is the tag en-US. */
export function languageOf(value: unknown): string | undefined {
  return textOf(value)?.replace(/_/g, '-');
}

/** A site URL and a path below its host (Jekyll's baseurl, Eleventy's pathPrefix), with one / between. */
export function joinUrl(url: string, path: string | undefined): string {
  const base = url.replace(/\/+$/, '');
  const below = (path ?? '').replace(/^\/+|\/+$/g, '');
  return `${base}/${below ? `${below}/` : ''}`;
}

/** A feed's URL path as herald's feed.paths want it: below output, without a leading /. */
export function feedPathOf(value: unknown): string | undefined {
  const path = textOf(value)?.replace(/^\/+/, '');
  return path || undefined;
}

