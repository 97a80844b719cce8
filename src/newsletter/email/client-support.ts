// What the major mail clients drop from a mail template, from the caniemail database (through
// @jsx-email/doiuse-email). Only the writer's own templates are linted: herald's built-in ones are
// made to degrade well where a client drops a feature (rounded corners become square in Outlook
// for Windows), and saying so on every check would drown what matters.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Config } from '../../config.js';
import { writersTemplate } from '../../templates.js';

// The clients most readers use; Gmail's rarely used mobile-webmail view is left out.
const CLIENTS = ['gmail.desktop-webmail', 'gmail.ios', 'gmail.android', 'apple-mail.*', 'outlook.*', 'yahoo.*'];
const FAMILY: Record<string, string> = { gmail: 'Gmail', 'apple-mail': 'Apple Mail', outlook: 'Outlook', yahoo: 'Yahoo' };
const PLATFORM: Record<string, string> = { 'desktop-webmail': 'web', ios: 'iOS', android: 'Android', macos: 'macOS', windows: 'Windows', 'windows-mail': 'Windows Mail', 'outlook-com': 'Outlook.com' };

/** One line per feature of `source` that a major client drops, with the clients, e.g. "border-radius: Outlook (Windows, Windows Mail)". */
export async function unsupportedFeatures(source: string): Promise<{ feature: string; clients: string }[]> {
  const { doIUseEmail } = await import('@jsx-email/doiuse-email');
  const byFeature = new Map<string, Map<string, string[]>>();
  const result = doIUseEmail(source, { emailClients: CLIENTS });
  for (const error of result.success ? [] : result.errors) {
    const match = /^`(.+?)` is not supported by `([\w-]+)\.([\w-]+)`/.exec(error);
    if (!match) continue;
    const [, feature, family, platform] = match as unknown as [string, string, string, string];
    const families = byFeature.get(feature) ?? new Map<string, string[]>();
    byFeature.set(feature, families);
    families.set(family, [...(families.get(family) ?? []), PLATFORM[platform] ?? platform]);
  }
  return [...byFeature].map(([feature, families]) => ({
    feature,
    clients: [...families].map(([family, platforms]) => `${FAMILY[family] ?? family} (${platforms.join(', ')})`).join(', '),
  }));
}

/** The line where a feature first shows in a template: a CSS property, an at-rule, an element or an attribute. */
function lineOf(source: string, feature: string): number {
  const element = /^<(\w+)> element$/.exec(feature)?.[1];
  const attribute = /^(\w+) attribute$/.exec(feature)?.[1];
  const needle = element ? new RegExp(`<${element}\\b`, 'i') : attribute ? new RegExp(`\\s${attribute}=`, 'i') : new RegExp(`(^|[\\s;{"'])${feature.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[:\\s(]`, 'i');
  const index = source.split('\n').findIndex((line) => needle.test(line));
  return index < 0 ? 1 : index + 1;
}

/** Warnings, `file:line: ...`, for each of the writer's own mail templates. */
export async function lintMailTemplates(config: Config, cwd: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const name of ['email.html', 'confirm.html']) {
    const file = writersTemplate(config, name);
    if (!file) continue;
    const source = readFileSync(file, 'utf8');
    for (const { feature, clients } of await unsupportedFeatures(source)) {
      warnings.push(`${relative(cwd, file) || file}:${lineOf(source, feature)}: ${feature} is dropped by ${clients}`);
    }
  }
  return warnings;
}
