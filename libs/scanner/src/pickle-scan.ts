import {
  Machine,
  type CallEvent,
  type ImportEvent,
  type MachineHost,
  type PickleFailure,
  type RunResult,
  type StructuralNote,
} from '@brine/pickle/machine';
import { mapPython2Name } from '@brine/pickle/python2-names';
import {
  PyBytes,
  PyDict,
  PyGlobal,
  PyInstance,
  PyList,
  PyStorage,
  PyTensor,
  PyTuple,
  pyClassRepr,
  pyStr,
  toSafeInt,
  UNKNOWN,
  type PyValue,
} from '@brine/pickle/values';
import { CHAINED_LOADERS } from './analysis/threats';
import { harmlessEntry } from './analysis/harmless';
import type { Severity } from './report';
import type { ScanContext } from './scan-context';
import { SliceSource, type ByteSource } from '@brine/bytes';
import { calleeName, evaluateCall, type CallContext } from './torch/call-models';
import { DTYPES, dtypeOfGlobal } from './torch/dtypes';
import type { Loader, WeightsOnlyJudge } from './torch/judge';

/** severity of the machine's structural notes */
const NOTE_SEVERITY: Readonly<Record<string, Severity>> = {
  'frame-straddle': 'dangerous',
  'frame-nested': 'suspicious',
  'frame-overrun': 'suspicious',
  'frame-truncated': 'unknown',
  'ext-unregistered': 'dangerous',
  'large-allocation': 'suspicious',
  'line-at-eof': 'info',
  'retention-budget': 'info',
  'memo-budget': 'info',
  'long-string': 'info',
  'long-int': 'info',
};

export interface PickleWalkOptions {
  /** archive entry (or null for the file) — goes into every finding */
  entry: string | null;
  /** the judge, when torch.load(weights_only=True) would unpickle this very stream */
  judge: WeightsOnlyJudge | null;
  /** what BINPERSID resolves to */
  loader: Loader;
  /** reading starts here (absolute offset in `source`) */
  start: number;
  /** bytes read first (default: a whole window); a small first read keeps probes of non-pickles cheap */
  firstWindow?: number;
}

export interface PickleWalkResult {
  /** the value STOP returned (undefined when the walk did not reach STOP) */
  value: PyValue | undefined;
  failure: PickleFailure | null;
  /** offset just after STOP (or where the walk failed) */
  end: number;
  protocol: number;
  opcodes: number;
}

/** a value made by builtins.getattr: an attribute the file fetched, which may be any callable */
function fetchedAttribute(v: PyValue): v is PyInstance {
  return v instanceof PyInstance && calleeName(v.callee) === 'builtins.getattr';
}

/** imported globals and fetched attributes among a call's arguments (into tuples, lists and dicts, `depth` down) */
function* callablesIn(v: PyValue, depth: number): Generator<PyGlobal | PyInstance> {
  if (v instanceof PyGlobal || fetchedAttribute(v)) {
    yield v;
    return;
  }
  if (depth === 0) return;
  if (v instanceof PyTuple || v instanceof PyList) for (const x of v.items) yield* callablesIn(x, depth - 1);
  else if (v instanceof PyDict) for (const x of v.values) yield* callablesIn(x, depth - 1);
}

/** whether a call's arguments hold a tensor (directly or one tuple down): the call wraps it */
function wrapsTensor(args: PyValue): boolean {
  if (!(args instanceof PyTuple)) return false;
  for (const a of args.items) {
    if (a instanceof PyTensor) return true;
    if (a instanceof PyTuple && a.items.some((x) => x instanceof PyTensor)) return true;
  }
  return false;
}

/**
 * The machine's host during a scan: records imports and calls for the report, feeds the judge (when this pickle
 * is the one torch.load reads), models what calls and persistent ids evaluate to, and turns structural notes into
 * findings. It never executes anything.
 */
class ScanHost implements MachineHost {
  readonly watchedOpcodes: Uint8Array | undefined;
  machine!: Machine;
  private readonly storages = new Map<string, PyStorage>();

  constructor(
    private readonly ctx: ScanContext,
    private readonly opts: PickleWalkOptions,
    private readonly source: ByteSource,
  ) {
    this.watchedOpcodes = opts.judge?.watchedOpcodes;
  }

