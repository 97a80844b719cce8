import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Liquid, Template } from 'liquidjs';
import { DateTime } from 'luxon';
import type { Config } from './config.js';
import { HeraldError } from './errors.js';
import { loadLiquidjs } from './lazy.js';

// herald's own templates/ (the sample newsletter's) stand in for any the writer has not made.
// This module is src/templates.ts in development and a chunk in dist/ when built: both one level down.
const BUILT_IN = fileURLToPath(new URL('../templates/', import.meta.url));

/**
 * Liquid as herald uses it: unknown filters are an error; dates keep the offset they carry;
 * {% include %} finds partials in the writer's templates/, then in herald's own.
 * `cacheIncludes` reads and parses each partial once for the engine's life instead of at every
 * render (thousands of pages in a build): only for an engine made anew for each build, so a
 * changed partial is read again by the next one.
 */
export function liquid(config: Config, escapeOutput: boolean, cacheIncludes = false): Liquid {
  return new (loadLiquidjs().Liquid)({
    root: [config.paths.templates, BUILT_IN],
    preserveTimezones: true,
    strictFilters: true,
    jsTruthy: false,
    cache: cacheIncludes,
    ...(escapeOutput ? { outputEscape: 'escape' as const } : {}),
  });
}

/** `site` as every template sees it: the config's site, the URLs of its feeds (feed.paths) and the postal address. */
export function templateSite(config: Config): Config['site'] & { feeds: { rss: string; atom: string; json: string }; web_url: string; address?: string } {
  const url = (path: string) => config.site.url + path;
  return {
    ...config.site,
    feeds: { rss: url(config.feed.paths.rss), atom: url(config.feed.paths.atom), json: url(config.feed.paths.json) },
    // Where the subscribe form posts: herald start's web side.
    web_url: config.web.url,
    // email.address, the sender's postal address, for the footers.
    ...(config.email.address ? { address: config.email.address } : {}),
  };
}

/**
 * A post's date for templates: `date`, ISO 8601 with the site zone's offset (so `| date: "..."`
 * shows local time), and `date_text`, the long form in the site's language ("January 26, 2026").
 * The built-in templates use date_text: Liquid's date filter builds a new Intl formatter for
 * every month name, far too slow for an archive of thousands of posts.
 */
export function templateDates(ms: number, config: Config): { date: string; date_text: string } {
  const local = DateTime.fromMillis(ms, { zone: config.site.timezone }).setLocale(config.site.language);
  return { date: local.toISO() ?? new Date(ms).toISOString(), date_text: local.toLocaleString(DateTime.DATE_FULL) };
}

/** The writer's templates/<name>, else herald's own. */
export function templatePath(config: Config, name: string): string {
  const own = join(config.paths.templates, name);
  return existsSync(own) ? own : join(BUILT_IN, name);
}

/** The writer's own templates/<name>, unless it is herald's built-in one (this repository's sample is both). */
export function writersTemplate(config: Config, name: string): string | undefined {
  const own = join(config.paths.templates, name);
  if (!existsSync(own)) return undefined;
  const builtIn = join(BUILT_IN, name);
  return existsSync(builtIn) && readFileSync(own, 'utf8') === readFileSync(builtIn, 'utf8') ? undefined : own;
}

/**
 * Whether any of the writer's own templates or includes (not herald's built-in ones, nor copies
 * of them) has text matching `pattern`: what a build cannot know from the data alone, such as
 * whether a listing's post count shows on every one of its pages.
 */
export function ownTemplatesMention(config: Config, pattern: RegExp): boolean {
  return [config.paths.templates, config.paths.includes].some((folder) => {
    let names: string[];
    try {
      names = readdirSync(folder, { recursive: true, encoding: 'utf8' });
    } catch {
      return false;
    }
    return names.some((name) => {
      let text: string;
      try {
        text = readFileSync(join(folder, name), 'utf8');
      } catch {
        return false; // a folder
      }
      const builtIn = join(BUILT_IN, name);
      return pattern.test(text) && !(existsSync(builtIn) && readFileSync(builtIn, 'utf8') === text);
    });
  });
}

export function hasOwnTemplate(config: Config, name: string): boolean {
  return existsSync(join(config.paths.templates, name));
}

/** Parses a template file; a syntax error names the file and line. */
export function parseTemplate(engine: Liquid, file: string, cwd: string): Template[] {
  try {
    return engine.parse(readFileSync(file, 'utf8'), file);
  } catch (error) {
    const failure = error as Error & { token?: { getPosition(): [number, number] } };
    throw new HeraldError({
      code: 'E_TEMPLATE',
      file: relative(cwd, file) || file,
      line: failure.token?.getPosition()[0],
      message: `template error: ${failure.message.split(', line:')[0]}`,
      hint: 'fix the Liquid syntax ({{ value }}, {% if %}...{% endif %}, {% for %}...{% endfor %})',
    });
  }
}
