// Characters that XML 1.0 forbids: C0 controls other than tab, LF and CR, lone surrogates,
// and U+FFFE/U+FFFF. Dropped from every input so nothing herald writes can carry them.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const HAS_XML_FORBIDDEN = new RegExp(XML_FORBIDDEN.source);

export function dropXmlForbidden(text: string): string {
  return HAS_XML_FORBIDDEN.test(text) ? text.replace(XML_FORBIDDEN, '') : text;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** "1 post", "2 posts". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Up to `shown` names, then how many more. */
export function listed(names: readonly string[], shown = 3): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} and ${names.length - shown} more` : head;
}
