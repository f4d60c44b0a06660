/** Where a JSON value sits in its source text: `text.slice(start, end)` is the value's lexeme. */
export type JsonSpan =
  | { kind: 'object'; start: number; end: number; entries: JsonEntrySpan[] }
  | { kind: 'array'; start: number; end: number; items: JsonSpan[] }
  | { kind: 'string' | 'number' | 'literal'; start: number; end: number };

/** One `"key": value` of an object; `key` is decoded. */
export interface JsonEntrySpan {
  key: string;
  value: JsonSpan;
}

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Python's json.dumps writes these for non-finite floats; they are kept as lexemes.
const LITERAL = /true|false|null|NaN|-?Infinity/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const SPACE = /[ \t\n\r]*/y;

/**
 * Parses JSON text into the positions of its values without converting any of them, so a caller
 * can splice new text in and leave every original lexeme (`1.0`, `1e400`, `\u00fc`, integers
 * beyond 2^53) exactly as written. I/O-free.
 * @throws {SyntaxError} naming the offset of the first error.
 */
export function parseJsonSpans(text: string): JsonSpan {
  let pos = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`Invalid JSON at offset ${pos}: ${what}`);
  };
  const skipSpace = () => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
  };
  const match = (pattern: RegExp): number | undefined => {
    pattern.lastIndex = pos;
    return pattern.exec(text) === null ? undefined : pattern.lastIndex;
  };
  // The end of the string literal at `pos`, or undefined when there is none.
  const stringEnd = (): number | undefined => {
    if (text[pos] !== '"') return undefined;
    let at = pos + 1;
    while (at < text.length) {
      const code = text.charCodeAt(at);
      if (code === 0x22) return at + 1;
      if (code < 0x20) return undefined;
      if (code === 0x5c) {
        ESCAPE.lastIndex = at;
        if (ESCAPE.exec(text) === null) return undefined;
        at = ESCAPE.lastIndex;
      } else at += 1;
    }
    return undefined;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected ${JSON.stringify(char)}`);
    pos += 1;
  };

  const value = (depth: number): JsonSpan => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skipSpace();
    const start = pos;
    const char = text[pos];
    if (char === '{') {
      pos += 1;
      const entries: JsonEntrySpan[] = [];
      skipSpace();
      if (text[pos] === '}') pos += 1;
      else {
        for (;;) {
          skipSpace();
          const keyStart = pos;
          const keyEnd = stringEnd() ?? fail('expected a string key');
          pos = keyEnd;
          const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
          expect(':');
          entries.push({ key, value: value(depth + 1) });
          skipSpace();
          if (text[pos] === ',') pos += 1;
          else if (text[pos] === '}') {
            pos += 1;
            break;
          } else fail('expected "," or "}"');
        }
      }
      return { kind: 'object', start, end: pos, entries };
    }
    if (char === '[') {
      pos += 1;
      const items: JsonSpan[] = [];
      skipSpace();
      if (text[pos] === ']') pos += 1;
      else {
        for (;;) {
          items.push(value(depth + 1));
          skipSpace();
          if (text[pos] === ',') pos += 1;
          else if (text[pos] === ']') {
            pos += 1;
            break;
          } else fail('expected "," or "]"');
        }
      }
      return { kind: 'array', start, end: pos, items };
    }
    if (char === '"') {
      pos = stringEnd() ?? fail('unterminated or invalid string');
      return { kind: 'string', start, end: pos };
    }
    const literalEnd = match(LITERAL);
    if (literalEnd !== undefined) {
      pos = literalEnd;
      return { kind: 'literal', start, end: pos };
    }
    pos = match(NUMBER) ?? fail('expected a value');
    return { kind: 'number', start, end: pos };
  };

  const root = value(0);
  skipSpace();
  if (pos !== text.length) fail('unexpected text after the value');
  return root;
}

/** The value of `key` in an object span; the last one wins for duplicate keys, as in `JSON.parse`. */
export function entryOf(span: JsonSpan, key: string): JsonSpan | undefined {
  if (span.kind !== 'object') return undefined;
  return span.entries.findLast((entry) => entry.key === key)?.value;
}