  private get judge(): WeightsOnlyJudge | null {
    const j = this.opts.judge;
    return j && j.anyAlive ? j : null;
  }

  opcode(code: number): void {
    const judge = this.judge;
    if (judge) judge.opcode(code);
    else this.machine.stopWatching();
  }

  importGlobal(ev: ImportEvent): PyValue {
    const [module, name] = mapPython2Name(ev.rawModule, ev.rawName);
    this.ctx.recordImport(ev, module, name, this.opts.entry);
    this.judge?.importGlobal(ev);
    // EXT1/2/4 import through the copyreg registry, which only a call registered: counted as a call of the name
    if (ev.opcode.startsWith('EXT')) this.ctx.markCalled(`${module}.${name}`, ev.opcode, this.at(ev));
    return new PyGlobal(module, name);
  }

  private at(ev: { offset: number; opcode: string }) {
    return { entry: this.opts.entry, offset: ev.offset, opcode: ev.opcode };
  }

  /** a call's callee, and what it is given when it calls what it is given, counted as called */
  private recordCall(ev: CallEvent, name: string | null): void {
    if (name) this.ctx.markCalled(name, ev.opcode, this.at(ev));
    else if (fetchedAttribute(ev.callee)) this.fetchedAttributeUsed(ev.callee, 'calls', ev.opcode, ev.offset);
    // a vetted callee that never calls its arguments keeps them inert; any other callee may call what it is given
    if (name && harmlessEntry(name)?.calls === 'none') return;
    for (const v of callablesIn(ev.args, 3)) {
      if (v instanceof PyGlobal) this.ctx.markCalled(v.fullName, 'ARGUMENT', this.at(ev));
      else this.fetchedAttributeUsed(v, `passes to ${name ?? 'a call'}`, ev.opcode, ev.offset);
    }
  }

  private fetchedAttributeUsed(v: PyInstance, what: string, opcode: string, offset: number): void {
    const args = v.args instanceof PyTuple ? v.args.items : [];
    const owner = args[0] instanceof PyGlobal ? args[0].fullName : pyClassRepr(args[0] ?? null);
    const attr = typeof args[1] === 'string' ? args[1] : '?';
    this.ctx.add({
      severity: 'dangerous',
      rule: 'call-fetched-attribute',
      entry: this.opts.entry,
      offset,
      opcode,
      module: 'builtins',
      name: 'getattr',
      message: `${what} an attribute fetched while loading (getattr(${owner}, ${JSON.stringify(attr)})): what it runs is chosen by the file, and Brine cannot vouch for it`,
    });
  }

  call(ev: CallEvent): PyValue {
    this.judge?.call(ev, this.machine);
    const name = calleeName(ev.callee);
    this.recordCall(ev, name);
    if (name) this.special(name, ev);
    const c: CallContext = {
      profile: null,
      machine: this.machine,
      mode: ev.opcode === 'NEWOBJ' ? 'new' : 'call',
      uncertain: false,
    };
    let value: PyValue;
    try {
      value = evaluateCall(c, ev.callee, ev.args);
    } catch {
      return new PyInstance(ev.callee, ev.args, ev.opcode);
    }
    // a tensor rebuilt from storage (not a wrapper around a tensor, like a Parameter) counts once
    if (value instanceof PyTensor && !wrapsTensor(ev.args))
      this.ctx.tensorsRebuilt.add(value.dtype, value.numel, value.storage?.location);
    return value;
  }

  /** calls whose arguments change what the rest of the stream means */
  private special(name: string, ev: CallEvent): void {
    const args = ev.args instanceof PyTuple ? ev.args.items : [];
    if (name === 'copyreg.add_extension' && args.length === 3) {
      const code = toSafeInt(args[2]);
      if (typeof args[0] === 'string' && typeof args[1] === 'string' && code !== null) {
        this.machine.extensions.set(code, [args[0], args[1]]);
      }
    }
    if (CHAINED_LOADERS.has(name)) {
      const payload = args[0];
      if (
        payload instanceof PyBytes &&
        payload.streamOffset !== null &&
        this.ctx.depth < this.ctx.limits.maxDepth
      ) {
        this.ctx.nested.push({
          entry: `${this.opts.entry ?? ''}@${payload.streamOffset}`,
          source: new SliceSource(this.source, payload.streamOffset, payload.length),
          loader: name,
          offset: ev.offset,
        });
      } else {
        this.ctx.add({
          severity: 'dangerous',
          rule: 'chained-load-unscanned',
          entry: this.opts.entry,
          offset: ev.offset,
          opcode: ev.opcode,
          module: name.slice(0, name.lastIndexOf('.')),
          name: name.slice(name.lastIndexOf('.') + 1),
          message: `${name} loads a payload built at load time; it cannot be scanned statically`,
        });
      }
    }
  }

