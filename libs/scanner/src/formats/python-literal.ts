/**
 * Python's `ast.literal_eval` for the literals a file header can hold (numpy's .npy header is one): strings and
 * bytes (every prefix, escape and implicit concatenation), ints, floats, complex numbers, True/False/None,
 * tuples, lists, sets, dicts (a repeated key: the last value wins, as in Python), unary signs, comments, line
 * continuations and newlines inside brackets. What literal_eval would refuse is an error here too; a construct
 * this port does not know is also an error, so a reader built on it fails closed rather than guessing.
 */

export type PyLiteral =
  | string
  | boolean
  | null
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'complex' }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'ellipsis' }
  | { t: 'tuple'; items: PyLiteral[] }
  | { t: 'list'; items: PyLiteral[] }
  | { t: 'set'; items: PyLiteral[] }
  | { t: 'dict'; entries: Array<[PyLiteral, PyLiteral]>; duplicates: Array<[PyLiteral, PyLiteral[]]> };

export class LiteralError extends Error {}

type Token =
  | { k: 'op'; v: string }
  | { k: 'name'; v: string }
  | { k: 'num'; v: PyLiteral; raw: string }
  | { k: 'str'; v: string | Uint8Array }
  | { k: 'nl' }
  | { k: 'end' };

const OPS = ['...', '(', ')', '[', ']', '{', '}', ',', ':', '+', '-'];

function isIdStart(c: string): boolean {
  return /[A-Za-z_\u0080-\uffff]/.test(c);
}

