import { createRequire } from 'node:module';

// Some dependencies are large and only some commands or sites need them: html-to-text (300 KB
// with its HTML parser) reads HTML as text, liquidjs renders templates and Jekyll's Liquid,
// picomatch matches posts.exclude. Each is loaded the first time it is used, so a feeds-only
// build of markdown posts does not pay to load them. A require, as the callers are synchronous;
// Node's require cache makes it one copy whoever asks.
const load = createRequire(import.meta.url);

// htmlparser2's tokenizer alone: what raw HTML in a post is scanned with for relative URLs.
export const loadHtmlparser2 = (): typeof import('htmlparser2') => load('htmlparser2');
export const loadHtmlToText = (): typeof import('html-to-text') => load('html-to-text');
export const loadLiquidjs = (): typeof import('liquidjs') => load('liquidjs');
export const loadPicomatch = (): typeof import('picomatch') => load('picomatch');
