import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid, type Template } from 'liquidjs';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';

export interface EmailTemplates {
  html: Template[];
  /** Absent: the text part is made from the HTML. */
  text?: Template[];
  htmlEngine: Liquid;
  textEngine: Liquid;
}

// herald's own templates/ (the sample newsletter's) stand in for any the writer has not made.
// This module is src/email/templates.ts in development and a chunk in dist/ when built.
const BUILT_IN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../templates/' : '../templates/', import.meta.url));

/** Parses templates/email.html and templates/email.txt; a syntax error names the file and line. */
export function loadEmailTemplates(config: Config, cwd: string): EmailTemplates {
  const options = { timezoneOffset: config.site.timezone, strictFilters: true, jsTruthy: false };
  // HTML output is escaped unless a template asks for | raw; text output is never escaped.
  const htmlEngine = new Liquid({ ...options, outputEscape: 'escape' });
  const textEngine = new Liquid(options);
  const htmlFile = pick(config.paths.templates, 'email.html');
  const textFile = existsSync(join(config.paths.templates, 'email.txt')) || !existsSync(join(config.paths.templates, 'email.html')) ? pick(config.paths.templates, 'email.txt') : undefined;
  return {
    html: parse(htmlEngine, htmlFile, cwd),
    text: textFile ? parse(textEngine, textFile, cwd) : undefined,
    htmlEngine,
    textEngine,
  };
}

function pick(dir: string, name: string): string {
  const own = join(dir, name);
  return existsSync(own) ? own : join(BUILT_IN, name);
}

function parse(engine: Liquid, file: string, cwd: string): Template[] {
  try {
    return engine.parse(readFileSync(file, 'utf8'), file);
  } catch (error) {
    const liquid = error as Error & { token?: { getPosition(): [number, number] } };
    throw new HeraldError({
      code: 'E_TEMPLATE',
      file: relative(cwd, file) || file,
      line: liquid.token?.getPosition()[0],
      message: `template error: ${liquid.message.split(', line:')[0]}`,
      hint: 'fix the Liquid syntax ({{ value }}, {% if %}...{% endif %}, {% for %}...{% endfor %})',
    });
  }
}
