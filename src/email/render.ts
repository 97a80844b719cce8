import { convert } from 'html-to-text';
import juice from 'juice';
import type { Config } from '../config.js';
import { escapeHtml } from '../text.js';
import { templateDates } from '../templates.js';
import type { EmailTemplates } from './templates.js';

/** A post as an email shows it: rendered once, shared by every recipient. */
export interface EmailPost {
  title: string;
  url: string;
  html: string;
  summary: string;
  date: Date;
  topics: string[];
}

export interface Recipient {
  name: string;
  email: string;
  unsubscribeUrl: string;
}

/** A rendered email with a placeholder for each recipient field: personalise() fills them in. */
export interface EmailDraft {
  subject: string;
  html: string;
  text: string;
  warnings: string[];
}

// Recipient fields are rendered as these markers, which no escaping, inlining or text conversion
// alters, and are swapped for each recipient's values: the post is rendered once, not per reader.
const FIELD = (name: string) => `\uE000${name}\uE001`;
const FIELDS = { name: FIELD('name'), email: FIELD('email'), unsubscribeUrl: FIELD('unsubscribe') };

// Gmail clips messages larger than about 102 KB.
export const CLIP_BYTES = 100 * 1024;

const TEXT_OPTIONS = {
  wordwrap: 78,
  selectors: [
    { selector: '.preheader', format: 'skip' },
    // Tables in a post stay tables; layout tables (role="presentation", as email templates mark
    // them) read as plain blocks instead of a grid of noise.
    { selector: 'table', format: 'dataTable' },
    { selector: 'table[role=presentation]', format: 'block' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
  ],
};

export function htmlToText(html: string): string {
  return convert(html, TEXT_OPTIONS);
}

/** One email for one post, or for several (digest mode). Pure: templates in, strings out. */
export async function renderEmail(posts: EmailPost[], templates: EmailTemplates, config: Config): Promise<EmailDraft> {
  const [first] = posts;
  if (!first) throw new Error('renderEmail needs at least one post');
  const forTemplate = (post: EmailPost) => ({ ...post, ...templateDates(post.date.getTime(), config), text: htmlToText(post.html) });
  const context = {
    site: config.site,
    post: forTemplate(first),
    posts: posts.map(forTemplate),
    subscriber: { name: FIELDS.name, email: FIELDS.email },
    unsubscribe_url: FIELDS.unsubscribeUrl,
  };
  const rendered = await templates.htmlEngine.render(templates.html, context);
  const html = juice(rendered, { removeStyleTags: true, preserveMediaQueries: true, applyWidthAttributes: true });
  const text = templates.text ? await templates.textEngine.render(templates.text, context) : htmlToText(html);
  const subject = posts.length === 1 ? first.title : `${config.site.title}: ${first.title} and ${posts.length - 1} more`;
  const warnings: string[] = [];
  const bytes = Buffer.byteLength(html) + Buffer.byteLength(text);
  if (bytes > CLIP_BYTES) warnings.push(`the email is ${Math.round(bytes / 1024)} KB: Gmail clips messages over about 102 KB (shorten the post or move images out)`);
  return { subject, html, text: `${text.replace(/\n{3,}/g, '\n\n').trim()}\n`, warnings };
}

/** The draft with one recipient's values in place of the markers. */
export function personalise(draft: EmailDraft, recipient: Recipient): { subject: string; html: string; text: string } {
  const fill = (text: string, escape: (value: string) => string) =>
    text
      .replaceAll(FIELDS.name, escape(recipient.name))
      .replaceAll(FIELDS.email, escape(recipient.email))
      .replaceAll(FIELDS.unsubscribeUrl, escape(recipient.unsubscribeUrl));
  return { subject: draft.subject, html: fill(draft.html, escapeHtml), text: fill(draft.text, (value) => value) };
}
