import * as A from './arguments';
import {
  ARG_NONE,
  type ArgKind,
  type ArgReader,
  type ArgValue,
  type GlobalArg,
  type TextLine,
} from './arguments';
import type { Machine } from './machine';
import { decodeLatin1, decodeUtf8 } from './text';
import {
  isObject,
  PyBytes,
  PyDict,
  FLOAT_SUMMARY,
  PyFloat,
  PyInstance,
  PyList,
  PySet,
  PyTuple,
  PyUnknown,
  pyTypeName,
  type PyValue,
} from './values';

/**
 * Every opcode of pickle protocols 0–5, in one table: byte, name, argument reader, stack effect, protocol, and
 * what it does to the machine. The stack-effect strings use pickletools' notation. What an opcode does is given
 * either as an `Effect` — one of the few simple things most opcodes do, which the machine's loop applies inline —
 * or as `exec`, the semantics of CPython's `_Unpickler.load_*` over abstract values.
 */
export interface OpcodeDef {
  readonly code: number;
  readonly name: string;
  readonly proto: number;
  readonly arg: ArgReader | null;
  /** ARG_NONE, a fixed-width kind decoded inline, or ARG_READER */
  readonly argKind: ArgKind;
  readonly stackBefore: string;
  readonly stackAfter: string;
  readonly effect: Effect;
  /** the value EFFECT_PUSH_CONST pushes */
  readonly constant: PyValue;
  /** semantics: for effect opcodes, applies the effect */
  exec(m: Machine, arg: ArgValue): void;
}

/** what an opcode does, when it is one of these */
export const EFFECT_EXEC = 0;
/** push the decoded argument */
export const EFFECT_PUSH_ARG = 1;
/** push `constant` */
export const EFFECT_PUSH_CONST = 2;
/** push memo[arg] */
export const EFFECT_MEMO_GET = 3;
/** memo[arg] = top of stack */
export const EFFECT_MEMO_PUT = 4;
/** memo[len(memo)] = top of stack */
export const EFFECT_MEMOIZE = 5;
/** open a new inner stack */
export const EFFECT_MARK = 6;
export type Effect = 0 | 1 | 2 | 3 | 4 | 5 | 6;

type Exec = (m: Machine, arg: ArgValue) => void;

function op(
  code: string | number,
  name: string,
  proto: number,
  arg: ArgReader | null,
  stackBefore: string,
  stackAfter: string,
  semantics: Exec | { effect: Effect; constant?: PyValue },
): OpcodeDef {
  const effect = typeof semantics === 'function' ? EFFECT_EXEC : semantics.effect;
  const constant = typeof semantics === 'function' ? null : (semantics.constant ?? null);
  const exec: Exec =
    typeof semantics === 'function' ? semantics : (m, a) => m.applyEffect(effect, constant, a);
  return {
    code: typeof code === 'number' ? code : code.charCodeAt(0),
    name,
    proto,
    arg,
    argKind: arg === null ? ARG_NONE : arg.kind,
    stackBefore,
    stackAfter,
    effect,
    constant,
    exec,
  };
}

const push = { effect: EFFECT_PUSH_ARG } as const;

/** target[k] = v for the pairs in m.stack[start:end] */
function setItemsOn(m: Machine, target: PyValue, start: number, end: number, opcode: string): void {
  m.host.setItems?.(target, m.stack, start, end, opcode, m.opStart);
  if (target instanceof PyDict) {
    m.setDictItems(target, m.stack, start, end);
  } else if (target instanceof PyList) {
    // list[index] = value: valid Python when the index is in range; content is irrelevant to every check
  } else if (
    !isObject(target) ||
    target instanceof PyTuple ||
    target instanceof PyFloat ||
    target instanceof PyBytes
  ) {
    m.fail('TypeError', `'${pyTypeName(target)}' object does not support item assignment`, 'value');
  }
  // instances, globals, unknowns: __setitem__ of an unknown object — recorded by the host, no structural effect
}

/** target.extend(m.stack[start:end]) */
function appendTo(m: Machine, target: PyValue, start: number, end: number, opcode: string): void {
  m.host.append?.(target, m.stack, start, end, opcode, m.opStart);
  if (target instanceof PyList) m.appendItems(target, m.stack, start, end);
  else if (target instanceof PySet) target.size += end - start;
  else if (
    !isObject(target) ||
    target instanceof PyDict ||
    target instanceof PyTuple ||
    target instanceof PyFloat
  ) {
    const what = opcode === 'ADDITEMS' ? 'add' : 'append';
    m.fail('AttributeError', `'${pyTypeName(target)}' object has no attribute '${what}'`, 'value');
  }
}