  build(target: PyValue, state: PyValue, offset: number): void {
    this.judge?.build(target, state, this.machine);
    if (fetchedAttribute(target)) this.fetchedAttributeUsed(target, 'builds (BUILD)', 'BUILD', offset);
    const joblib = joblibArray(target, state);
    if (joblib) this.machine.interrupt = joblib;
    if (target instanceof PyGlobal) {
      const rec = this.ctx.imports.get(target.fullName);
      if (rec && !rec.calls.includes('BUILD')) rec.calls.push('BUILD');
      this.ctx.add({
        severity: 'dangerous',
        rule: 'build-on-import',
        entry: this.opts.entry,
        offset,
        opcode: 'BUILD',
        module: target.module,
        name: target.name,
        message: `BUILD sets attributes on the imported object ${target.fullName} itself (monkey-patching at load time)`,
      });
    }
  }

  append(target: PyValue, _items: readonly PyValue[], _start: number, _end: number, opcode: string): void {
    this.judge?.append(target, opcode);
  }

  setItems(target: PyValue, items: readonly PyValue[], start: number, end: number, opcode: string): void {
    this.judge?.setItems(target, items, start, end, opcode);
  }

  persistentLoad(pid: PyValue, opcode: 'PERSID' | 'BINPERSID', offset: number): PyValue {
    if (opcode === 'BINPERSID') this.judge?.persistentLoad(pid);
    const loader = this.opts.loader;
    if (!(pid instanceof PyTuple) || pid.items.length === 0) return new PyInstance(UNKNOWN, pid, 'PERSID');
    const tag =
      typeof pid.items[0] === 'string'
        ? pid.items[0]
        : pid.items[0] instanceof PyBytes && pid.items[0].data
          ? Buffer.from(pid.items[0].data).toString('latin1')
          : null;
    if (tag === 'module' && pid.items.length >= 2) {
      this.ctx.add({
        severity: 'info',
        rule: 'legacy-module-source',
        entry: this.opts.entry,
        offset,
        opcode,
        message: 'a legacy full-model pickle: the module class is stored with its source code',
      });
      return pid.items[1];
    }
    if (tag !== 'storage' || pid.items.length < 5) return new PyInstance(UNKNOWN, pid, 'PERSID');
    const items = pid.items;
    const storageType = items[1];
    const key = items[2];
    const location = items[3];
    const numelV = items[4];
    const st = calleeName(storageType);
    let dtype = 'unknown';
    if (st === 'torch.storage.UntypedStorage') dtype = 'uint8';
    else if (st) dtype = dtypeOfGlobal(st)?.dtype ?? 'unknown';
    const el = DTYPES.get(dtype)?.elementSize ?? 1;
    let numel = toSafeInt(numelV) ?? 0;
    const keyStr = pyStr(key);
    // the record torch reads this storage from is raw data, not a pickle (the zip scan skips it)
    const record = loader.kind === 'zip' ? loader.records.storageRecord(keyStr) : keyStr;
    if (loader.kind === 'zip') loader.records.lookup(record);
    const cached = this.storages.get(keyStr);
    if (cached && loader.kind === 'zip') return cached;
    if (loader.kind === 'legacy') {
      const view = pid.items[5];
      if (view instanceof PyTuple && view.items.length === 3) numel = toSafeInt(view.items[2]) ?? numel;
    }
    if (numel * el > 1e12) {
      this.ctx.add({
        severity: 'suspicious',
        rule: 'large-allocation',
        entry: this.opts.entry,
        offset,
        opcode,
        message: `a storage of ${numel} elements (${numel * el} bytes) would be allocated at load time`,
      });
    }
    const storage = new PyStorage(dtype, el, record, numel, pyStr(location));
    // a zip's storages are looked up again here (one record per key); a legacy file's are the loader's
    if (loader.kind === 'legacy') loader.storages.set(keyStr, storage);
    else this.storages.set(keyStr, storage);
    return storage;
  }

