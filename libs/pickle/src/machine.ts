import {
  ARG_FLOAT8,
  ARG_INT4,
  ARG_NONE,
  ARG_UINT1,
  ARG_UINT2,
  ARG_UINT4,
  type ArgReader,
  type ArgValue,
} from './arguments';
import {
  EFFECT_EXEC,
  EFFECT_MARK,
  EFFECT_MEMO_GET,
  EFFECT_MEMO_PUT,
  EFFECT_MEMOIZE,
  EFFECT_PUSH_ARG,
  EFFECT_PUSH_CONST,
  OPCODES,
  type Effect,
  type OpcodeDef,
} from './opcodes';
import { mapPython2Name } from './python2-names';
import { DROPPED_STRING, Memo, PUT_DROPPED, PUT_LIMIT, PUT_SPREAD, type PutResult } from './memo';
import { decodeAscii, DecodeError } from './text';
import {
  PyBytes,
  PyDict,
  FLOAT_SUMMARY,
  PyFloat,
  PyList,
  PySet,
  PyTensor,
  PyTuple,
  UNKNOWN,
  type PyObject,
  type PyValue,
} from './values';

/** Hard limits. Each one ends the walk with a failure of kind 'limit' instead of a crash or a runaway allocation. */
export interface Limits {
  /** opcodes executed per pickle */
  maxOpcodes: number;
  /** distinct memo slots */
  maxMemoEntries: number;
  /** values on the current stack plus all stacks saved by MARK */
  maxStackItems: number;
  /** open MARKs */
  maxMarkDepth: number;
  /** container items kept for classification and the tensor inventory; beyond it only counts are kept */
  maxRetainedItems: number;
  /** longest str/bytes payload decoded and kept; longer ones are skipped without copying */
  maxRetainedBytes: number;
  /** longest newline-terminated argument (GLOBAL, INST, text opcodes) */
  maxLineBytes: number;
  /** bytes of memoized strings kept (one byte per character, two when a character is above U+00FF) */
  maxMemoStringBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxOpcodes: 250_000_000,
  maxMemoEntries: 20_000_000,
  maxStackItems: 10_000_000,
  maxMarkDepth: 100_000,
  maxRetainedItems: 200_000,
  maxRetainedBytes: 1 << 20,
  maxLineBytes: 64 * 1024,
  maxMemoStringBytes: 64 * 1024 * 1024,
});

export type FailureKind = 'truncated' | 'stack' | 'memo' | 'decode' | 'opcode' | 'limit' | 'value' | 'frame';

/** Why a walk ended early: the Python exception the stock unpickler would raise, and where. */
export class PickleFailure {
  constructor(
    readonly pyType: string,
    readonly message: string,
    readonly kind: FailureKind,
    /** absolute offset of the opcode */
    readonly offset: number,
    readonly opcode: string | null,
  ) {}
  toString(): string {
    return `${this.pyType}: ${this.message}`;
  }
}

export interface ImportEvent {
  readonly opcode: string;
  readonly offset: number;
  /** as written in the stream */
  readonly rawModule: string;
  readonly rawName: string;
  /** after the Python 2 mapping the stock unpickler applies (protocol < 3) */
  readonly module: string;
  readonly name: string;
}

export type CallOpcode = 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ';

export interface CallEvent {
  readonly opcode: CallOpcode;
  readonly offset: number;
  readonly callee: PyValue;
  /** a tuple for REDUCE/NEWOBJ; the marked items (as a tuple) for INST/OBJ */
  readonly args: PyValue;
  readonly kwargs?: PyValue;
}

export interface StructuralNote {
  readonly rule: string;
  readonly message: string;
  readonly offset: number;
  readonly opcode: string | null;
}

/**
 * What the machine reports while it walks. The host decides what imports and calls evaluate to (the machine
 * never executes anything) and may veto nothing: it only observes and models.
 */
