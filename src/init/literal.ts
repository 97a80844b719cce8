// Eleventy keeps settings in JavaScript (_data/metadata.js, blog.11tydata.js, eleventy.config.js).
// herald init never runs a blog's code: it reads an object only when it is written as plain
// literals (strings, numbers, booleans, null, arrays and objects of those). Anything else (a
// variable, a call, a template with ${...}, a spread) makes the whole value unreadable, and the
// caller says so, rather than guessing.

type Token = { kind: 'punct'; value: string } | { kind: 'string'; value: string } | { kind: 'word'; value: string } | { kind: 'number'; value: number };

class Unreadable extends Error {}

/** The object literal that starts at `text[start]` (a `{`), and where it ends; undefined if it is not plain. */
export function readLiteral(text: string, start: number): { value: unknown; end: number } | undefined {
  const lexer = new Lexer(text, start);
  try {
    const value = parseValue(lexer);
    return { value, end: lexer.at };
  } catch (error) {
    if (error instanceof Unreadable) return undefined;
    throw error;
  }
}

/**
 * The object a data file exports: `module.exports = {...}` or `export default {...}`, with
 * nothing but comments and a semicolon after it. Undefined when the file computes its value.
 */
export function exportedObject(text: string): Record<string, unknown> | undefined {
  const head = /(?:module\.exports\s*=|export\s+default)\s*(?=\{)/.exec(text);
  if (!head) return undefined;
  const read = readLiteral(text, head.index + head[0].length);
  if (!read || !isRecord(read.value)) return undefined;
  const rest = text.slice(read.end).replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '');
  return /^[\s;]*$/.test(rest) ? read.value : undefined;
}

/** The text between the parenthesis at `open` and the one that closes it, skipping strings and comments. */
export function parenthesized(text: string, open: number): string | undefined {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"' || char === "'" || char === '`') {
      i = skipString(text, i);
      if (i < 0) return undefined;
    } else if (char === '/' && text[i + 1] === '/') i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (char === '/' && text[i + 1] === '*') i = text.indexOf('*/', i) === -1 ? text.length : text.indexOf('*/', i) + 1;
    else if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

function parseValue(lexer: Lexer): unknown {
  const token = lexer.next();
  if (token.kind === 'string' || token.kind === 'number') return token.value;
  if (token.kind === 'word') {
    if (token.value === 'true') return true;
    if (token.value === 'false') return false;
    if (token.value === 'null') return null;
    throw new Unreadable();
  }
  if (token.value === '-') {
    const number = lexer.next();
    if (number.kind !== 'number') throw new Unreadable();
    return -number.value;
  }
  if (token.value === '[') {
    const list: unknown[] = [];
    while (!lexer.skip(']')) {
      list.push(parseValue(lexer));
      if (!lexer.skip(',')) {
        lexer.expect(']');
        break;
      }
    }
    return list;
  }
  if (token.value === '{') {
    const object: Record<string, unknown> = {};
    while (!lexer.skip('}')) {
      const key = lexer.next();
      if (key.kind !== 'string' && key.kind !== 'word' && key.kind !== 'number') throw new Unreadable();
      lexer.expect(':');
      object[String(key.value)] = parseValue(lexer);
      if (!lexer.skip(',')) {
        lexer.expect('}');
        break;
      }
    }
    return object;
  }
  throw new Unreadable();
}

class Lexer {
  private peeked: Token | undefined;
  constructor(
    private readonly text: string,
    public at: number,
  ) {}

  skip(punct: string): boolean {
    const token = this.peek();
    if (token.kind === 'punct' && token.value === punct) {
      this.next();
      return true;
    }
    return false;
  }

  expect(punct: string): void {
    if (!this.skip(punct)) throw new Unreadable();
  }

  next(): Token {
    const token = this.peek();
    this.peeked = undefined;
    return token;
  }

  private peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  private read(): Token {
    const text = this.text;
    for (;;) {
      while (/\s/.test(text[this.at] ?? '')) this.at++;
      if (text.startsWith('//', this.at)) this.at = text.indexOf('\n', this.at) === -1 ? text.length : text.indexOf('\n', this.at);
      else if (text.startsWith('/*', this.at)) {
        const end = text.indexOf('*/', this.at);
        if (end === -1) throw new Unreadable();
        this.at = end + 2;
      } else break;
    }
    const char = text[this.at];
    if (char === undefined) throw new Unreadable();
    if ('{}[]:,-'.includes(char)) {
      this.at++;
      return { kind: 'punct', value: char };
    }
    if (char === '"' || char === "'" || char === '`') {
      const end = skipString(text, this.at);
      if (end < 0) throw new Unreadable();
      const raw = text.slice(this.at + 1, end);
      if (char === '`' && raw.includes('${')) throw new Unreadable();
      this.at = end + 1;
      return { kind: 'string', value: unescape(raw) };
    }
    const number = /^(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(this.at, this.at + 40));
    if (number) {
      this.at += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(this.at, this.at + 200));
    if (word) {
      this.at += word[0].length;
      return { kind: 'word', value: word[0] };
    }
    throw new Unreadable();
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0' };

function unescape(raw: string): string {
  return raw.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r?\n|.)/g, (_all, escape: string) => {
    if (escape.startsWith('u{')) return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
    if (/^[ux][0-9a-fA-F]/.test(escape)) return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (escape.startsWith('\n') || escape.startsWith('\r')) return '';
    return ESCAPES[escape] ?? escape;
  });
}
