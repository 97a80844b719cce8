import type { Liquid, Template } from 'liquidjs';
import type { Config } from '../../config.js';
import { hasOwnTemplate, liquid, parseTemplate, templatePath } from '../../templates.js';

export interface MailTemplates {
  html: Template[];
  /** Absent: the text part is made from the HTML. */
  text?: Template[];
  htmlEngine: Liquid;
  textEngine: Liquid;
}

/** The two kinds of mail herald sends: posts (email.*) and subscription confirmations (confirm.*). */
export type MailKind = 'email' | 'confirm';

/** Parses templates/<kind>.html and <kind>.txt; a syntax error names the file and line. */
export function loadMailTemplates(config: Config, cwd: string, kind: MailKind = 'email'): MailTemplates {
  // HTML output is escaped unless a template asks for | raw; text output is never escaped.
  const htmlEngine = liquid(config, true);
  const textEngine = liquid(config, false);
  // A writer's own HTML template without a text one gets a text part made from their HTML.
  const useText = hasOwnTemplate(config, `${kind}.txt`) || !hasOwnTemplate(config, `${kind}.html`);
  return {
    html: parseTemplate(htmlEngine, templatePath(config, `${kind}.html`), cwd),
    text: useText ? parseTemplate(textEngine, templatePath(config, `${kind}.txt`), cwd) : undefined,
    htmlEngine,
    textEngine,
  };
}