export interface MachineHost {
  /** bytes flagged here are reported through `opcode()` before they execute (or fail, if they are no opcode) */
  readonly watchedOpcodes?: Uint8Array;
  opcode?(code: number, def: OpcodeDef | undefined, offset: number): void;
  importGlobal(ev: ImportEvent): PyValue;
  call(ev: CallEvent): PyValue;
  build?(target: PyValue, state: PyValue, offset: number): void;
  /** APPEND/APPENDS/ADDITEMS: the items are `items[start:end]` (a view of the stack: read them, do not keep it) */
  append?(
    target: PyValue,
    items: readonly PyValue[],
    start: number,
    end: number,
    opcode: string,
    offset: number,
  ): void;
  /** SETITEM/SETITEMS/DICT: key/value pairs in `items[start:end]` */
  setItems?(
    target: PyValue,
    items: readonly PyValue[],
    start: number,
    end: number,
    opcode: string,
    offset: number,
  ): void;
  persistentLoad(pid: PyValue, opcode: 'PERSID' | 'BINPERSID', offset: number): PyValue;
  note?(note: StructuralNote): void;
}

export type RunResult = 'stop' | 'need-more' | 'failed' | 'interrupt';

/** thrown by argument readers when the window ends inside an opcode */
class NeedMore {
  constructor(public bytes: number) {}
}
/** thrown by fail() */
class Failed {
  constructor(public failure: PickleFailure) {}
}

const EMPTY = new Uint8Array(0);

/**
 * The pickle virtual machine: a faithful simulation of CPython's unpickler over abstract values.
 *
 * Input arrives in windows (`setWindow`), so a multi-GB stream is walked with bounded memory; when an opcode does
 * not fit in the window, `run()` returns 'need-more' with the position rewound to that opcode and `wanted` bytes.
 */
export class Machine {
  // ---- input window ----
  buf: Uint8Array = EMPTY;
  view: DataView = new DataView(EMPTY.buffer);
  /** position inside `buf` */
  pos = 0;
  /** valid bytes in `buf` */
  end = 0;
  /** absolute stream offset of buf[0] */
  base = 0;
  /** absolute end of the stream */
  streamEnd = 0;
  /** bytes wanted from the current position when run() returned 'need-more' */
  wanted = 0;

  // ---- machine state ----
  /** the value stack: [0, sp) holds values, marks fence it into nested stacks */
  stack: PyValue[] = [];
  sp = 0;
  /** where the innermost stack begins (the position recorded by the last open MARK) */
  fence = 0;
  /** fences saved by open MARKs */
  readonly marks: number[] = [];
  /** end of the range returned by popMarkRange() */
  markEnd = 0;
  private readonly maxStack: number;
  memo: Memo;
  /** PROTO argument, -1 before any PROTO opcode */
  proto = -1;
  /** highest PROTO seen in this pickle */
  opcodeCount = 0;
  result: PyValue = null;
  failure: PickleFailure | null = null;
  /** absolute offset of the opcode being executed */
  opStart = 0;
  /** absolute end of the current FRAME, or -1 */
  frameEnd = -1;
  /** extension codes registered during this walk through copyreg.add_extension */
  readonly extensions = new Map<number, readonly [string, string]>();
  /** container items still allowed to be kept */
  retainBudget: number;
  /** pushes placeholders instead of failing on stack underflow or missing memo (secondary walks only) */
  lenient = false;
  /**
   * Set by the host while an opcode executes when the stream continues with something that is not an opcode
   * (joblib writes raw array bytes after a NumpyArrayWrapper's BUILD): run() returns 'interrupt' and the driver
   * repositions the machine with setWindow() before running it again.
   */
  interrupt: unknown = null;
  private notesSeen = new Set<string>();
  private budgetNoted = false;

  readonly limits: Limits;
  private watched: Uint8Array;

  constructor(
    readonly host: MachineHost,
    limits: Partial<Limits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.maxStack = this.limits.maxStackItems;
    this.retainBudget = this.limits.maxRetainedItems;
    this.watched = host.watchedOpcodes ?? new Uint8Array(256);
    this.memo = new Memo(this.limits.maxMemoStringBytes, this.limits.maxMemoEntries);
  }

  /** Hands the machine the bytes [base, base + buf.length) of a stream that ends at streamEnd. */
  setWindow(buf: Uint8Array, base: number, streamEnd: number): void {
    // a plain Uint8Array view, not a Node Buffer: subarray() on a Buffer builds a Buffer, several times dearer
    this.buf =
      Object.getPrototypeOf(buf) === Uint8Array.prototype
        ? buf
        : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.base = base;
    this.pos = 0;
    this.end = buf.length;
    this.streamEnd = streamEnd;
  }

