/**
 * JSON.parse with positions: the line of every value, keyed by JSON path ("$.cases[2].size"),
 * so an input error can name the file, the line and the field.
 */
export class JsonInputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${field ? `${field}: ` : ''}${reason}`);
    this.name = 'JsonInputError';
  }
}

export interface Located {
  value: unknown;
  /** JSON path → 1-based line of the value. */
  lines: Map<string, number>;
}

export function parseJsonWithLines(text: string, file: string, lineBase = 1): Located {
  const lines = new Map<string, number>();
  let i = 0;
  let line = lineBase;
  const fail = (why: string): never => {
    throw new JsonInputError(file, line, '', `invalid JSON: ${why}`);
  };
  const ws = (): void => {
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '\n') line++;
      else if (ch !== ' ' && ch !== '\t' && ch !== '\r') break;
      i++;
    }
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      if (text[i] === '\n') fail('newline in a string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const val = (path: string): unknown => {
    ws();
    lines.set(path, line);
    const ch = text[i];
    if (ch === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a key at ${path}`);
        const k = str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after "${k}"`);
        i++;
        o[k] = val(`${path}.${k}`);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail(`expected ',' or '}' in ${path}`);
      }
    }
    if (ch === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(val(`${path}[${a.length}]`));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail(`expected ',' or ']' in ${path}`);
      }
    }
    if (ch === '"') return str();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) return fail(`unexpected ${ch === undefined ? 'end of input' : `'${ch}'`}`);
    i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const value = val('$');
  ws();
  if (i < text.length) fail('trailing characters after the value');
  return { value, lines };
}
