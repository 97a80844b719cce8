import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { HtmlToTextOptions } from 'html-to-text';
import { Parser } from 'htmlparser2';
import juice from 'juice';
import type { Config } from '../../config.js';
import { absoluteHtmlUrls } from '../../posts/markdown.js';
import { templateDates, templateSite } from '../../templates.js';
import { htmlAsText } from '../../html-text.js';
import { escapeHtml, listed } from '../../text.js';
import type { MailTemplates } from './templates.js';

/** A post as an email shows it: rendered once, shared by every recipient. */
export interface EmailPost {
  title: string;
  url: string;
  html: string;
  summary: string;
  date: Date;
  topics: string[];
  authors: readonly { name: string; email?: string; url?: string }[];
  image?: string;
  /** The width the cover image is shown at: the column's, or the image's own if smaller. */
  image_width?: number;
}

/** What differs from one recipient to the next: the link is the unsubscribe or the confirmation link. */
export interface Recipient {
  name: string;
  email: string;
  unsubscribeUrl?: string;
  confirmUrl?: string;
}

/** A rendered email with a placeholder for each recipient field: personalise() fills them in. */
export interface EmailDraft {
  subject: string;
  html: string;
  text: string;
  warnings: string[];
  /**
   * Set when the templates do more with a reader's values than show them (a filter, a condition,
   * a link built around one), which a placeholder cannot stand for: the email is then rendered
   * again for each reader (readerDraft).
   */
  perReader?: (recipient: Recipient) => Promise<EmailDraft>;
}

// Recipient fields are rendered as these markers, which no escaping, inlining or text conversion
// alters, and are swapped for each recipient's values: the post is rendered once, not per reader.
const FIELD = (name: string) => `\uE000${name}\uE001`;
const FIELDS = { name: FIELD('name'), email: FIELD('email'), unsubscribeUrl: FIELD('unsubscribeUrl'), confirmUrl: FIELD('confirmUrl') };
export type Field = keyof typeof FIELDS;
const MARKER = /\uE000(name|email|unsubscribeUrl|confirmUrl)\uE001/;
const MARKERS = new RegExp(MARKER.source, 'g');

/** A draft's text cut at its fields: the stretches in between, and where each reader's value goes. */
export function draftSegments(text: string): (string | { field: Field })[] {
  // split with a capturing group alternates text, field name, text, ...
  return text
    .split(MARKER)
    .map((part, index) => (index % 2 ? { field: part as Field } : part))
    .filter((part) => part !== '');
}

/** One reader's value of a field. */
export function fieldValue(recipient: Recipient, field: Field): string {
  return recipient[field] ?? '';
}

// Gmail clips a message whose HTML is larger than 102 KB (the text part does not count).
const CLIP_BYTES = 102 * 1024;

const TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: 78,
  // An image is its alt text in brackets, so the reader knows a picture was there and what it
  // showed; inside a link, the link follows it as it follows any linked text.
  formatters: {
    altText: (elem, _walk, builder) => {
      const alt = String(elem.attribs?.alt ?? '').trim();
      if (alt) builder.addInline(`[${alt}]`);
    },
  },
  selectors: [
    { selector: '.preheader', format: 'skip' },
    // Tables in a post stay tables; layout tables (role="presentation", as email templates mark
    // them) read as plain blocks instead of a grid of noise.
    { selector: 'table', format: 'dataTable' },
    { selector: 'table[role=presentation]', format: 'block' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'altText' },
  ],
};

export function htmlToText(html: string): string {
  return htmlAsText(html, TEXT_OPTIONS);
}

/**
 * Renders a pair of mail templates: CSS inlined (mail clients drop <style>), root-relative links
 * such as href="/" made absolute against site.url (an email is read far from the site; post
 * bodies are absolute already, and their code samples must not be touched), and a text part from
 * email.txt or, when the writer has only an HTML template, from the HTML.
 */
async function renderTemplates(templates: MailTemplates, context: object, config: Config): Promise<{ html: string; text: string }> {
  const rendered = await templates.htmlEngine.render(templates.html, context);
  // Heights are never made attributes: CSS's height: auto would become height="auto", which is
  // not valid HTML and which Outlook renders as a squashed image.
  const inlined = juice(rendered, { removeStyleTags: true, preserveMediaQueries: true, applyWidthAttributes: true, applyHeightAttributes: false });
  const html = absoluteHtmlUrls(inlined, config.site.url, (url) => !url.startsWith('/') || url.startsWith('//'));
  const text = templates.text ? await templates.textEngine.render(templates.text, context) : htmlToText(html);
  return { html, text: `${text.replace(/\n{3,}/g, '\n\n').trim()}\n` };
}