  /** absolute offset of the next byte to read */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Starts a new pickle in the same stream (as a fresh `pickle.load` on the same file would). */
  resetForNextPickle(): void {
    this.stack = [];
    this.sp = 0;
    this.fence = 0;
    this.marks.length = 0;
    this.memo = new Memo(this.limits.maxMemoStringBytes, this.limits.maxMemoEntries);
    this.proto = -1;
    this.opcodeCount = 0;
    this.result = null;
    this.failure = null;
    this.frameEnd = -1;
  }

  run(): RunResult {
    const table = OPCODES;
    const host = this.host;
    const maxOps = this.limits.maxOpcodes;
    for (;;) {
      const start = this.pos;
      if (start >= this.end) {
        if (this.base + start >= this.streamEnd) return this.stopWith(this.eofFailure(start));
        this.wanted = 1;
        return 'need-more';
      }
      const code = this.buf[start];
      const def = table[code];
      this.opStart = this.base + start;
      if (this.watched[code] === 1 && host.opcode) host.opcode(code, def, this.opStart);
      if (def === undefined) {
        const key = code.toString(16).padStart(2, '0');
        return this.stopWith(
          new PickleFailure(
            'UnpicklingError',
            `invalid load key, '\\x${key}'.`,
            'opcode',
            this.opStart,
            null,
          ),
        );
      }
      this.pos = start + 1;
      try {
        // fixed-width arguments are decoded here, the rest by their reader
        const p = start + 1;
        let arg: ArgValue;
        switch (def.argKind) {
          case ARG_NONE:
            arg = undefined;
            break;
          case ARG_UINT1:
            if (p + 1 > this.end) this.needMore(1);
            arg = this.buf[p];
            this.pos = p + 1;
            break;
          case ARG_UINT2:
            if (p + 2 > this.end) this.needMore(2);
            arg = this.buf[p] | (this.buf[p + 1] << 8);
            this.pos = p + 2;
            break;
          case ARG_INT4:
            if (p + 4 > this.end) this.needMore(4);
            arg = this.view.getInt32(p, true);
            this.pos = p + 4;
            break;
          case ARG_UINT4:
            if (p + 4 > this.end) this.needMore(4);
            arg = this.view.getUint32(p, true);
            this.pos = p + 4;
            break;
          case ARG_FLOAT8:
            if (p + 8 > this.end) this.needMore(8);
            // a float's value is consulted only in kept content; past the retention budget one stand-in serves
            arg = this.retainBudget > 0 ? new PyFloat(this.view.getFloat64(p, false)) : FLOAT_SUMMARY;
            this.pos = p + 8;
            break;
          default:
            arg = (def.arg as ArgReader).read(this);
        }
        if (def.effect === EFFECT_EXEC) def.exec(this, arg);
        else this.applyEffect(def.effect, def.constant, arg);
        // only an opcode that ends past its frame's end (or the first one after it) needs the frame check
        if (this.base + this.pos > this.frameEnd && this.frameEnd >= 0) this.checkFrame(start);
        if (this.interrupt !== null) return 'interrupt';
      } catch (e) {
        if (e instanceof NeedMore) {
          this.pos = start;
          this.wanted = e.bytes + 1;
          return 'need-more';
        }
        if (e instanceof Failed) return this.stopWith(e.failure);
        throw e;
      }
      if (def.code === 0x2e) return 'stop';
      if (++this.opcodeCount > maxOps) {
        this.pos = start;
        return this.stopWith(this.limitFailure(`more than ${maxOps} opcodes`));
      }
    }
  }

  private stopWith(f: PickleFailure): RunResult {
    this.failure = f;
    return 'failed';
  }

  private eofFailure(start: number): PickleFailure {
    const atStart = this.opcodeCount === 0 && this.sp === 0;
    return new PickleFailure(
      'EOFError',
      atStart ? 'Ran out of input' : '',
      'truncated',
      this.base + start,
      null,
    );
  }

