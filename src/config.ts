import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import yaml from 'js-yaml';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { HeraldError } from './errors.js';
import { dropXmlForbidden } from './text.js';

export const DEFAULT_CONFIG_FILE = 'herald.config.yml';

const url = z
  .string()
  .refine((value) => /^https?:\/\/[^/]+/i.test(value) && URL.canParse(value), 'must be an absolute http(s) URL, like https://example.com/');

const schema = z.strictObject({
  site: z
    .strictObject({
      title: z.string().min(1).default('Herald sample newsletter'),
      url: url.default('http://localhost:8080/'),
      description: z.string().default('Notes, sent as they are written.'),
      author: z
        .strictObject({
          name: z.string().min(1).default('The Herald writer'),
          email: z.email().optional(),
        })
        .default({ name: 'The Herald writer' }),
      language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en or pt-BR').default('en'),
      timezone: z
        .string()
        .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone name such as UTC or Europe/Berlin')
        .default('UTC'),
    })
    .default({
      title: 'Herald sample newsletter',
      url: 'http://localhost:8080/',
      description: 'Notes, sent as they are written.',
      author: { name: 'The Herald writer' },
      language: 'en',
      timezone: 'UTC',
    }),
  posts: z.string().min(1).default('posts'),
  subscribers: z.string().min(1).default('subscribers'),
  templates: z.string().min(1).default('templates'),
  output: z.string().min(1).default('public'),
  state: z.string().min(1).default('.herald'),
  feed: z.strictObject({ limit: z.int().positive().default(20) }).default({ limit: 20 }),
  permalink: z
    .string()
    .refine((pattern) => pattern.includes('{slug}'), 'must contain {slug}, for example /{slug}/ or /{year}/{slug}/')
    .refine((pattern) => !/\{(?!slug\}|year\}|month\}|day\})[^}]*\}/.test(pattern), 'may only use {slug}, {year}, {month} and {day}')
    .default('/{slug}/'),
});

type RawConfig = z.infer<typeof schema>;

export interface Config {
  /** The file the config came from, or undefined for the embedded defaults. */
  readonly file: string | undefined;
  readonly site: Readonly<Omit<RawConfig['site'], 'author'>> & { readonly author: Readonly<RawConfig['site']['author']> };
  readonly feed: Readonly<RawConfig['feed']>;
  readonly permalink: string;
  /** Absolute paths, resolved against the config file's folder. */
  readonly paths: Readonly<{ posts: string; subscribers: string; templates: string; output: string; state: string }>;
}

/** Where the config comes from: --config, else HERALD_CONFIG, else ./herald.config.yml if it exists. */
export function locateConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const chosen = explicit ?? env.HERALD_CONFIG;
  if (chosen) return resolve(cwd, chosen);
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : undefined;
}

export function loadConfig(file: string | undefined, cwd: string): Config {
  if (file === undefined) return parseConfig({}, undefined, cwd);
  const shown = relative(cwd, file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HeraldError({
      code: 'E_CONFIG_MISSING',
      file: shown,
      message: `cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      hint: 'check the path given with --config or HERALD_CONFIG',
    });
  }
  let raw: unknown;
  try {
    // JSON is a subset of YAML, so one parser reads both. No timestamps: dates stay strings.
    raw = yaml.load(text.replace(/^\uFEFF/, ''), { schema: yaml.CORE_SCHEMA, filename: shown }) ?? {};
  } catch (error) {
    const mark = (error as yaml.YAMLException).mark;
    throw new HeraldError({
      code: 'E_CONFIG_YAML',
      file: shown,
      line: mark ? mark.line + 1 : undefined,
      message: `not valid YAML: ${(error as yaml.YAMLException).reason ?? (error as Error).message}`,
      hint: 'fix the syntax at that line; JSON is accepted too',
    });
  }
  return parseConfig(raw, file, cwd);
}

export function parseConfig(raw: unknown, file: string | undefined, cwd: string): Config {
  const shown = file ? relative(cwd, file) || file : '(embedded defaults)';
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const key = [at, issue.keys[0]].filter(Boolean).join('.');
      throw new HeraldError({
        code: 'E_CONFIG',
        file: shown,
        line: file ? lineOfKey(readFileSync(file, 'utf8'), [...issue.path.map(String), issue.keys[0]!]) : undefined,
        field: key,
        message: `unknown key "${key}"`,
        hint: `allowed ${at ? `under "${at}"` : 'at the top level'}: ${allowedKeys(issue.path.map(String)).join(', ')}`,
      });
    }
    throw new HeraldError({
      code: 'E_CONFIG',
      file: shown,
      line: file ? lineOfKey(readFileSync(file, 'utf8'), issue.path.map(String)) : undefined,
      field: at || undefined,
      message: `"${at || '(top level)'}" ${describeIssue(issue)}`,
      hint: 'see the config keys in the README',
    });
  }
  const value = result.data;
  const base = file ? dirname(file) : cwd;
  const site = value.site;
  return deepFreeze({
    file,
    site: {
      ...site,
      title: dropXmlForbidden(site.title),
      description: dropXmlForbidden(site.description),
      author: { ...site.author, name: dropXmlForbidden(site.author.name) },
      // A trailing slash makes every permalink resolve below the site's path, not beside it.
      url: site.url.endsWith('/') ? site.url : `${site.url}/`,
    },
    feed: value.feed,
    permalink: value.permalink,
    paths: {
      posts: resolve(base, value.posts),
      subscribers: resolve(base, value.subscribers),
      templates: resolve(base, value.templates),
      output: resolve(base, value.output),
      state: resolve(base, value.state),
    },
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `must be ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}`;
  if (issue.code === 'too_small') return issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
  return issue.message.toLowerCase().startsWith('invalid') ? `is ${issue.message.toLowerCase()}` : issue.message;
}

function allowedKeys(path: string[]): string[] {
  let shape: z.ZodType = schema;
  for (const key of path) shape = unwrap(shape) instanceof z.ZodObject ? (unwrap(shape) as z.ZodObject).shape[key] : shape;
  const object = unwrap(shape);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

function unwrap(type: z.ZodType): z.ZodType {
  return type instanceof z.ZodDefault || type instanceof z.ZodOptional ? unwrap(type.unwrap() as z.ZodType) : type;
}

// Best effort: the line of a nested key in a YAML file, found by following indentation.
function lineOfKey(text: string, path: string[]): number | undefined {
  const lines = text.split(/\r?\n/);
  let from = 0;
  let indent = -1;
  let found: number | undefined;
  for (const key of path) {
    found = undefined;
    for (let i = from; i < lines.length; i++) {
      const match = /^(\s*)["']?([^"':#]+?)["']?\s*:/.exec(lines[i]!);
      if (!match) continue;
      const depth = match[1]!.length;
      if (depth <= indent) break;
      if (match[2] === key) {
        found = i;
        from = i + 1;
        indent = depth;
        break;
      }
    }
    if (found === undefined) return undefined;
  }
  return found === undefined ? undefined : found + 1;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
