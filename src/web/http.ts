// What every response of herald's web side shares, whichever module answers it.
import { createHash } from 'node:crypto';
import { stylesheetPath } from '../layout.js';

/**
 * The headers on every answer. Forms may post to this server and to site.url's and web.url's
 * origins: the archive's subscribe form posts to web.url (site.url unless set), a different origin
 * when the site is opened by another name (127.0.0.1 for localhost) or served from a static host.
 */
export function securityHeaders(siteUrl: string, webUrl: string): Record<string, string> {
  const origins = [...new Set([new URL(siteUrl).origin, new URL(webUrl).origin])].join(' ');
  return {
    'Content-Security-Policy': `default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; form-action 'self' ${origins}; base-uri 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

/**
 * securityHeaders for RSS and Atom answers, which a browser shows as a page through the feed
 * stylesheet (SITE_FILES.stylesheet). Chromium loads an XSLT stylesheet as a script
 * (script-src-elem), which default-src 'none' refuses. What it is allowed is the least that works:
 * a second policy, enforced together with the first, narrows the first's 'self' to the
 * stylesheet's path, so nothing else in the site can load as a script. (Browsers refuse a
 * stylesheet from another origin anyway.)
 */
export function feedSecurityHeaders(siteUrl: string, webUrl: string): Record<string, string> {
  const headers = securityHeaders(siteUrl, webUrl);
  // `;` and `,` end a directive and a policy: a path holding them is given percent-encoded.
  const stylesheet = stylesheetPath(siteUrl).replace(/[;,]/g, encodeURIComponent);
  return {
    ...headers,
    'Content-Security-Policy': `${headers['Content-Security-Policy']}; script-src-elem 'self'; script-src-attr 'unsafe-hashes' '${XSLT_BANNER_CLOSE}', script-src-elem *:*${stylesheet}`,
  };
}

// Chromium, which is removing XSLT, puts a banner saying so over every page a stylesheet makes;
// its close button runs `this.getRootNode().host.remove();`. This hash lets that handler, and only
// that exact text, run, so a reader can close the banner that covers the feed's title.
const XSLT_BANNER_CLOSE = `sha256-${createHash('sha256').update('this.getRootNode().host.remove();').digest('base64')}`;

/** A request answered with a 4xx status and a message for the reader; the server renders the page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Headers the answer carries besides the usual ones (a 405's Allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 405 with the methods the address takes, which RFC 9110 15.5.6 requires in Allow. */
export function methodNotAllowed(allowed: readonly string[]): HttpError {
  return new HttpError(405, `This address only answers ${allowed.join(', ').replace(/, ([^,]+)$/, ' and $1')}.`, { Allow: allowed.join(', ') });
}