  private limitFailure(what: string): PickleFailure {
    return new PickleFailure(
      'LimitExceeded',
      `scan limit reached: ${what}`,
      'limit',
      this.opStart,
      this.current?.name ?? null,
    );
  }

  /** the opcode being executed (derived from the stream, for messages) */
  get current(): OpcodeDef | null {
    const i = this.opStart - this.base;
    return i >= 0 && i < this.end ? (OPCODES[this.buf[i]] ?? null) : null;
  }

  /** the host no longer needs opcode reports (every version it judges has already refused the file) */
  stopWatching(): void {
    this.watched = new Uint8Array(256);
  }

  // ---- helpers used by argument readers and opcode semantics ----

  needMore(bytes: number): never {
    // the window already reaches the end of the stream: there is no more to read
    if (this.base + this.end >= this.streamEnd)
      this.fail('UnpicklingError', 'pickle data was truncated', 'truncated');
    throw new NeedMore(bytes);
  }

  fail(pyType: string, message: string, kind: FailureKind): never {
    throw new Failed(new PickleFailure(pyType, message, kind, this.opStart, this.current?.name ?? null));
  }

  failLimit(what: string): never {
    throw new Failed(this.limitFailure(what));
  }

  note(rule: string, message: string): void {
    if (rule === 'retention-budget') {
      if (this.budgetNoted) return;
      this.budgetNoted = true;
    }
    if (this.notesSeen.has(rule)) return;
    this.notesSeen.add(rule);
    this.host.note?.({ rule, message, offset: this.opStart, opcode: this.current?.name ?? null });
  }

  private checkFrame(start: number): void {
    const opStart = this.base + start;
    const opEnd = this.base + this.pos;
    if (opStart >= this.frameEnd) {
      if (opStart > this.frameEnd) {
        this.note('frame-overrun', `frame ended at ${this.frameEnd} inside the previous opcode`);
      }
      this.frameEnd = -1;
      return;
    }
    if (opEnd > this.frameEnd) {
      this.host.note?.({
        rule: 'frame-straddle',
        message:
          `${this.current?.name ?? 'opcode'} at ${opStart} runs past the end of its FRAME (${this.frameEnd}); ` +
          `CPython's C unpickler re-reads from the frame end and would execute different opcodes`,
        offset: opStart,
        opcode: this.current?.name ?? null,
      });
      this.frameEnd = -1;
    }
  }

  startFrame(length: number | bigint): void {
    const len = typeof length === 'bigint' ? Number.MAX_SAFE_INTEGER : length;
    const open = this.frameEnd >= 0 && this.frameEnd > this.opStart;
    if (open) {
      this.note('frame-nested', `a FRAME at ${this.opStart} starts before the previous frame ended`);
    }
    const end = this.base + this.pos + len;
    if (end > this.streamEnd) {
      this.note(
        'frame-truncated',
        `FRAME at ${this.opStart} declares ${len} bytes but the stream ends first`,
      );
    }
    this.frameEnd = end;
  }

  /** the simple effects most opcodes have (see OpcodeDef.effect); the loop applies them without a call per opcode */
  applyEffect(effect: Effect, constant: PyValue, arg: ArgValue): void {
    switch (effect) {
      case EFFECT_PUSH_ARG:
        this.push(arg as PyValue);
        return;
      case EFFECT_PUSH_CONST:
        this.push(constant);
        return;
      case EFFECT_MEMO_GET:
        this.push(this.memoGet(arg as number));
        return;
      case EFFECT_MEMO_PUT:
        this.memoPut(arg as number);
        return;
      case EFFECT_MEMOIZE:
        this.memoPut(this.memoCount);
        return;
      case EFFECT_MARK:
        this.mark();
        return;
    }
  }

  // ---- stack ----
  // One stack with fences, as CPython's C unpickler keeps it: MARK records where the current stack begins, so a
  // mark costs no allocation; popping below the fence is the IndexError of the Python unpickler's inner list.

  push(v: PyValue): void {
    const sp = this.sp;
    if (sp >= this.maxStack) this.failLimit(`more than ${this.maxStack} stack items`);
    this.stack[sp] = v;
    this.sp = sp + 1;
  }

