import yaml from 'js-yaml';

// The front matter most posts carry is a few `key: value` lines: a title, a date, a list of
// topics. Reading those here costs a tenth of what gray-matter and js-yaml cost together, which
// at 10,000 posts is a tenth of a whole feeds build. Anything this reader is not sure of (nested
// fields, block lists, anchors, escapes, multi-line values, a key given twice) goes to js-yaml as
// before: what it returns is exactly what js-yaml returns for the same block, or nothing.

// js-yaml's core schema resolves a plain scalar with these, in this order (schema/json.js); using
// its own functions gives its answers, quirks and all (0755 is 755, 1_000 and yes are text).
const { null: nullType, bool, int, float } = (yaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', yaml.Type> }).types;
const IMPLICIT = [nullType, bool, int, float];

// Characters js-yaml refuses or treats specially (tabs, controls, lone surrogates, the Unicode
// line breaks), and CR (parse.ts gives LF only): a block with any of them goes to js-yaml.
const UNSURE = /[\x00-\x09\x0B-\x1F\x7F-\x9F\u2028\u2029\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// A top-level key, unquoted, then ": " or ":" at the end of the line.
const KEY = /^([A-Za-z0-9_][\w.-]*):(?: |$)/;
// What a plain scalar may not start with (js-yaml's readPlainScalar), or starts something else.
const NOT_PLAIN_START = /^(?:[\][{},#&*!|>'"%@`:]|[-?](?: |$))/;
// Inside a flow list, flow indicators end a plain scalar, and "a: b" would be a pair.
const NOT_FLOW_ITEM = /[\][{},#:]/;
const SPACES_OR_COMMENT = /^(?:| +| +#.*)$/;

/**
 * The fields of a YAML front matter block (with its --- lines, as parse.ts splits it off), or
 * undefined when the block needs js-yaml.
 */
export function readPlainYaml(front: string): Record<string, unknown> | undefined {
  if (UNSURE.test(front)) return undefined;
  // gray-matter gives js-yaml what follows the opening --- up to the closing line.
  const lines = front.slice(3, front.lastIndexOf('\n---')).split('\n');
  if (!/^ *$/.test(lines[0]!)) return undefined;
  const data: Record<string, unknown> = {};
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === '' || line.charCodeAt(0) === 0x23 /* # */ || /^ +$/.test(line)) continue;
    const key = KEY.exec(line);
    if (!key) return undefined;
    const name = String(plainScalar(key[1]!));
    if (name === '__proto__' || Object.hasOwn(data, name)) return undefined;
    const value = readValue(line.slice(key[0].length));
    if (value === UNSURE_VALUE) return undefined;
    data[name] = value;
  }
  return data;
}

const UNSURE_VALUE = Symbol('unsure');

/** What follows "key: " on its line. */
function readValue(text: string): unknown {
  const start = text.search(/[^ ]|$/);
  const rest = text.slice(start);
  if (rest === '' || rest.charCodeAt(0) === 0x23 /* # */) return null;
  const first = rest[0];
  if (first === '"' || first === "'") {
    const quoted = readQuoted(rest, 0);
    return quoted && SPACES_OR_COMMENT.test(rest.slice(quoted.end)) ? quoted.value : UNSURE_VALUE;
  }
  if (first === '[') return readFlowList(rest);
  if (NOT_PLAIN_START.test(rest)) return UNSURE_VALUE;
  // A comment starts at a # after a space; the value ends before the spaces in front of it.
  const comment = rest.indexOf(' #');
  const scalar = (comment === -1 ? rest : rest.slice(0, comment)).replace(/ +$/, '');
  // "a: b" on one line is a nested mapping, or an error.
  if (scalar.includes(': ') || scalar.endsWith(':')) return UNSURE_VALUE;
  return plainScalar(scalar);
}

/** A one-line quoted scalar starting at `at`: double quotes without escapes, or single quotes. */
function readQuoted(text: string, at: number): { value: string; end: number } | undefined {
  const quote = text[at];
  if (quote === '"') {
    const close = text.indexOf('"', at + 1);
    if (close === -1) return undefined;
    const value = text.slice(at + 1, close);
    return value.includes('\\') ? undefined : { value, end: close + 1 };
  }
  let value = '';
  let from = at + 1;
  for (;;) {
    const close = text.indexOf("'", from);
    if (close === -1) return undefined;
    value += text.slice(from, close);
    // '' inside single quotes is one '.
    if (text[close + 1] !== "'") return { value, end: close + 1 };
    value += "'";
    from = close + 2;
  }
}

/** `[a, "b", 'c', 1]` on one line; nothing nested. */
function readFlowList(text: string): unknown {
  const items: unknown[] = [];
  let at = skipSpaces(text, 1);
  if (text[at] === ']') return SPACES_OR_COMMENT.test(text.slice(at + 1)) ? items : UNSURE_VALUE;
  for (;;) {
    const first = text[at];
    if (first === '"' || first === "'") {
      const quoted = readQuoted(text, at);
      if (!quoted) return UNSURE_VALUE;
      items.push(quoted.value);
      at = quoted.end;
    } else {
      let end = at;
      while (end < text.length && text[end] !== ',' && text[end] !== ']') end++;
      const scalar = text.slice(at, end).replace(/ +$/, '');
      if (!scalar || NOT_PLAIN_START.test(scalar) || NOT_FLOW_ITEM.test(scalar)) return UNSURE_VALUE;
      items.push(plainScalar(scalar));
      at = end;
    }
    at = skipSpaces(text, at);
    if (text[at] === ']') return SPACES_OR_COMMENT.test(text.slice(at + 1)) ? items : UNSURE_VALUE;
    if (text[at] !== ',') return UNSURE_VALUE;
    at = skipSpaces(text, at + 1);
    // An empty item, or a comma before the ], is left to js-yaml.
    if (text[at] === ',' || text[at] === ']' || at >= text.length) return UNSURE_VALUE;
  }
}

function skipSpaces(text: string, at: number): number {
  while (text.charCodeAt(at) === 0x20) at++;
  return at;
}

/** A plain scalar as js-yaml's core schema reads it: null, a boolean, a number, else the text. */
function plainScalar(text: string): unknown {
  for (const type of IMPLICIT) if (type.resolve(text)) return type.construct(text);
  return text;
}
