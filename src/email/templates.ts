import type { Liquid, Template } from 'liquidjs';
import type { Config } from '../config.js';
import { hasOwnTemplate, liquid, parseTemplate, templatePath } from '../templates.js';

export interface EmailTemplates {
  html: Template[];
  /** Absent: the text part is made from the HTML. */
  text?: Template[];
  htmlEngine: Liquid;
  textEngine: Liquid;
}

/** Parses templates/email.html and templates/email.txt; a syntax error names the file and line. */
export function loadEmailTemplates(config: Config, cwd: string): EmailTemplates {
  // HTML output is escaped unless a template asks for | raw; text output is never escaped.
  const htmlEngine = liquid(config, true);
  const textEngine = liquid(config, false);
  // A writer's own email.html without an email.txt gets a text part made from their HTML.
  const useText = hasOwnTemplate(config, 'email.txt') || !hasOwnTemplate(config, 'email.html');
  return {
    html: parseTemplate(htmlEngine, templatePath(config, 'email.html'), cwd),
    text: useText ? parseTemplate(textEngine, templatePath(config, 'email.txt'), cwd) : undefined,
    htmlEngine,
    textEngine,
  };
}