function line(a: ArgValue): Uint8Array {
  return (a as TextLine).line;
}

/** STRING's argument: a quoted Python 2 literal with backslash escapes */
function stringLiteral(m: Machine, raw: Uint8Array): PyValue {
  if (raw.length < 2 || raw[0] !== raw[raw.length - 1] || (raw[0] !== 0x22 && raw[0] !== 0x27)) {
    m.fail('UnpicklingError', 'the STRING opcode argument must be quoted', 'value');
  }
  const out: number[] = [];
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i];
    if (c !== 0x5c || i + 1 >= raw.length - 1) {
      out.push(c);
      continue;
    }
    const n = raw[++i];
    const simple: Record<number, number> = {
      0x6e: 10,
      0x74: 9,
      0x72: 13,
      0x5c: 0x5c,
      0x27: 0x27,
      0x22: 0x22,
      0x61: 7,
      0x62: 8,
      0x66: 12,
      0x76: 11,
    };
    if (simple[n] !== undefined) out.push(simple[n]);
    else if (n === 0x78 && i + 2 < raw.length) {
      out.push(parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16) & 0xff);
      i += 2;
    } else if (n >= 0x30 && n <= 0x37) {
      let v = n - 0x30;
      for (let k = 0; k < 2 && raw[i + 1] >= 0x30 && raw[i + 1] <= 0x37; k++) v = v * 8 + (raw[++i] - 0x30);
      out.push(v & 0xff);
    } else out.push(0x5c, n);
  }
  const bytes = Uint8Array.from(out);
  const ascii = bytes.every((b) => b < 0x80);
  return ascii ? String.fromCharCode(...bytes) : new PyBytes(bytes.length, bytes, false);
}

/** UNICODE's argument: raw-unicode-escape (\uXXXX and \UXXXXXXXX; everything else is Latin-1) */
function rawUnicodeEscape(raw: Uint8Array): string {
  if (raw.indexOf(0x5c) < 0) return decodeLatin1(raw, 0, raw.length);
  let s = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === 0x5c && (raw[i + 1] === 0x75 || raw[i + 1] === 0x55)) {
      const n = raw[i + 1] === 0x75 ? 4 : 8;
      const hex = String.fromCharCode(...raw.subarray(i + 2, i + 2 + n));
      if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === n) {
        s += String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff));
        i += 1 + n;
        continue;
      }
    }
    s += String.fromCharCode(c);
  }
  return s;
}

const SIMPLE_FLOAT = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/;
const FLOAT_LITERAL = /^[+-]?(\d(_?\d)*)?(\.(\d(_?\d)*)?)?([eE][+-]?\d(_?\d)*)?$/;

/** Python's float() of a text argument (FLOAT opcode) */
function floatText(m: Machine, raw: Uint8Array): PyFloat {
  const t = A.lineText(raw).trim();
  // what repr(float) writes (the usual case) needs no further checks; once the retention budget is spent a
  // float's value is never consulted, as for BINFLOAT
  if (SIMPLE_FLOAT.test(t)) return m.retainBudget > 0 ? new PyFloat(Number(t)) : FLOAT_SUMMARY;
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special) {
    const v = special[2].toLowerCase() === 'nan' ? NaN : Infinity;
    return new PyFloat(special[1] === '-' ? -v : v);
  }
  if (!FLOAT_LITERAL.test(t) || !/\d/.test(t)) {
    m.fail('ValueError', `could not convert string to float: '${t.slice(0, 40)}'`, 'value');
  }
  return new PyFloat(Number(t.replace(/_/g, '')));
}

function instantiate(m: Machine, opcode: 'INST' | 'OBJ', cls: PyValue, args: PyValue[]): void {
  m.push(m.call(opcode, cls, m.newTuple(args)));
}