  pop(): PyValue {
    if (this.sp <= this.fence) {
      if (this.lenient) return UNKNOWN;
      this.fail('IndexError', 'pop from empty list', 'stack');
    }
    return this.stack[--this.sp];
  }

  top(): PyValue {
    if (this.sp <= this.fence) {
      if (this.lenient) return UNKNOWN;
      this.fail('IndexError', 'list index out of range', 'stack');
    }
    return this.stack[this.sp - 1];
  }

  /** stack[-n] */
  peek(n: number): PyValue {
    if (this.sp - n < this.fence) {
      if (this.lenient) return UNKNOWN;
      this.fail('IndexError', 'list index out of range', 'stack');
    }
    return this.stack[this.sp - n];
  }

  replaceTop(v: PyValue): void {
    if (this.sp <= this.fence) {
      if (this.lenient) {
        this.push(v);
        return;
      }
      this.fail('IndexError', 'list index out of range', 'stack');
    }
    this.stack[this.sp - 1] = v;
  }

  /** items on the current (innermost) stack */
  get depth(): number {
    return this.sp - this.fence;
  }

  mark(): void {
    if (this.marks.length >= this.limits.maxMarkDepth)
      this.failLimit(`more than ${this.limits.maxMarkDepth} nested MARKs`);
    this.marks.push(this.fence);
    this.fence = this.sp;
  }

  /**
   * Pops the innermost mark and returns where its items start; they end at `markEnd` and stay readable in
   * `stack` until the next push, so handlers consume them in place.
   */
  popMarkRange(): number {
    const start = this.fence;
    this.markEnd = this.sp;
    const outer = this.marks.pop();
    if (outer === undefined) {
      if (!this.lenient) this.fail('IndexError', 'pop from empty list', 'stack');
      this.sp = 0;
      return 0;
    }
    this.fence = outer;
    this.sp = start;
    return start;
  }

  /** pops the innermost mark and returns its items as a new array */
  popMark(): PyValue[] {
    const start = this.popMarkRange();
    return this.stack.slice(start, this.markEnd);
  }

  // ---- memo ----

  memoPut(index: number): void {
    if (index < 0) this.fail('ValueError', 'negative PUT argument', 'value');
    const v = this.top();
    let r: PutResult;
    if (typeof v === 'string') r = this.memo.put(index, v, false);
    else if (this.retainBudget <= 0 && typeof v === 'object' && v !== null) {
      // once the retention budget is spent, plain data containers are remembered by type only, so millions of
      // memoized records do not all stay alive; imports, storages and instances keep their identity
      const kept = summaryOf(v);
      r = this.memo.put(index, kept, kept !== v || SUMMARIES.has(kept));
    } else r = this.memo.put(index, v, false);
    if (r === PUT_LIMIT) this.failLimit(`more than ${this.limits.maxMemoEntries} memo entries`);
    else if (r === PUT_DROPPED)
      this.note(
        'memo-budget',
        `memoized strings exceed ${this.limits.maxMemoStringBytes} bytes; later ones are not remembered`,
      );
    else if (r === PUT_SPREAD)
      this.failLimit(`memo indices spread wider than ${this.limits.maxMemoEntries} slots`);
  }

  memoGet(index: number): PyValue {
    const v = this.memo.get(index);
    if (v === undefined) {
      if (this.lenient) return UNKNOWN;
      this.fail('KeyError', String(index), 'memo');
    }
    if (v === DROPPED_STRING) {
      if (this.lenient) return UNKNOWN;
      this.failLimit(`a memoized string past the ${this.limits.maxMemoStringBytes}-byte budget was fetched`);
    }
    return v;
  }

  /** the number of memo entries (len(memo) in CPython: where MEMOIZE writes) */
  get memoCount(): number {
    return this.memo.count;
  }

  // ---- imports and calls ----

  importGlobal(opcode: string, rawModule: string, rawName: string): PyValue {
    let module = rawModule;
    let name = rawName;
    if (this.proto < 3) [module, name] = mapPython2Name(rawModule, rawName);
    return this.host.importGlobal({ opcode, offset: this.opStart, rawModule, rawName, module, name });
  }