const NUMBER =
  /^(0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+|(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?[jJ]?)/;

/** `dropL`: numpy's _filter_header for Python 2 headers, which drops a name `L` right after a number */
function tokenize(src: string, dropL = false): Token[] {
  const out: Token[] = [];
  let i = 0;
  let depth = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n' && src[i] !== '\r') i++;
      continue;
    }
    if (c === '\\' && (src[i + 1] === '\n' || src[i + 1] === '\r')) {
      i += src[i + 1] === '\r' && src[i + 2] === '\n' ? 3 : 2;
      continue;
    }
    if (c === '\n' || c === '\r') {
      if (depth === 0) out.push({ k: 'nl' });
      i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    const str = /^([rRuUbB]|[bB][rR]|[rR][bB])?('''|"""|'|")/.exec(src.slice(i, i + 5));
    if (str) {
      const prefix = (str[1] ?? '').toLowerCase();
      const quote = str[2];
      i += str[0].length;
      let body = '';
      for (;;) {
        if (i >= n) throw new LiteralError('unterminated string literal');
        if (src.startsWith(quote, i)) break;
        const ch = src[i];
        if ((ch === '\n' || ch === '\r') && quote.length === 1) throw new LiteralError('unterminated string');
        if (ch === '\\' && i + 1 < n) {
          body += ch + src[i + 1];
          i += 2;
          continue;
        }
        body += ch;
        i++;
      }
      i += quote.length;
      const raw = prefix.includes('r');
      const bytes = prefix.includes('b');
      out.push({
        k: 'str',
        v: bytes ? bytesOf(raw ? body : unescape(body, true)) : raw ? body : unescape(body, false),
      });
      continue;
    }
    const num = NUMBER.exec(src.slice(i, i + 400));
    if (num) {
      const raw = num[0];
      i += raw.length;
      if (i < n && /[A-Za-z0-9_]/.test(src[i]) && !(dropL && src[i] === 'L'))
        throw new LiteralError(`invalid literal ${JSON.stringify(raw + src[i])}`);
      out.push({ k: 'num', v: numberOf(raw), raw });
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_\u0080-\uffff]/.test(src[j])) j++;
      const name = src.slice(i, j);
      const prev = out[out.length - 1];
      if (!(dropL && name === 'L' && prev?.k === 'num')) out.push({ k: 'name', v: name });
      i = j;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new LiteralError(`invalid character ${JSON.stringify(c)}`);
    if (op === '(' || op === '[' || op === '{') depth++;
    if (op === ')' || op === ']' || op === '}') depth = Math.max(0, depth - 1);
    out.push({ k: 'op', v: op });
    i += op.length;
  }
  out.push({ k: 'end' });
  return out;
}

function numberOf(raw: string): PyLiteral {
  const t = raw.replace(/_/g, '');
  if (/[jJ]$/.test(t)) return { t: 'complex' };
  if (/^0[xX]/.test(t)) return { t: 'int', v: BigInt(t) };
  if (/^0[oO]/.test(t)) return { t: 'int', v: BigInt(`0o${t.slice(2)}`) };
  if (/^0[bB]/.test(t)) return { t: 'int', v: BigInt(`0b${t.slice(2)}`) };
  if (/^\d+$/.test(t)) {
    if (/^0\d/.test(t) && !/^0+$/.test(t))
      throw new LiteralError('leading zeros in decimal integer literals');
    return { t: 'int', v: BigInt(t) };
  }
  return { t: 'float', v: Number(t) };
}

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new LiteralError('bytes can only contain ASCII literal characters');
    out[i] = c;
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** a (non-raw) string literal's escapes; for bytes, \u, \U and \N stay as written */
function unescape(body: string, bytes: boolean): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const e = body[++i];
    if (SIMPLE_ESCAPES[e] !== undefined) out += SIMPLE_ESCAPES[e];
    else if (e === '\n') continue;
    else if (e === '\r') {
      if (body[i + 1] === '\n') i++;
    } else if (/[0-7]/.test(e)) {
      let v = e;
      while (v.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) v += body[++i];
      const code = parseInt(v, 8);
      if (bytes && code > 0xff) throw new LiteralError('invalid octal escape in bytes');
      out += String.fromCharCode(code);
    } else if (e === 'x') {
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new LiteralError('truncated \\xXX escape');
      out += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else if (!bytes && (e === 'u' || e === 'U')) {
      const len = e === 'u' ? 4 : 8;
      const h = body.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) throw new LiteralError(`truncated \\${e} escape`);
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff) throw new LiteralError('illegal Unicode character');
      out += String.fromCodePoint(cp);
      i += len;
    } else if (!bytes && e === 'N') {
      throw new LiteralError('\\N{...} escapes are not supported');
    } else out += `\\${e}`;
  }
  return out;
}

class Parser {
  private p = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.p];
  }
  private next(): Token {
    return this.toks[this.p++];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new LiteralError(`expected "${v}"`);
    this.p++;
  }

  /** the whole input: one expression (a bare tuple allowed), then only newlines */
  top(): PyLiteral {
    while (this.peek().k === 'nl') this.p++;
    const v = this.exprList(true);
    while (this.peek().k === 'nl') this.p++;
    if (this.peek().k !== 'end') throw new LiteralError('unexpected text after the literal');
    return v;
  }

  /** expr (',' expr)* [','] — a tuple when there is a comma */
  private exprList(bare: boolean): PyLiteral {
    const first = this.expr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.p++;
      if (this.atEndOfList(bare)) break;
      items.push(this.expr());
    }
    return { t: 'tuple', items };
  }

  private atEndOfList(bare: boolean): boolean {
    const t = this.peek();
    if (t.k === 'end' || t.k === 'nl') return bare;
    return t.k === 'op' && (t.v === ')' || t.v === ']' || t.v === '}');
  }

  /** signed numbers and complex sums, the only arithmetic literal_eval accepts */
  private expr(): PyLiteral {
    let left = this.unary();
    while (this.isOp('+') || this.isOp('-')) {
      this.p++;
      const right = this.unary();
      const num = (x: PyLiteral) => typeof x === 'object' && x !== null && (x.t === 'int' || x.t === 'float');
      if (!(num(left) && typeof right === 'object' && right !== null && right.t === 'complex'))
        throw new LiteralError('malformed node or string: only complex sums are literals');
      left = { t: 'complex' };
    }
    return left;
  }

  private unary(): PyLiteral {
    if (this.isOp('+') || this.isOp('-')) {
      const neg = this.isOp('-');
      this.p++;
      const t = this.next();
      if (t.k !== 'num') throw new LiteralError('malformed node or string: a sign must precede a number');
      const v = t.v;
      if (typeof v === 'object' && v !== null && v.t === 'int') return { t: 'int', v: neg ? -v.v : v.v };
      if (typeof v === 'object' && v !== null && v.t === 'float') return { t: 'float', v: neg ? -v.v : v.v };
      return v;
    }
    return this.atom();
  }

  private atom(): PyLiteral {
    const t = this.next();
    switch (t.k) {
      case 'num':
        return t.v;
      case 'str': {
        let v = t.v;
        while (this.peek().k === 'str') {
          const w = (this.next() as { v: string | Uint8Array }).v;
          if (typeof v === 'string' && typeof w === 'string') v += w;
          else if (typeof v !== 'string' && typeof w !== 'string') v = Buffer.concat([v, w]);
          else throw new LiteralError('cannot mix bytes and nonbytes literals');
        }
        return typeof v === 'string' ? v : { t: 'bytes', v };
      }
      case 'name':
        if (t.v === 'True') return true;
        if (t.v === 'False') return false;
        if (t.v === 'None') return null;
        if (t.v === 'set' && this.isOp('(')) {
          this.p++;
          this.expect(')');
          return { t: 'set', items: [] };
        }
        throw new LiteralError(`malformed node or string: name ${t.v}`);
      case 'op':
        if (t.v === '...') return { t: 'ellipsis' };
        if (t.v === '(') {
          if (this.isOp(')')) {
            this.p++;
            return { t: 'tuple', items: [] };
          }
          const v = this.exprList(false);
          this.expect(')');
          return v;
        }
        if (t.v === '[') return { t: 'list', items: this.items(']') };
        if (t.v === '{') return this.braces();
        throw new LiteralError(`unexpected "${t.v}"`);
      default:
        throw new LiteralError('unexpected end of the literal');
    }
  }

  private items(close: string): PyLiteral[] {
    const items: PyLiteral[] = [];
    while (!this.isOp(close)) {
      items.push(this.expr());
      if (!this.isOp(',')) break;
      this.p++;
    }
    this.expect(close);
    return items;
  }

  private braces(): PyLiteral {
    if (this.isOp('}')) {
      this.p++;
      return { t: 'dict', entries: [], duplicates: [] };
    }
    const first = this.expr();
    if (!this.isOp(':')) {
      const items = [first];
      while (this.isOp(',')) {
        this.p++;
        if (this.isOp('}')) break;
        items.push(this.expr());
      }
      this.expect('}');
      return { t: 'set', items };
    }
    const seen = new Map<string, number>();
    const entries: Array<[PyLiteral, PyLiteral]> = [];
    const all = new Map<string, PyLiteral[]>();
    let key = first;
    for (;;) {
      this.expect(':');
      const value = this.expr();
      const k = keyOf(key);
      (all.get(k) ?? all.set(k, []).get(k)!).push(value);
      const at = seen.get(k);
      if (at === undefined) {
        seen.set(k, entries.length);
        entries.push([key, value]);
      } else entries[at] = [entries[at][0], value];
      if (!this.isOp(',')) break;
      this.p++;
      if (this.isOp('}')) break;
      key = this.expr();
    }
    this.expect('}');
    const duplicates: Array<[PyLiteral, PyLiteral[]]> = [];
    for (const [k, values] of all) {
      if (values.length > 1) duplicates.push([entries[seen.get(k)!][0], values]);
    }
    return { t: 'dict', entries, duplicates };
  }
}

/** Python dict-key equality for the literal kinds (1 == 1.0 == True) */
function keyOf(v: PyLiteral): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return `n:${v ? 1 : 0}`;
  if (typeof v === 'string') return `s:${v}`;
  switch (v.t) {
    case 'int':
      return `n:${v.v}`;
    case 'float':
      return Number.isInteger(v.v) ? `n:${BigInt(v.v)}` : `n:${v.v}`;
    case 'bytes':
      return `b:${Buffer.from(v.v).toString('latin1')}`;
    case 'tuple':
      return `t:(${v.items.map(keyOf).join(',')})`;
    case 'ellipsis':
      return 'Ellipsis';
    default:
      throw new LiteralError(`unhashable type: '${v.t}'`);
  }
}

export function literalEval(text: string, dropPython2Longs = false): PyLiteral {
  return new Parser(tokenize(text.replace(/^[ \t]+/, ''), dropPython2Longs)).top();
}

/** structural equality of two literals (for "does the first value of a repeated key differ from the last") */
export function literalEquals(a: PyLiteral, b: PyLiteral): boolean {
  try {
    return keyOf(a) === keyOf(b);
  } catch {
    return (
      JSON.stringify(a, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ===
      JSON.stringify(b, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))
    );
  }
}