export const OPCODE_LIST: readonly OpcodeDef[] = [
  // ---- integers ----
  op('I', 'INT', 0, A.decimalnl, '', 'int|bool', (m, a) => {
    const raw = line(a);
    if (raw.length === 2 && raw[0] === 0x30 && (raw[1] === 0x30 || raw[1] === 0x31)) m.push(raw[1] === 0x31);
    else m.push(A.lineInt(m, raw, true));
  }),
  op('J', 'BININT', 1, A.int4, '', 'int', push),
  op('K', 'BININT1', 1, A.uint1, '', 'int', push),
  op('M', 'BININT2', 1, A.uint2, '', 'int', push),
  op('L', 'LONG', 0, A.decimalnl, '', 'int', (m, a) => {
    let raw = line(a);
    if (raw.length > 0 && raw[raw.length - 1] === 0x4c) raw = raw.subarray(0, raw.length - 1);
    m.push(A.lineInt(m, raw, true));
  }),
  op(0x8a, 'LONG1', 2, A.long1, '', 'int', push),
  op(0x8b, 'LONG4', 2, A.long4, '', 'int', push),

  // ---- strings and bytes ----
  op('S', 'STRING', 0, A.stringnl, '', 'bytes|str', (m, a) => m.push(stringLiteral(m, line(a)))),
  op('T', 'BINSTRING', 1, A.string4, '', 'bytes|str', push),
  op('U', 'SHORT_BINSTRING', 1, A.string1, '', 'bytes|str', push),
  op('B', 'BINBYTES', 3, A.bytes4, '', 'bytes', push),
  op('C', 'SHORT_BINBYTES', 3, A.bytes1, '', 'bytes', push),
  op(0x8e, 'BINBYTES8', 4, A.bytes8, '', 'bytes', push),
  op(0x96, 'BYTEARRAY8', 5, A.bytearray8, '', 'bytearray', push),
  op(0x97, 'NEXT_BUFFER', 5, null, '', 'any', (m) =>
    m.fail(
      'UnpicklingError',
      'pickle stream refers to out-of-band data but no *buffers* argument was given',
      'value',
    ),
  ),
  op(0x98, 'READONLY_BUFFER', 5, null, 'any', 'any', (m) => {
    m.top();
  }),
  op('V', 'UNICODE', 0, A.unicodestringnl, '', 'str', (m, a) => m.push(rawUnicodeEscape(line(a)))),
  op(0x8c, 'SHORT_BINUNICODE', 4, A.unicodestring1, '', 'str', push),
  op('X', 'BINUNICODE', 1, A.unicodestring4, '', 'str', push),
  op(0x8d, 'BINUNICODE8', 4, A.unicodestring8, '', 'str', push),

  // ---- constants and floats ----
  op('N', 'NONE', 0, null, '', 'None', { effect: EFFECT_PUSH_CONST, constant: null }),
  op(0x88, 'NEWTRUE', 2, null, '', 'bool', { effect: EFFECT_PUSH_CONST, constant: true }),
  op(0x89, 'NEWFALSE', 2, null, '', 'bool', { effect: EFFECT_PUSH_CONST, constant: false }),
  op('F', 'FLOAT', 0, A.floatnl, '', 'float', (m, a) => m.push(floatText(m, line(a)))),
  op('G', 'BINFLOAT', 1, A.float8, '', 'float', push),

  // ---- lists ----
  op(']', 'EMPTY_LIST', 1, null, '', 'list', (m) => m.push(m.newList())),
  op('a', 'APPEND', 0, null, 'list any', 'list', (m) => {
    m.pop(); // still readable at stack[sp] until the next push
    appendTo(m, m.top(), m.sp, m.sp + 1, 'APPEND');
  }),
  op('e', 'APPENDS', 1, null, 'list mark any*', 'list', (m) => {
    const start = m.popMarkRange();
    appendTo(m, m.top(), start, m.markEnd, 'APPENDS');
  }),
  op('l', 'LIST', 0, null, 'mark any*', 'list', (m) => {
    const start = m.popMarkRange();
    const l = m.newList();
    m.appendItems(l, m.stack, start, m.markEnd);
    m.push(l);
  }),

  // ---- tuples ----
  op(')', 'EMPTY_TUPLE', 1, null, '', 'tuple', (m) => m.push(m.newTuple([]))),
  op('t', 'TUPLE', 0, null, 'mark any*', 'tuple', (m) => m.push(m.newTuple(m.popMark()))),
  op(0x85, 'TUPLE1', 2, null, 'any', 'tuple', (m) => m.replaceTop(m.newTuple([m.top()]))),
  op(0x86, 'TUPLE2', 2, null, 'any any', 'tuple', (m) => {
    const a = m.peek(2);
    const b = m.pop();
    m.replaceTop(m.newTuple([a, b]));
  }),
  op(0x87, 'TUPLE3', 2, null, 'any any any', 'tuple', (m) => {
    const a = m.peek(3);
    const b = m.peek(2);
    const c = m.pop();
    m.pop();
    m.replaceTop(m.newTuple([a, b, c]));
  }),

  // ---- dicts ----
  op('}', 'EMPTY_DICT', 1, null, '', 'dict', (m) => m.push(m.newDict())),
  op('d', 'DICT', 0, null, 'mark (any any)*', 'dict', (m) => {
    const start = m.popMarkRange();
    const end = m.markEnd;
    if ((end - start) % 2 === 1) m.fail('IndexError', 'list index out of range', 'stack');
    const d = m.newDict();
    m.host.setItems?.(d, m.stack, start, end, 'DICT', m.opStart);
    m.setDictItems(d, m.stack, start, end);
    m.push(d);
  }),
  op('s', 'SETITEM', 0, null, 'dict any any', 'dict', (m) => {
    m.pop();
    m.pop(); // key and value stay readable at stack[sp], stack[sp + 1]
    setItemsOn(m, m.top(), m.sp, m.sp + 2, 'SETITEM');
  }),
  op('u', 'SETITEMS', 1, null, 'dict mark (any any)*', 'dict', (m) => {
    const start = m.popMarkRange();
    const end = m.markEnd;
    const target = m.top();
    if ((end - start) % 2 === 1) {
      setItemsOn(m, target, start, end - 1, 'SETITEMS');
      m.fail('IndexError', 'list index out of range', 'stack');
    }
    setItemsOn(m, target, start, end, 'SETITEMS');
  }),

  // ---- sets ----
  op(0x8f, 'EMPTY_SET', 4, null, '', 'set', (m) => m.push(m.newSet('builtins.set'))),
  op(0x90, 'ADDITEMS', 4, null, 'set mark any*', 'set', (m) => {
    const start = m.popMarkRange();
    appendTo(m, m.top(), start, m.markEnd, 'ADDITEMS');
  }),
  op(0x91, 'FROZENSET', 4, null, 'mark any*', 'frozenset', (m) => {
    const start = m.popMarkRange();
    const s = m.newSet('builtins.frozenset');
    s.size = m.markEnd - start;
    m.push(s);
  }),

  // ---- stack manipulation ----
  op('0', 'POP', 0, null, 'any', '', (m) => {
    if (m.depth > 0) m.pop();
    else m.popMarkRange();
  }),
  op('2', 'DUP', 0, null, 'any', 'any any', (m) => m.push(m.top())),
  op('(', 'MARK', 0, null, '', 'mark', { effect: EFFECT_MARK }),
  op('1', 'POP_MARK', 1, null, 'mark any*', '', (m) => {
    m.popMarkRange();
  }),

  // ---- memo ----
  op('g', 'GET', 0, A.memoIndexnl, '', 'any', (m, a) => m.push(m.memoGet(Number(a as number | bigint)))),
  op('h', 'BINGET', 1, A.uint1, '', 'any', { effect: EFFECT_MEMO_GET }),
  op('j', 'LONG_BINGET', 1, A.uint4, '', 'any', { effect: EFFECT_MEMO_GET }),
  op('p', 'PUT', 0, A.memoIndexnl, 'any', 'any', (m, a) => m.memoPut(Number(a as number | bigint))),
  op('q', 'BINPUT', 1, A.uint1, 'any', 'any', { effect: EFFECT_MEMO_PUT }),
  op('r', 'LONG_BINPUT', 1, A.uint4, 'any', 'any', { effect: EFFECT_MEMO_PUT }),
  op(0x94, 'MEMOIZE', 4, null, 'any', 'any', { effect: EFFECT_MEMOIZE }),

  // ---- imports ----
  op(0x82, 'EXT1', 2, A.uint1, '', 'any', (m, a) => m.push(m.importExtension('EXT1', a as number))),
  op(0x83, 'EXT2', 2, A.uint2, '', 'any', (m, a) => m.push(m.importExtension('EXT2', a as number))),
  op(0x84, 'EXT4', 2, A.int4, '', 'any', (m, a) => m.push(m.importExtension('EXT4', a as number))),
  op('c', 'GLOBAL', 0, A.globalPair('utf-8'), '', 'any', (m, a) => {
    const g = a as GlobalArg;
    m.push(m.importGlobal('GLOBAL', g.module, g.name));
  }),
  op(0x93, 'STACK_GLOBAL', 4, null, 'str str', 'any', (m) => {
    const name = m.pop();
    const module = m.pop();
    if (typeof name !== 'string' || typeof module !== 'string') {
      if (m.lenient) {
        m.push(new PyUnknown('STACK_GLOBAL operands'));
        return;
      }
      m.fail('UnpicklingError', 'STACK_GLOBAL requires str', 'value');
    }
    m.push(m.importGlobal('STACK_GLOBAL', module as string, name as string));
  }),

  // ---- calls and object building ----
  op('R', 'REDUCE', 0, null, 'any tuple', 'any', (m) => {
    const args = m.pop();
    const callee = m.top();
    m.replaceTop(m.call('REDUCE', callee, args));
  }),
  op('b', 'BUILD', 0, null, 'any any', 'any', (m) => {
    const state = m.pop();
    const target = m.top();
    m.host.build?.(target, state, m.opStart);
    if (target instanceof PyInstance) target.state = state;
    else if (target instanceof PyDict) target.attrs = state;
  }),
  op('i', 'INST', 0, A.globalPair('ascii'), 'mark any*', 'any', (m, a) => {
    const g = a as GlobalArg;
    const cls = m.importGlobal('INST', g.module, g.name);
    instantiate(m, 'INST', cls, m.popMark());
  }),
  op('o', 'OBJ', 1, null, 'mark any any*', 'any', (m) => {
    const items = m.popMark();
    if (items.length === 0) m.fail('IndexError', 'pop from empty list', 'stack');
    const cls = items.shift() as PyValue;
    instantiate(m, 'OBJ', cls, items);
  }),
  op(0x81, 'NEWOBJ', 2, null, 'any tuple', 'any', (m) => {
    const args = m.pop();
    const cls = m.pop();
    m.push(m.call('NEWOBJ', cls, args));
  }),
  op(0x92, 'NEWOBJ_EX', 4, null, 'any tuple dict', 'any', (m) => {
    const kwargs = m.pop();
    const args = m.pop();
    const cls = m.pop();
    m.push(m.call('NEWOBJ_EX', cls, args, kwargs));
  }),

  // ---- machine control ----
  op(0x80, 'PROTO', 2, A.uint1, '', '', (m, a) => {
    const p = a as number;
    if (p > 5) m.fail('ValueError', `unsupported pickle protocol: ${p}`, 'value');
    m.proto = p;
  }),
  op('.', 'STOP', 0, null, 'any', '', (m) => {
    m.result = m.pop();
  }),
  op(0x95, 'FRAME', 4, A.uint8, '', '', (m, a) => m.startFrame(a as number | bigint)),

  // ---- persistent ids ----
  op('P', 'PERSID', 0, A.stringnlNoescape, '', 'any', (m, a) => {
    const raw = line(a);
    let pid = '';
    try {
      pid = decodeUtf8(raw, 0, raw.length, false);
    } catch {
      m.fail('UnicodeDecodeError', 'persistent id is not valid text', 'decode');
    }
    m.push(m.persistentLoad('PERSID', pid));
  }),
  op('Q', 'BINPERSID', 1, null, 'any', 'any', (m) => {
    const pid = m.pop();
    m.push(m.persistentLoad('BINPERSID', pid));
  }),
];

/** byte → definition (undefined for bytes that are not opcodes) */
export const OPCODES: ReadonlyArray<OpcodeDef | undefined> = (() => {
  const t: Array<OpcodeDef | undefined> = new Array(256).fill(undefined);
  for (const d of OPCODE_LIST) {
    if (t[d.code] !== undefined) throw new Error(`duplicate opcode ${d.code}`);
    t[d.code] = d;
  }
  return t;
})();

export const OPCODES_BY_NAME: ReadonlyMap<string, OpcodeDef> = new Map(OPCODE_LIST.map((d) => [d.name, d]));

export function opcodeByName(name: string): OpcodeDef {
  const d = OPCODES_BY_NAME.get(name);
  if (!d) throw new Error(`no opcode named ${name}`);
  return d;
}