  note(n: StructuralNote): void {
    this.ctx.add({
      severity: NOTE_SEVERITY[n.rule] ?? 'suspicious',
      rule: n.rule,
      entry: this.opts.entry,
      offset: n.offset,
      opcode: n.opcode,
      message: n.message,
    });
  }
}

/**
 * Serves the walk's windows and reads the next window while the machine works on the current one. A window that
 * starts inside the previous one (an opcode cut by the window's end) is the previous tail plus the read-ahead.
 */
class WindowReader {
  private last: Uint8Array = new Uint8Array(0);
  private lastAt = 0;
  private ahead: { at: number; data: Promise<Uint8Array> } | null = null;

  constructor(
    private readonly src: ByteSource,
    /** how much is read ahead after each window */
    public windowBytes: number,
  ) {}

  async read(at: number, len: number): Promise<Uint8Array> {
    if (len <= 0) return new Uint8Array(0);
    const lastEnd = this.lastAt + this.last.length;
    let out: Uint8Array;
    if (this.ahead !== null && this.ahead.at === lastEnd && at >= this.lastAt && at <= lastEnd) {
      const ahead = await this.ahead.data;
      const tail = this.last.subarray(at - this.lastAt);
      out = tail.length === 0 ? ahead : Buffer.concat([tail, ahead]);
      if (out.length < len)
        out = Buffer.concat([out, await this.src.read(at + out.length, len - out.length)]);
    } else out = await this.src.read(at, len);
    if (out.length > len) out = out.subarray(0, len);
    if (out.length !== len) throw new Error(`short read at ${at}: wanted ${len} bytes, got ${out.length}`);
    this.last = out;
    this.lastAt = at;
    const end = at + out.length;
    this.ahead = null;
    if (end < this.src.size) {
      const data = this.src.read(end, Math.min(this.windowBytes, this.src.size - end));
      data.catch(() => undefined); // a failed read-ahead surfaces when (if) it is used
      this.ahead = { at: end, data };
    }
    return out;
  }
}

/** joblib's NumpyArrayWrapper: after its BUILD the stream holds the array's bytes (or, for objects, a pickle) */
interface JoblibArray {
  kind: 'joblib-array';
  bytes: number | null;
  aligned: boolean;
}

const JOBLIB_WRAPPERS = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

function joblibArray(target: PyValue, state: PyValue): JoblibArray | null {
  if (!(target instanceof PyInstance) || !(state instanceof PyDict)) return null;
  if (!JOBLIB_WRAPPERS.has(calleeName(target.callee) ?? '')) return null;
  const get = (k: string): PyValue | undefined => {
    const i = state.keys.indexOf(k);
    return i < 0 ? undefined : state.values[i];
  };
  const shape = get('shape');
  const dims = shape instanceof PyTuple ? shape.items.map((x) => toSafeInt(x) ?? 0) : [];
  const numel = dims.reduce((a, b) => a * b, 1);
  const dtype = get('dtype');
  const code = dtype instanceof PyInstance && dtype.args instanceof PyTuple ? dtype.args.items[0] : null;
  const m = typeof code === 'string' ? /^[<>|=]?([a-zA-Z])(\d*)/.exec(code) : null;
  const alignment = get('numpy_array_alignment_bytes');
  const aligned = alignment !== undefined && alignment !== null;
  if (!m || m[1] === 'O') return { kind: 'joblib-array', bytes: null, aligned };
  const size = Number(m[2] || '1') * (m[1] === 'U' ? 4 : 1);
  return { kind: 'joblib-array', bytes: numel * size, aligned };
}

/**
 * Walks one pickle from `opts.start` to its STOP, reading `source` in windows so memory stays bounded whatever
 * the stream's size. Returns where it stopped; a failure (truncation, stack underflow, limits) is recorded as a
 * finding and everything found before it is kept.
 */
