// What every response of herald's web side shares, whichever module answers it.

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

/** A request answered with a 4xx status and a message for the reader; the server renders the page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