/** One email for one post, or for several (digest mode). Pure: templates in, strings out. */
export async function renderEmail(posts: EmailPost[], templates: MailTemplates, config: Config): Promise<EmailDraft> {
  const [first] = posts;
  if (!first) throw new Error('renderEmail needs at least one post');
  // Each post once: its text is html-to-text's, the slowest step of a send's set-up.
  const shown = posts.map((post) => ({ ...post, ...templateDates(post.date.getTime(), config), text: htmlToText(post.html) }));
  const subject = posts.length === 1 ? first.title : `${config.site.title}: ${first.title} and ${posts.length - 1} more`;
  const draft = await renderDraft(templates, config, subject, (reader) => ({
    site: templateSite(config),
    post: shown[0],
    posts: shown,
    subscriber: { name: reader.name, email: reader.email },
    unsubscribe_url: reader.unsubscribeUrl,
  }));
  const bytes = Buffer.byteLength(draft.html);
  if (bytes > CLIP_BYTES) draft.warnings.push(`the email's HTML is ${Math.round(bytes / 1024)} KB: Gmail clips it after 102 KB, hiding the rest and the unsubscribe link (shorten the post, or send its summary and link to the rest)`);
  draft.warnings.push(...lintEmailHtml(draft.html));
  // A template that renders per reader shows the link only in a reader's own rendering: one for a made-up reader tells.
  const probe = { name: 'Reader', email: 'reader@example.com', unsubscribeUrl: 'https://example.com/unsubscribe?token=probe' };
  const showsLink = draft.perReader ? (await draft.perReader(probe)).html.includes(probe.unsubscribeUrl) : draft.html.includes(FIELDS.unsubscribeUrl);
  if (!showsLink) draft.warnings.push('the email template shows no unsubscribe link: add <a href="{{ unsubscribe_url }}">Unsubscribe</a> (the law and every mail provider ask for one in the message itself)');
  return draft;
}

/** The email as one reader gets it: the draft, or the draft rendered again for them (EmailDraft.perReader). */
export async function readerDraft(draft: EmailDraft, recipient: Recipient): Promise<EmailDraft> {
  return draft.perReader ? draft.perReader(recipient) : draft;
}

/**
 * Renders the templates once with a placeholder for each reader's value, or, when the templates
 * do more with those values than show them, sets perReader to render them for each reader.
 */
async function renderDraft(templates: MailTemplates, config: Config, subject: string, context: (reader: Recipient) => object): Promise<EmailDraft> {
  const { html, text } = await renderTemplates(templates, context(FIELDS), config);
  const reason = readerBound(templates, config) ?? mangledField(html, text);
  if (!reason) return { subject, html, text, warnings: [] };
  const perReader = async (reader: Recipient): Promise<EmailDraft> => ({ subject, ...(await renderTemplates(templates, context(reader), config)), warnings: [] });
  // The draft shows what the placeholders gave; every message is made by perReader.
  return { subject, html, text, warnings: [`${reason}: herald renders this email again for each reader, which makes a send to a large list slower (show {{ subscriber.name }}, {{ subscriber.email }} and the links as they are to render it once)`], perReader };
}

// What the templates may do with a reader's value and still be rendered once: show it as it is.
const READER_VALUES = ['subscriber', 'unsubscribe_url', 'confirm_url'];
const SHOWN_AS_IT_IS = /^(subscriber\.(name|email)|unsubscribe_url|confirm_url)\s*-?\}\}/;
const boundTemplates = new WeakMap<MailTemplates, string | undefined>();

/**
 * Where the templates (and the partials they include) use a reader's value other than by showing
 * it as it is: in a filter (`| upcase`, `| default`), a tag (`if`, `assign`). Two things the
 * analysis cannot follow count too: a `capture` in any of the files while a reader's value is
 * shown anywhere (the captured text, tested or filtered later, would be the placeholder), and an
 * include or render whose name is a variable (its partial is not analysed).
 */
