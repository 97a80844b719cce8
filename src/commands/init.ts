import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { DEFAULT_CONFIG_FILE, parseConfig } from '../config.js';
import { HeraldError, type Problem } from '../errors.js';
import { planFrom } from '../init/detect.js';
import { missingIgnores, newSite } from '../init/new-site.js';
import { listed, plural } from '../text.js';
import { diskTree } from '../init/tree.js';
import { shownPath, writeConfig, type WrittenConfig } from '../init/write.js';
import { calendarParts, parsePostDate } from '../posts/dates.js';
import type { Io } from './context.js';

export interface InitOptions {
  from?: string;
  to?: string;
  /** The global --now: the example post's date is that day. */
  now?: string;
}

/** herald init [DIR], or herald init --from DIR [--to FILE]. */
export async function initCommand(io: Io, dir: string | undefined, options: InitOptions): Promise<number> {
  if (options.from !== undefined) {
    if (dir !== undefined) {
      throw usage(`herald init --from takes no folder of its own ("${dir}")`, 'the config goes in the working directory, or where --to FILE says');
    }
    return fromBlog(io, options.from, options.to);
  }
  if (options.to !== undefined) throw usage('--to goes with --from', 'herald init DIR makes a new site in DIR; herald init --from BLOG --to FILE writes a config for an existing blog');
  return newSiteIn(io, dir ?? '.', options.now);
}

function newSiteIn(io: Io, dir: string, now: string | undefined): number {
  const target = resolve(io.cwd, dir);
  const shown = (path: string) => shownPath(io.cwd, path);
  if (existsSync(target) && !statSync(target).isDirectory()) throw usage(`${shown(target)} is a file, not a folder`, 'give herald init a folder, new or empty');
  // herald init adds, never replaces: a config or posts already here are someone's site.
  const problems: Problem[] = [];
  const config = join(target, DEFAULT_CONFIG_FILE);
  if (existsSync(config)) {
    problems.push({ code: 'E_USAGE', file: shown(config), message: 'already exists: this folder has a herald site', hint: 'edit that config, or run herald init in a new folder' });
  }
  const posts = join(target, 'posts');
  // Hidden files (a .gitkeep) are no posts: herald skips them too.
  const postsFile = existsSync(posts) && !statSync(posts).isDirectory();
  const written = existsSync(posts) && !postsFile ? readdirSync(posts).filter((name) => !name.startsWith('.')) : [];
  if (written.length || postsFile) {
    problems.push({
      code: 'E_USAGE',
      file: shown(posts),
      message: postsFile ? 'is a file, where herald init makes the posts folder' : `already holds ${listed(written)}`,
      hint: 'herald init never overwrites: run it in a new folder, or use herald init --from to publish an existing blog',
    });
  }
  if (problems.length) throw new HeraldError(problems[0]!, ...problems.slice(1));

  const timezone = systemTimeZone();
  const moment = now === undefined ? new Date() : parseNow(now, timezone);
  const { year, month, day } = calendarParts(moment, timezone);
  const site = newSite({ timezone, today: `${year}-${month}-${day}` });
  // The config is herald's own: it must load, or the first thing a new writer sees is an error.
  parseConfig(yaml.load(site.config, { schema: yaml.CORE_SCHEMA }), undefined, target, {});

  mkdirSync(join(target, 'posts'), { recursive: true });
  writeFileSync(config, site.config, { flag: 'wx' });
  writeFileSync(join(target, site.post.path), site.post.text, { flag: 'wx' });
  const gitignore = join(target, '.gitignore');
  let ignored: string;
  if (!existsSync(gitignore)) {
    writeFileSync(gitignore, site.gitignore, { flag: 'wx' });
    ignored = 'keeps .herald/ (subscribers, the signing secret), outbox/ and public/ out of git';
  } else {
    const existing = readFileSync(gitignore, 'utf8');
    const missing = missingIgnores(existing);
    // Added to, not replaced: the lines already there are the writer's.
    if (missing.length) appendFileSync(gitignore, `${existing.endsWith('\n') || !existing ? '' : '\n'}\n${site.gitignore.split('\n').filter((line) => line.startsWith('#') || missing.includes(line)).join('\n')}\n`);
    ignored = missing.length ? `was there: herald added ${missing.join(', ')} to it (readers' data and the signing secret stay out of git)` : 'was there, and already keeps .herald/, outbox/ and public/ out of git';
  }

  const rows: [string, string][] = [
    [DEFAULT_CONFIG_FILE, 'the settings, each key explained in a comment'],
    [site.post.path, `an example post, dated today (${year}-${month}-${day})`],
    ['.gitignore', ignored],
  ];
  io.out(`made a new herald site in ${shown(target) === '.' ? 'this folder' : `${shown(target)}/`}:`);
  for (const line of table(rows)) io.out(`  ${line}`);
  const blog = ['_config.yml', 'hugo.toml', 'config.toml', 'eleventy.config.js', '.eleventy.js'].find((name) => existsSync(join(target, name)));
  if (blog) io.out(`(${blog} is here too: herald init --from ${shown(target)} writes a config that publishes that blog's own posts)`);
  io.out('next:');
  const next: [string, string][] = [
    ...(shown(target) === '.' ? [] : ([[`cd ${shown(target)}`, '']] as [string, string][])),
    [`${heraldCommand(io, target)} start`, 'builds the site and serves it at http://127.0.0.1:8080/ (mail goes to outbox/ until smtp is set)'],
    [`${heraldCommand(io, target)} preview ${site.post.slug}`, 'the example post as an email, in .herald/preview/'],
  ];
  for (const line of table(next)) io.out(`  ${line}`.trimEnd());
  return 0;
}