  importExtension(opcode: string, code: number): PyValue {
    const key = this.extensions.get(code);
    if (key === undefined) {
      this.host.note?.({
        rule: 'ext-unregistered',
        message: `${opcode} ${code} imports through the copyreg extension registry; no add_extension call registered it in this stream`,
        offset: this.opStart,
        opcode,
      });
      if (this.lenient) return UNKNOWN;
      if (code <= 0) this.fail('UnpicklingError', 'EXT specifies code <= 0', 'value');
      this.fail('ValueError', `unregistered extension code ${code}`, 'value');
    }
    return this.host.importGlobal({
      opcode,
      offset: this.opStart,
      rawModule: key[0],
      rawName: key[1],
      module: key[0],
      name: key[1],
    });
  }

  call(opcode: CallOpcode, callee: PyValue, args: PyValue, kwargs?: PyValue): PyValue {
    return this.host.call({ opcode, offset: this.opStart, callee, args, kwargs });
  }

  persistentLoad(opcode: 'PERSID' | 'BINPERSID', pid: PyValue): PyValue {
    return this.host.persistentLoad(pid, opcode, this.opStart);
  }

  // ---- containers (respecting the retention budget) ----

  /** a new list, or once the retention budget is spent a shared stand-in (nothing would be kept in it) */
  newList(cls = 'builtins.list'): PyList {
    return this.retainBudget-- > 0 ? new PyList(cls) : listSummary(cls);
  }

  newDict(cls = 'builtins.dict'): PyDict {
    return this.retainBudget-- > 0 ? new PyDict(cls) : dictSummary(cls);
  }

  newSet(cls: string): PySet {
    this.retainBudget--;
    return new PySet(cls);
  }

  newTuple(items: PyValue[]): PyTuple {
    return new PyTuple(items);
  }

  /** list.extend(stack[start:end]) within the retention budget */
  appendItems(list: PyList, items: readonly PyValue[], start = 0, end = items.length): void {
    if (this.retainBudget <= 0) {
      this.note('retention-budget', 'container contents beyond the retention budget were counted, not kept');
      return;
    }
    const n = end - start;
    list.length += n;
    const keep = Math.min(n, this.retainBudget);
    if (keep < n)
      this.note('retention-budget', 'container contents beyond the retention budget were counted, not kept');
    for (let i = 0; i < keep; i++) list.items.push(items[start + i]);
    this.retainBudget -= keep;
  }

  /** dict[k] = v for the key/value pairs in items[start:end] */
  setDictItems(dict: PyDict, items: readonly PyValue[], start = 0, end = items.length): void {
    if (this.retainBudget <= 0) {
      this.note('retention-budget', 'container contents beyond the retention budget were counted, not kept');
      return;
    }
    for (let i = start; i + 1 < end; i += 2) {
      const k = items[i];
      const idx = dictIndexOf(dict, k);
      if (idx >= 0) {
        dict.values[idx] = items[i + 1];
        continue;
      }
      dict.size++;
      if (this.retainBudget > 0) {
        this.retainBudget--;
        dict.index?.set(dictKey(k), dict.keys.length);
        dict.keys.push(k);
        dict.values.push(items[i + 1]);
      } else {
        this.note(
          'retention-budget',
          'container contents beyond the retention budget were counted, not kept',
        );
      }
    }
  }

  /** Python 2 str payloads (STRING/BINSTRING/SHORT_BINSTRING): text if ASCII/UTF-8 decodes, else bytes. */
  decodeLegacyString(start: number, end: number): PyValue {
    try {
      return decodeAscii(this.buf, start, end);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      // torch.load passes encoding='utf-8'; the stock default is ASCII. Hosts that care re-check the bytes.
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(this.buf.subarray(start, end));
      } catch {
        this.fail('UnicodeDecodeError', e.message, 'decode');
      }
    }
  }
}

/** shared stand-ins by Python type, for plain data once the retention budget is spent */
const DICT_SUMMARIES = new Map<string, PyDict>();
const LIST_SUMMARIES = new Map<string, PyList>();
const SET_SUMMARIES = new Map<string, PySet>();
const TUPLE_SUMMARY = new PyTuple([]);
const TUPLE_SUMMARIES = new Map<string, PyTuple>();
const BYTES_SUMMARY = new PyBytes(0, null, false);
/** every stand-in above, so the memo can store them by number rather than one reference per slot */
const SUMMARIES = new Set<PyValue>([TUPLE_SUMMARY, BYTES_SUMMARY, FLOAT_SUMMARY]);