function readerBound(templates: MailTemplates, config: Config): string | undefined {
  if (boundTemplates.has(templates)) return boundTemplates.get(templates);
  const sources = new Map<string, string[]>();
  const linesOf = (file: string) => {
    let lines = sources.get(file);
    if (!lines) sources.set(file, (lines = readFileSync(file, 'utf8').split('\n')));
    return lines;
  };
  const shown = (file: string, row: number) => `${relative(dirname(config.paths.templates), file)} line ${row}`;
  let reason: string | undefined;
  let used: string | undefined;
  const pairs = [[templates.htmlEngine, templates.html], ...(templates.text ? [[templates.textEngine, templates.text] as const] : [])] as const;
  for (const [engine, template] of pairs) {
    const { variables } = engine.analyzeSync(template, { partials: true });
    // Every file the analysis went through, by the variables found in it.
    for (const found of Object.values(variables)) for (const { location } of found) if (location.file) linesOf(location.file);
    for (const name of READER_VALUES) {
      for (const { location } of variables[name] ?? []) {
        const lines = location.file ? linesOf(location.file) : undefined;
        const line = lines?.[location.row - 1] ?? '';
        const where = location.file ? shown(location.file, location.row) : `line ${location.row}`;
        used ??= where;
        const bare = lines !== undefined && /\{\{-?\s*$/.test(line.slice(0, location.col - 1)) && SHOWN_AS_IT_IS.test(line.slice(location.col - 1));
        if (!bare) reason ??= `${where} uses ${name} in a filter or a tag`;
      }
    }
  }
  for (const [file, lines] of sources) {
    const row = lines.findIndex((line) => /\{%-?\s*(include|render)\s+[^'"\s]/.test(line));
    if (row >= 0) reason ??= `${shown(file, row + 1)} includes a partial named by a variable, which herald cannot look into`;
    const capture = lines.findIndex((line) => /\{%-?\s*capture\b/.test(line));
    if (capture >= 0 && used) reason ??= `${shown(file, capture + 1)} captures text while ${used} shows a reader's value`;
  }
  boundTemplates.set(templates, reason);
  return reason;
}

// A placeholder that came out of rendering changed (a filter the analysis cannot see through, a
// root-relative link made absolute around it, which percent-encodes it) stands for no reader's value.
function mangledField(html: string, text: string): string | undefined {
  const left = (rendered: string) => rendered.replace(MARKERS, '');
  return /[\uE000\uE001]|%EE%80%8[01]/i.test(left(html) + left(text)) ? "the templates change a reader's value (a filter, or a link made around it)" : undefined;
}

/**
 * What readers of the email would miss: an image without alt text (blocked images, screen
 * readers and the text part show nothing for it), an image written into the HTML as a data: URL
 * (which Gmail and Outlook do not show), and a link or image left relative, which leads nowhere
 * from an inbox. Decorative images say so with role="presentation".
 */
export function lintEmailHtml(html: string): string[] {
  const noAlt: string[] = [];
  const relative = new Set<string>();
  let inline = 0;
  const parser = new Parser({
    onopentag(name, attributes) {
      if (name === 'img' && !attributes.alt?.trim() && attributes.role !== 'presentation') noAlt.push(attributes.src ?? '(no src)');
      if (name === 'img' && /^\s*data:/i.test(attributes.src ?? '')) inline++;
      for (const key of ['href', 'src'] as const) {
        const url = attributes[key]?.trim();
        if (url && !/^([a-z][a-z0-9+.-]*:|#|\uE000)/i.test(url)) relative.add(url);
      }
    },
  });
  parser.end(html);
  const found: string[] = [];
  if (noAlt.length) found.push(`${noAlt.length === 1 ? 'an image has' : `${noAlt.length} images have`} no alt text (${listed(noAlt)}): readers who do not load images see nothing there (write ![what it shows](image.png))`);
  if (inline) found.push(`${inline === 1 ? 'an image is' : `${inline} images are`} written into the HTML (a data: URL): Gmail and Outlook do not show them (publish the image, in a static folder or beside the post, and link it)`);
  if (relative.size) found.push(`relative links that lead nowhere from an inbox: ${listed([...relative])} (write them from the site's root or in full)`);
  return found;
}

/** The built-in template's text column: 600 px less the card's padding. */
export const CONTENT_WIDTH = 552;

/**
 * Every image in a post's HTML gets a width attribute, the column's or the image's own, whichever
 * is smaller (`widthOf` knows the images herald publishes itself; others keep what they have):
 * Outlook for Windows ignores CSS max-width, so without the attribute a 4,000 px picture is shown
 * 4,000 px wide. A height attribute goes, so the picture keeps its proportions.
 */
export function sizeImages(html: string, widthOf: (src: string) => number | undefined, column = CONTENT_WIDTH): string {
  return html.replace(/<img\b[^>]*>/gi, (tag) => {
    const src = /\ssrc="([^"]*)"/i.exec(tag)?.[1] ?? '';
    const given = Number(/\swidth="(\d+)"/i.exec(tag)?.[1]);
    const own = given || widthOf(src.replace(/&amp;/g, '&'));
    if (!own) return tag;
    const width = Math.min(own, column);
    const bare = tag.replace(/\s(width|height)="[^"]*"/gi, '');
    return bare.replace(/^<img\b/i, `<img width="${width}"`);
  });
}

/** The draft with one recipient's values in place of the markers. */
export function personalise(draft: EmailDraft, recipient: Recipient): { subject: string; html: string; text: string } {
  // Joined from the segments, not replaced: an address or a name may hold "$&", which a
  // replacement string would expand.
  const fill = (text: string, escape: (value: string) => string) =>
    draftSegments(text)
      .map((part) => (typeof part === 'string' ? part : escape(fieldValue(recipient, part.field))))
      .join('');
  return { subject: draft.subject, html: fill(draft.html, escapeHtml), text: fill(draft.text, (value) => value) };
}

/**
 * The email that asks someone to confirm a subscription (templates/confirm.html and confirm.txt),
 * rendered once with markers for the address and the link, like a post's.
 */
export async function renderConfirmation(templates: MailTemplates, config: Config, days: number): Promise<EmailDraft> {
  return renderDraft(templates, config, `Confirm your subscription to ${config.site.title}`, (reader) => ({ site: templateSite(config), subscriber: { email: reader.email }, confirm_url: reader.confirmUrl, confirm_days: days }));
}
