// A plan (what herald init --from found) as herald.config.yml: paths made relative to where the
// config goes, each value checked by herald's own config validation (a value herald rejects is left
// out and said so, never written to fail later), and a comment on each line saying where it came from.
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import yaml from 'js-yaml';
import { parseConfig } from '../config.js';
import { HeraldError, type Problem } from '../errors.js';
import { SourcePath, type InitPlan, type Setting, type StaticFolder } from './plan.js';

export interface Placement {
  /** The blog's folder, absolute. */
  source: string;
  /** The folder herald.config.yml goes into, absolute. */
  configDir: string;
  /** The blog's folder as the user named it, for the header. */
  shown: string;
}

export interface WrittenConfig {
  text: string;
  /** The settings written, with paths as they are in the file. */
  settings: { key: string; value: unknown; from: string }[];
  /** The plan's notes, and values herald's validation rejected. */
  notes: string[];
  /** The output folder herald writes to, relative to the config. */
  output: string;
}

// The order keys are written in: herald's README's.
const ORDER = [
  'site.title',
  'site.url',
  'site.description',
  'site.author.name',
  'site.author.email',
  'site.language',
  'site.timezone',
  'posts.folder',
  'posts.exclude',
  'posts.topics',
  'posts.liquid',
  'posts.includes',
  'posts.timesWithoutOffset',
  'permalink',
  'feed.limit',
  'feed.paths.rss',
  'feed.paths.atom',
  'feed.paths.json',
  'static',
  'output',
  'outbox',
];

// What each section is for, above it in the file.
const ABOUT: Record<string, string> = {
  site: 'The site as feeds, pages and emails name it.',
  posts: "The blog's posts, read where they are: herald never changes them.",
  permalink: "Where each post's page is: the old site's addresses, so links and feed readers keep working.",
  feed: 'The feeds: the old feed stays at its address, so subscribers in feed readers follow on.',
  static: 'Folders copied into the site as they are (images, files posts link to).',
  output: 'Where herald writes the site.',
  outbox: 'Where mail goes while no SMTP server is set: one .eml file a message.',
};

const DEFAULT_OUTPUT = 'public';
const SPARE_OUTPUT = 'herald-public';
const JEKYLL_OUTPUT = '_herald-site';

export function writeConfig(plan: InitPlan, place: Placement): WrittenConfig {
  let settings = plan.settings.map((setting) => ({ key: setting.key, value: rebase(setting.value, place), from: setting.from }));
  const notes = [...plan.notes];
  const output = chooseOutput(plan, place);
  if (output) {
    settings.push({ key: 'output', value: output.folder, from: output.why });
    notes.push(output.note);
  }
  // Jekyll publishes what is beside its _config.yml, but not names starting with _ or .: the
  // emails in the outbox (readers' addresses, live unsubscribe links) go into herald's state folder.
  if (jekyllInPlace(plan, place)) settings.push({ key: 'outbox', value: '.herald/outbox', from: 'Jekyll does not publish folders starting with .' });
  notes.push(...inPlaceNotes(plan, place, output?.folder ?? DEFAULT_OUTPUT));
  settings = settle(settings, place.configDir, notes);
  settings.sort((a, b) => ORDER.indexOf(a.key) - ORDER.indexOf(b.key));
  return { text: render(plan, place, settings, notes), settings, notes, output: output?.folder ?? DEFAULT_OUTPUT };
}

function rebase(value: Setting['value'], place: Placement): unknown {
  const path = (inside: SourcePath) => {
    const shown = relative(place.configDir, join(place.source, inside.path)).split(sep).join('/');
    return shown || '.';
  };
  if (value instanceof SourcePath) return path(value);
  if (Array.isArray(value) && value.some((entry) => typeof entry === 'object')) {
    return (value as StaticFolder[]).map((entry) => (entry.path === undefined ? path(entry.folder) : { folder: path(entry.folder), path: entry.path }));
  }
  return value;
}