export async function walkPickle(
  ctx: ScanContext,
  source: ByteSource,
  opts: PickleWalkOptions,
): Promise<PickleWalkResult> {
  const host = new ScanHost(ctx, opts, source);
  const machine = new Machine(host, ctx.limits);
  host.machine = machine;
  if (opts.judge) opts.judge.loader = opts.loader;
  let offset = opts.start;
  const total = source.size;
  let result: RunResult = 'need-more';
  let lastProgress = 0;
  let windowBytes = opts.firstWindow ?? ctx.limits.windowBytes;
  const reader = new WindowReader(source, windowBytes);
  while (result === 'need-more' || result === 'interrupt') {
    const len = Math.min(Math.max(windowBytes, machine.wanted), total - offset);
    const window = await reader.read(offset, len);
    windowBytes = reader.windowBytes = ctx.limits.windowBytes;
    machine.setWindow(window, offset, total);
    result = machine.run();
    if (result === 'interrupt') {
      offset = await skipJoblibArray(
        ctx,
        source,
        machine.interrupt as JoblibArray,
        machine.offset,
        opts.entry,
      );
      machine.interrupt = null;
      machine.wanted = 0;
      continue;
    }
    if (result === 'need-more') {
      if (machine.offset === offset && (machine.wanted <= window.length || offset + window.length >= total)) {
        throw new Error(`pickle walk made no progress at ${offset}`);
      }
      offset = machine.offset;
      if (offset - lastProgress > 64 * 1024 * 1024) {
        lastProgress = offset;
        ctx.progress('pickle', offset, total);
      }
    }
  }
  ctx.opcodes += machine.opcodeCount;
  const failure = result === 'failed' ? machine.failure : null;
  if (failure) {
    opts.judge?.machineFailure(failure);
    ctx.incomplete = true;
    ctx.add({
      severity: 'unknown',
      rule: failure.kind === 'limit' ? 'scan-limit' : 'pickle-error',
      entry: opts.entry,
      offset: failure.offset,
      opcode: failure.opcode,
      message:
        failure.kind === 'limit'
          ? `${failure.message}; the rest of the stream was not scanned`
          : `the pickle cannot be read to its end (${failure.pyType}${failure.message ? `: ${failure.message}` : ''}); everything before this point was scanned`,
    });
  }
  return {
    value: result === 'stop' ? machine.result : undefined,
    failure,
    end: machine.offset,
    protocol: machine.proto,
    opcodes: machine.opcodeCount,
  };
}

/**
 * Walks bytes that may or may not be a pickle (an archive member nobody is known to unpickle). The walk runs in
 * a scratch context: when it reaches STOP the bytes are a pickle and everything it found counts; otherwise they
 * are data, and only what is dangerous counts (a payload followed by garbage still runs in a real unpickler).
 */
export async function walkTentatively(
  ctx: ScanContext,
  source: ByteSource,
  opts: PickleWalkOptions,
): Promise<{ parsed: boolean; result: PickleWalkResult }> {
  const scratch = ctx.child();
  const result = await walkPickle(scratch, source, { firstWindow: 64 * 1024, ...opts });
  const parsed = result.failure === null;
  ctx.absorb(scratch, parsed ? 'all' : 'dangerous');
  return { parsed, result };
}

/** the bytes joblib wrote after a NumpyArrayWrapper: skipped (raw data) or walked (an object array's pickle) */
async function skipJoblibArray(
  ctx: ScanContext,
  source: ByteSource,
  a: JoblibArray,
  at: number,
  entry: string | null,
): Promise<number> {
  let offset = at;
  if (a.bytes === null) {
    const r = await walkPickle(ctx, source, { entry, judge: null, loader: { kind: 'none' }, start: offset });
    ctx.add({
      severity: 'info',
      rule: 'joblib-object-array',
      entry,
      offset,
      message: 'a joblib object array: its elements are a nested pickle (scanned)',
    });
    return r.failure ? source.size : r.end;
  }
  if (a.aligned) {
    const pad = await source.read(offset, 1);
    offset += 1 + (pad[0] ?? 0);
  }
  return offset + a.bytes;
}
