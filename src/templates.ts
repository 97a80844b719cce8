import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid, type Template } from 'liquidjs';
import type { Config } from './config.js';
import { HeraldError } from './errors.js';

// herald's own templates/ (the sample newsletter's) stand in for any the writer has not made.
// This module is src/templates.ts in development and a chunk in dist/ when built: both one level down.
const BUILT_IN = fileURLToPath(new URL('../templates/', import.meta.url));

/** Liquid as herald uses it: dates in the site's zone, unknown filters an error. */
export function liquid(config: Config, escapeOutput: boolean): Liquid {
  return new Liquid({ timezoneOffset: config.site.timezone, strictFilters: true, jsTruthy: false, ...(escapeOutput ? { outputEscape: 'escape' as const } : {}) });
}

/** The writer's templates/<name>, else herald's own. */
export function templatePath(config: Config, name: string): string {
  const own = join(config.paths.templates, name);
  return existsSync(own) ? own : join(BUILT_IN, name);
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