export function dictSummary(cls: string): PyDict {
  let d = DICT_SUMMARIES.get(cls);
  if (d === undefined) {
    DICT_SUMMARIES.set(cls, (d = new PyDict(cls)));
    SUMMARIES.add(d);
  }
  return d;
}

export function listSummary(cls: string): PyList {
  let l = LIST_SUMMARIES.get(cls);
  if (l === undefined) {
    LIST_SUMMARIES.set(cls, (l = new PyList(cls)));
    SUMMARIES.add(l);
  }
  return l;
}

function setSummary(cls: string): PySet {
  let x = SET_SUMMARIES.get(cls);
  if (x === undefined) {
    SET_SUMMARIES.set(cls, (x = new PySet(cls)));
    SUMMARIES.add(x);
  }
  return x;
}

const TENSOR_SUMMARIES = new Map<string, PyTensor>();

/**
 * A tensor stands for all tensors of its type, dtype and layout once the retention budget is spent: each tensor
 * was checked and counted when it was rebuilt; what a later reference to it needs is its type.
 */
function tensorSummary(t: PyTensor): PyTensor {
  const last = lastTensorSummary;
  if (
    last !== null &&
    last.dtype === t.dtype &&
    last.layout === t.layout &&
    last.isParameter === t.isParameter &&
    last.subclass === t.subclass
  )
    return last;
  lastTensorSummary = tensorSummaryByKey(t);
  return lastTensorSummary;
}
let lastTensorSummary: PyTensor | null = null;

function tensorSummaryByKey(t: PyTensor): PyTensor {
  const key = `${t.isParameter ? 'P' : 'T'}|${t.subclass ?? ''}|${t.dtype}|${t.layout}`;
  let s = TENSOR_SUMMARIES.get(key);
  if (s === undefined) {
    s = new PyTensor(t.dtype, [], null, t.layout);
    s.isParameter = t.isParameter;
    s.subclass = t.subclass;
    TENSOR_SUMMARIES.set(key, s);
    SUMMARIES.add(s);
  }
  return s;
}

function tupleSummary(cls: string | null): PyTuple {
  if (cls === null) return TUPLE_SUMMARY;
  let t = TUPLE_SUMMARIES.get(cls);
  if (t === undefined) {
    t = new PyTuple([]);
    t.cls = cls;
    TUPLE_SUMMARIES.set(cls, t);
    SUMMARIES.add(t);
  }
  return t;
}

/** the shared stand-in of a plain data value (class checks, not `kind`: this runs for every memo write) */
function summaryOf(v: PyObject): PyValue {
  if (v instanceof PyTuple) return tupleSummary(v.cls);
  if (v instanceof PyDict) return dictSummary(v.cls);
  if (v instanceof PyFloat) return FLOAT_SUMMARY;
  if (v instanceof PyList) return listSummary(v.cls);
  if (v instanceof PySet) return setSummary(v.cls);
  if (v instanceof PyBytes) return BYTES_SUMMARY;
  if (v instanceof PyTensor) return tensorSummary(v);
  return v;
}

/** Python-equality key for the index: True == 1, 1.0 == 1; other objects compare by identity. */
function dictKey(k: PyValue): unknown {
  if (typeof k === 'boolean') return k ? 1 : 0;
  if (k instanceof PyFloat) return k.value;
  return k;
}

/** index of key k in dict, or -1; small dicts are scanned, larger ones get an index on first use */
function dictIndexOf(d: PyDict, k: PyValue): number {
  const keys = d.keys;
  const n = keys.length;
  if (n === 0) return -1;
  const key = dictKey(k);
  if (n <= 8) {
    for (let i = 0; i < n; i++) if (dictKey(keys[i]) === key) return i;
    return -1;
  }
  let index = d.index;
  if (index === null) {
    index = new Map();
    for (let i = 0; i < n; i++) if (!index.has(dictKey(keys[i]))) index.set(dictKey(keys[i]), i);
    d.index = index;
  }
  return index.get(key) ?? -1;
}