/**
 * herald's output is public; it must not be the generator's own output (Hugo's is public too), a
 * static folder (Eleventy's base blog copies public/) or hold the posts: then it gets another name.
 */
function chooseOutput(plan: InitPlan, place: Placement): { folder: string; why: string; note: string } | undefined {
  const taken: { path: string; what: string }[] = [];
  if (plan.generatorOutput) taken.push({ path: resolve(place.source, plan.generatorOutput), what: `${plan.generator}'s own output` });
  for (const setting of plan.settings) {
    if (setting.value instanceof SourcePath) taken.push({ path: resolve(place.source, setting.value.path), what: `the ${setting.key} folder` });
    if (setting.key === 'static' && Array.isArray(setting.value)) {
      for (const entry of setting.value as StaticFolder[]) taken.push({ path: resolve(place.source, entry.folder.path), what: 'a static folder' });
    }
  }
  if (jekyllInPlace(plan, place)) {
    return { folder: JEKYLL_OUTPUT, why: 'Jekyll does not publish folders starting with _', note: `output: herald writes its site to ${JEKYLL_OUTPUT}/, which Jekyll leaves out of its own` };
  }
  const clash = taken.find(({ path }) => overlaps(path, resolve(place.configDir, DEFAULT_OUTPUT)));
  if (!clash) return undefined;
  return {
    folder: SPARE_OUTPUT,
    why: `${DEFAULT_OUTPUT}/ here is ${clash.what}`,
    note: `output: ${DEFAULT_OUTPUT}/ next to the config is ${clash.what}, so herald writes its site to ${SPARE_OUTPUT}/ instead`,
  };
}

/**
 * A config inside the blog's folder puts herald's files where the generator looks for its own:
 * Jekyll publishes every file it is not told to exclude (the config may hold the SMTP password,
 * outbox/ holds readers' emails), and Eleventy reads any template .gitignore does not name.
 */
function inPlaceNotes(plan: InitPlan, place: Placement, output: string): string[] {
  if (!inPlace(place)) return [];
  if (plan.generator === 'Jekyll') {
    return [`Jekyll publishes every file here it is not told to exclude, but not names starting with _ or .: herald's site is in ${output}/ and its mail in .herald/outbox/; add herald.config.yml (and subscribers, if you keep a list there) to exclude: in _config.yml (herald does not edit it), or they are published with the site`];
  }
  if (plan.generator === 'Eleventy') {
    return [`Eleventy reads every template here that .gitignore or .eleventyignore does not name: add outbox/ and ${output}/ to one of them, or Eleventy processes herald's pages`];
  }
  return [];
}

function inPlace(place: Placement): boolean {
  const below = relative(place.source, place.configDir);
  return !below.startsWith('..') && !isAbsolute(below);
}

const jekyllInPlace = (plan: InitPlan, place: Placement) => plan.generator === 'Jekyll' && inPlace(place);

function overlaps(a: string, b: string): boolean {
  const inside = (parent: string, child: string) => {
    const below = relative(parent, child);
    return below === '' || (!below.startsWith('..') && !isAbsolute(below));
  };
  return inside(a, b) || inside(b, a);
}

/**
 * Runs the settings through herald's own validation; a value it rejects is dropped (herald's
 * default applies) and becomes a note naming the rule, so the file written always loads.
 */
function settle<T extends { key: string; value: unknown; from: string }>(settings: T[], configDir: string, notes: string[]): T[] {
  let kept = settings;
  for (let round = 0; round <= settings.length; round++) {
    let problems: Problem[];
    try {
      parseConfig(nest(kept), undefined, configDir, {});
      return kept;
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error;
      problems = error.problems;
    }
    const rejected = new Set<T>();
    for (const problem of problems) {
      const field = problem.field ?? '';
      const setting = kept.filter((candidate) => field === candidate.key || field.startsWith(`${candidate.key}.`)).sort((a, b) => b.key.length - a.key.length)[0];
      if (!setting) {
        throw new HeraldError({ ...problem, message: `herald init wrote a config herald cannot load: ${problem.message}`, hint: 'this is a bug in herald init; nothing was written' });
      }
      rejected.add(setting);
      notes.push(`${setting.key} ${JSON.stringify(setting.value)} (${setting.from}): herald's config rejects it: ${problem.message.replace(/^"[^"]*" /, '')}; herald's default applies`);
    }
    kept = kept.filter((setting) => !rejected.has(setting));
  }
  return kept;
}