function fromBlog(io: Io, from: string, to: string | undefined): number {
  const source = resolve(io.cwd, from);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw usage(`--from ${from}: ${existsSync(source) ? 'not a folder' : 'no such folder'}`, "give the blog's folder, the one holding _config.yml, hugo.toml or eleventy.config.js");
  let file = resolve(io.cwd, to ?? DEFAULT_CONFIG_FILE);
  if (to !== undefined && (/[\\/]$/.test(to) || (existsSync(file) && statSync(file).isDirectory()))) file = join(file, DEFAULT_CONFIG_FILE);
  const shownFile = shownPath(io.cwd, file);
  if (existsSync(file)) {
    throw new HeraldError({ code: 'E_USAGE', file: shownFile, message: 'already exists; herald init does not overwrite it', hint: 'move it away first, or write the new config elsewhere with --to FILE' });
  }
  const configDir = dirname(file);
  const plan = planFrom(diskTree(source), shownPath(io.cwd, source));
  const written = writeConfig(plan, { source, configDir, shown: shownPath(configDir, source) });
  mkdirSync(configDir, { recursive: true });
  writeFileSync(file, written.text, { flag: 'wx' });
  report(io, plan.generator, plan.read, plan.posts, shownPath(io.cwd, source), shownFile, written, configDir);
  return 0;
}

function report(io: Io, generator: string, read: string[], posts: number, source: string, file: string, written: WrittenConfig, configDir: string): void {
  const folder = written.settings.find((setting) => setting.key === 'posts.folder')?.value;
  io.out(`read the ${generator} blog in ${source} (${read.length ? read.join(', ') : 'no config file'}): ${plural(posts, 'post')}${typeof folder === 'string' ? ` in ${folder}` : ''}`);
  io.out(`wrote ${file}:`);
  for (const line of table(written.settings.map((setting) => [setting.key, `${display(setting.value)}  # ${setting.from}`]))) io.out(`  ${line}`);
  if (written.notes.length) {
    io.out('not carried over (and what herald does instead):');
    for (const note of written.notes) io.out(`  - ${note}`);
  }
  const config = file === DEFAULT_CONFIG_FILE ? '' : ` --config ${file}`;
  const output = written.output;
  const herald = heraldCommand(io, io.cwd);
  io.out('next:');
  const next: [string, string][] = [
    [`${herald}${config} check`, 'reads every post with these settings and names anything to fix'],
    [`${herald}${config} build`, `writes the feeds and the archive into ${output}/`],
  ];
  const ignore = join(configDir, '.gitignore');
  const missing = missingIgnores(existsSync(ignore) ? readFileSync(ignore, 'utf8') : '', output);
  if (missing.length) next.push([`add ${missing.join(' ')} to ${shownPath(io.cwd, ignore)}`, "herald's state holds subscribers' addresses and the signing secret"]);
  for (const line of table(next)) io.out(`  ${line}`);
}

/**
 * How to run this herald from `folder`, for the next steps init prints: `herald` when that is
 * this herald on PATH (npm install -g, npm link), `npx herald` inside its own package (the
 * clone), else node and the path of its CLI. `npx herald` elsewhere would ask the npm registry
 * for a package of that name, which is not this one.
 */
function heraldCommand(io: Io, folder: string): string {
  const root = packageRoot();
  if (root === undefined) return 'herald';
  const own = realPath(join(root, 'dist', 'cli.js'));
  const onPath = (io.env.PATH ?? process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => realPath(join(dir, 'herald')));
  if (own !== undefined && onPath.find((found) => found !== undefined) === own) return 'herald';
  const inside = relative(root, realPath(folder) ?? folder);
  if (!inside.startsWith('..') && !inside.startsWith(sep)) return 'npx herald';
  const cli = join(root, 'dist', 'cli.js');
  return `node ${/[\s'"$`\\]/.test(cli) ? `'${cli.replace(/'/g, "'\\''")}'` : cli}`;
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

// herald's own package folder: where package.json names herald, above this module.
function packageRoot(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'herald') return dir;
  }
  return undefined;
}

function display(value: unknown): string {
  if (Array.isArray(value)) return value.map(display).join(', ');
  if (value && typeof value === 'object') {
    const { folder, path } = value as { folder: string; path: string };
    return `${folder} at ${path}`;
  }
  return String(value);
}

/** Two columns, the first padded to the longest. */
function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => (right ? `${left.padEnd(width)}${right}` : left));
}

function systemTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function parseNow(value: string, zone: string): Date {
  const parsed = parsePostDate(value, zone);
  if (parsed.ok) return parsed.date;
  throw usage(`--now ${parsed.reason}`, 'give an ISO 8601 moment such as 2026-02-10T14:00:00Z');
}

function usage(message: string, hint: string): HeraldError {
  return new HeraldError({ code: 'E_USAGE', message, hint });
}