/** Dotted keys as the nested object the config file holds; posts with only a folder is just the folder. */
function nest(settings: { key: string; value: unknown }[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { key, value } of settings) {
    const parts = key.split('.');
    let at = root;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = value;
  }
  const posts = root.posts as Record<string, unknown> | undefined;
  if (posts && Object.keys(posts).length === 1 && typeof posts.folder === 'string') root.posts = posts.folder;
  return root;
}

function render(plan: InitPlan, place: Placement, settings: { key: string; value: unknown; from: string }[], notes: string[]): string {
  const read = plan.read.length ? `from ${plan.read.length > 1 ? `${plan.read.slice(0, -1).join(', ')} and ${plan.read.at(-1)}` : plan.read[0]}` : `with ${plan.generator}'s defaults`;
  const header = [
    `# herald's settings for the ${plan.generator} blog in ${place.shown}, written by herald init ${read}.`,
    '# Each comment says where its value came from; paths are relative to this file. Keys left out',
    '# keep herald\'s defaults ("Configuration" in herald\'s README has them all): mail goes to',
    '# outbox/ until smtp.url (or HERALD_SMTP_URL) is set.',
  ];
  if (notes.length) header.push('#', '# Not carried over (and what herald does instead):', ...notes.map((note) => `# - ${note}`));
  const rows: [string, string | undefined][] = [];
  const nested = nest(settings);
  const fromOf = new Map(settings.map((setting) => [setting.key, setting.from]));
  for (const [key, value] of Object.entries(nested)) {
    rows.push(['', undefined]);
    if (ABOUT[key]) rows.push([`# ${ABOUT[key]}`, undefined]);
    emit(rows, key, value, '', key, fromOf);
  }
  const width = Math.min(48, Math.max(...rows.filter(([, comment]) => comment).map(([text]) => text.length)) + 2);
  const body = rows.map(([text, comment]) => (comment ? `${text}${' '.repeat(Math.max(2, width - text.length))}# ${comment}` : text));
  return `${[...header, ...body].join('\n')}\n`;
}

function emit(rows: [string, string | undefined][], key: string, value: unknown, indent: string, path: string, fromOf: Map<string, string>): void {
  const from = fromOf.get(path) ?? (path === 'posts' ? fromOf.get('posts.folder') : undefined);
  if (Array.isArray(value) && value.some((entry) => typeof entry === 'object')) {
    rows.push([`${indent}${key}:`, from]);
    for (const entry of value) {
      rows.push([`${indent}  - ${typeof entry === 'object' ? `{ ${Object.entries(entry as Record<string, unknown>).map(([name, inner]) => `${name}: ${scalar(inner)}`).join(', ')} }` : scalar(entry)}`, undefined]);
    }
  } else if (Array.isArray(value)) rows.push([`${indent}${key}: [${value.map(scalar).join(', ')}]`, from]);
  else if (value && typeof value === 'object') {
    rows.push([`${indent}${key}:`, undefined]);
    for (const [name, inner] of Object.entries(value as Record<string, unknown>)) emit(rows, name, inner, `${indent}  `, `${path}.${name}`, fromOf);
  } else rows.push([`${indent}${key}: ${scalar(value)}`, from]);
}

/** One YAML scalar on one line, quoted only when YAML needs it. */
function scalar(value: unknown): string {
  return yaml.dump(value, { lineWidth: -1, flowLevel: 0 }).trimEnd();
}

/** How a path shows in messages: relative to the working directory, with /. */
export function shownPath(cwd: string, path: string): string {
  return posix.normalize(relative(cwd, path).split(sep).join('/') || '.');
}
