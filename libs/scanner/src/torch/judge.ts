import { type CallEvent, type ImportEvent, type Machine, type PickleFailure } from '@brine/pickle/machine';
import { mapPython2Name } from '@brine/pickle/python2-names';
import {
  PyBytes,
  PyDict,
  PyGlobal,
  PyList,
  PyStorage,
  PyTensor,
  PyTuple,
  PyUnknown,
  pyHashable,
  pyStr,
  pyTypeName,
  toSafeInt,
  type PyValue,
} from '@brine/pickle/values';
import { TORCH_VERSIONS, type TorchVersion, type VersionResult } from '../report';
import {
  CallError,
  calleeName,
  classRepr,
  evaluateCall,
  objectRepr,
  typeName,
  type CallContext,
} from './call-models';
import { DTYPE_SCALAR_NAME, DTYPES, dtypeOfGlobal } from './dtypes';
import {
  blockedGlobal,
  MESSAGE_STYLES,
  policy,
  render,
  runtime,
  unpackMessage,
  unsupportedGlobal,
  type Failure,
} from './messages';
import { PROFILES, type TorchProfile } from './profiles';

/**
 * How the pickle being walked is loaded by torch: the persistent_load in effect decides what BINPERSID does.
 *  - zip: `_load`'s persistent_load over the archive's `data/<key>` records
 *  - legacy: `_legacy_load`'s persistent_load (6-tuple storage ids, views)
 *  - none: a bare weights-only `load()` (legacy magic/protocol/sys_info/keys pickles)
 */
export type Loader =
  | { kind: 'zip'; records: ZipRecords }
  | { kind: 'legacy'; storages: Map<string, PyStorage> }
  | { kind: 'none' };

/** the records of a zip archive as torch's persistent_load finds them (miniz's lookup, see @brine/archives, zip/miniz-index.ts) */
export interface ZipRecords {
  /** the record holding storage `key` (`data/<key>`) */
  storageRecord(key: string): string;
  /** the record torch reads for a name relative to the archive folder, or undefined when miniz finds none */
  lookup(record: string): { size: number; entry: string } | undefined;
}

interface ProfileState {
  readonly profile: TorchProfile;
  /** default allowlist plus import-time registrations plus operator additions */
  readonly user: ReadonlySet<string>;
  failure: Failure | null;
  /** decided outside the weights-only unpickler (safetensors path rule, torch.jit.load): later events do not count */
  settled: boolean;
  uncertain: boolean;
  /** zip storages already loaded, by key (the first dtype wins) */
  readonly loadedKeys: Set<string>;
  /** something a user of this version should know about the load, whatever its outcome */
  note: string | null;
}

/**
 * Replays torch.load(weights_only=True) of each torch version over one scan. Container code reports structural
 * outcomes (zip reader errors, magic numbers); the pickle walk reports opcodes, imports and calls in stream order.
 * For each version the first failure wins, exactly as the real unpickler stops at its first error.
 */
export class WeightsOnlyJudge {
  readonly states: ProfileState[];
  loader: Loader = { kind: 'none' };
  /** union of opcode bytes some version rejects: the machine reports these before executing them */
  readonly watchedOpcodes: Uint8Array;

  constructor(
    private readonly extraAllowed: readonly string[] = [],
    versions: readonly TorchVersion[] = TORCH_VERSIONS,
  ) {
    this.states = versions.map((v) => {
      const profile = PROFILES[v];
      const user = new Set([...profile.importTime, ...extraAllowed]);
      return {
        profile,
        user,
        failure: null,
        settled: false,
        uncertain: false,
        loadedKeys: new Set<string>(),
        note: null,
      };
    });
    this.open = this.states.length;
    this.watchedOpcodes = new Uint8Array(256);
    for (let b = 0; b < 256; b++) {
      if (this.states.some((s) => s.profile.accepts[b] === 0)) this.watchedOpcodes[b] = 1;
    }
  }

  /** versions whose outcome is still open (kept as a count: the walk asks for every container it fills) */
  private open: number;

  get anyAlive(): boolean {
    return this.open > 0;
  }

  /** the versions still open, as one array rebuilt only when one closes (the walk asks per container it fills) */
  alive(): readonly ProfileState[] {
    if (this.aliveCache === null)
      this.aliveCache = this.states.filter((s) => s.failure === null && !s.settled);
    return this.aliveCache;
  }

  private aliveCache: ProfileState[] | null = null;

  state(v: TorchVersion): ProfileState {
    const s = this.states.find((x) => x.profile.version === v);
    if (!s) throw new Error(`version ${v} not judged`);
    return s;
  }

  fail(s: ProfileState, f: Failure): void {
    if (s.failure === null && !s.settled) {
      s.failure = f;
      this.open--;
      this.aliveCache = null;
    }
  }

  /** decides a version's outcome now; nothing later changes it */
  settle(v: TorchVersion, failure: Failure | null, uncertain = false): void {
    const s = this.state(v);
    if (s.settled || s.failure !== null) return;
    this.open--;
    this.aliveCache = null;
    s.failure = failure;
    s.uncertain ||= uncertain;
    s.settled = true;
  }

  /** versions whose outcome is still open */
  aliveVersions(): TorchVersion[] {
    return this.alive().map((s) => s.profile.version);
  }

  /** a judge for some of the versions still open here: for a path only those versions take */
  fork(versions: readonly TorchVersion[]): WeightsOnlyJudge {
    return new WeightsOnlyJudge(this.extraAllowed, versions);
  }

  /** takes over the outcomes a fork reached, as final */
  adopt(fork: WeightsOnlyJudge): void {
    for (const s of fork.states)
      this.settle(s.profile.version, s.failure, s.uncertain || s.failure?.uncertain === true);
  }

  /** fails every version still loading, with a failure that may depend on the version */
  failAll(f: Failure | ((p: TorchProfile) => Failure | null)): void {
    for (const s of this.alive()) {
      const r = typeof f === 'function' ? f(s.profile) : f;
      if (r) this.fail(s, r);
    }
  }

  /** attaches a note to the versions `which` selects */
  noteFor(which: (p: TorchProfile) => boolean, note: string): void {
    for (const s of this.states) if (which(s.profile)) s.note = note;
  }

  markUncertain(): void {
    for (const s of this.alive()) s.uncertain = true;
  }

  result(v: TorchVersion): VersionResult {
    const s = this.state(v);
    const note = s.note ? { note: s.note } : {};
    if (s.failure === null)
      return { loads: true, reason: null, ...(s.uncertain ? { uncertain: true } : {}), ...note };
    return {
      loads: false,
      reason: render(s.profile, s.failure),
      ...(s.failure.fix ? { fix: s.failure.fix } : {}),
      ...(s.failure.uncertain || s.uncertain ? { uncertain: true } : {}),
      ...note,
    };
  }

  // ---- pickle events ----

  /** the unpickler looks the byte up in its accepted table before reading anything else */
  opcode(code: number): void {
    for (const s of this.alive()) {
      if (s.profile.accepts[code] === 0) this.fail(s, policy(`Unsupported operand ${code}`));
    }
  }

  importGlobal(ev: ImportEvent): void {
    for (const s of this.alive()) {
      const p = s.profile;
      let module = ev.rawModule;
      let name = ev.rawName;
      if (p.mapsPython2Names) [module, name] = mapPython2Name(module, name);
      const full = `${module}.${name}`;
      if (p.blockedModules.has(module)) this.fail(s, blockedGlobal(full, module));
      else if (p.allowed.has(full) || s.user.has(full)) continue;
      else this.fail(s, unsupportedGlobal(p, full));
    }
  }

  private allowedValue(s: ProfileState, v: PyValue): boolean {
    const n = calleeName(v);
    return n !== null && (s.profile.allowed.has(n) || s.user.has(n));
  }

  /** REDUCE / NEWOBJ (INST, OBJ, NEWOBJ_EX are rejected as opcodes before they can get here) */
  call(ev: CallEvent, machine: Machine): void {
    for (const s of this.alive()) {
      const p = s.profile;
      if (ev.opcode === 'REDUCE') {
        if (!this.allowedValue(s, ev.callee)) {
          this.fail(
            s,
            this.policyFailure(p, `Trying to call reduce for unrecognized function ${pyStr(ev.callee)}`),
          );
          continue;
        }
        this.evaluate(s, machine, ev.callee, ev.args, 'call');
      } else if (ev.opcode === 'NEWOBJ') {
        const name = calleeName(ev.callee);
        if (name === 'torch.nn.parameter.Parameter') this.evaluate(s, machine, ev.callee, ev.args, 'call');
        else if (p.newobjAllowlisted && this.allowedValue(s, ev.callee))
          this.evaluate(s, machine, ev.callee, ev.args, 'new');
        else
          this.fail(
            s,
            this.policyFailure(p, `Trying to instantiate unsupported class ${objectRepr(ev.callee)}`),
          );
      }
    }
  }

  private policyFailure(p: TorchProfile, message: string): Failure {
    return p.runtimeErrorPolicy ? { pyType: 'RuntimeError', message, policy: true } : policy(message);
  }

  private evaluate(
    s: ProfileState,
    machine: Machine,
    callee: PyValue,
    args: PyValue,
    mode: 'call' | 'new',
  ): void {
    const ctx: CallContext = { profile: s.profile, machine, mode, uncertain: false };
    if (mode === 'new') {
      const name = calleeName(callee);
      const d = name ? dtypeOfGlobal(name) : null;
      if (d && d.via !== 'tensor-class') {
        this.fail(
          s,
          runtime(
            'TypeError',
            `cannot create '${d.via === 'dtype' ? 'torch.dtype' : 'StorageType'}' instances`,
          ),
        );
        return;
      }
      if (name && /^torch\._(utils|tensor)\._rebuild|^_codecs\.|^torch\.serialization\./.test(name)) {
        this.fail(s, runtime('TypeError', `object.__new__(X): X is not a type object (function)`));
        return;
      }
    }
    try {
      evaluateCall(ctx, callee, args);
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
      this.fail(s, e.policy ? this.policyFailure(s.profile, e.message) : runtime(e.pyType, e.message));
      return;
    }
    // torch simply calls what the operator (or `import torch`) allowlisted; only gaps in our own models are uncertain
    const name = calleeName(callee);
    const vouched = name !== null && s.user.has(name) && !s.profile.allowed.has(name);
    if (ctx.uncertain && !vouched) s.uncertain = true;
  }

  build(target: PyValue, state: PyValue, machine: Machine): void {
    for (const s of this.alive()) {
      const p = s.profile;
      const t = typeName(target);
      if (target instanceof PyTensor && !target.isParameter && target.subclass === null) {
        this.buildTensor(s, state, machine);
        continue;
      }
      if (t === 'torch.nn.parameter.Parameter' || t === 'collections.OrderedDict') {
        if (
          t === 'collections.OrderedDict' &&
          !(state instanceof PyDict) &&
          !(state instanceof PyUnknown) &&
          state !== null
        ) {
          this.fail(s, runtime('TypeError', `'${pyTypeName(state)}' object is not iterable`));
        }
        continue;
      }
      const allowed = p.buildAllowlisted && (p.allowed.has(t) || s.user.has(t));
      if (!allowed) {
        this.fail(s, this.policyFailure(p, MESSAGE_STYLES[p.messages].cannotBuild(classRepr(t))));
        continue;
      }
      // allowlisted types without __dict__ cannot take a non-empty state
      const noDict = ['builtins.set', 'builtins.complex', 'builtins.bytearray', 'torch.Size', 'torch.device'];
      const empty = state === null || (state instanceof PyDict && state.size === 0);
      if (noDict.includes(t) && !empty) {
        this.fail(
          s,
          runtime('AttributeError', `'${t.replace('builtins.', '')}' object has no attribute '__dict__'`),
        );
      }
    }
  }

  private buildTensor(s: ProfileState, state: PyValue, machine: Machine): void {
    // legacy Tensor.set_(storage, offset, size, stride)
    const items = state instanceof PyTuple ? state.items : null;
    if (!items) {
      s.uncertain = true;
      return;
    }
    const storage = items[0];
    if (storage instanceof PyStorage && items.length === 4) {
      const ctx: CallContext = { profile: s.profile, machine, mode: 'call', uncertain: false };
      try {
        evaluateCall(ctx, new PyGlobal('torch._utils', '_rebuild_tensor'), new PyTuple(items));
      } catch (e) {
        if (!(e instanceof CallError)) throw e;
        this.fail(s, runtime(e.pyType, e.message));
      }
      return;
    }
    s.uncertain = true;
  }

  append(target: PyValue, opcode: string): void {
    // the common case, a plain list, is fine for every version
    if (target instanceof PyList && target.cls === 'builtins.list') return;
    const t = typeName(target);
    for (const s of this.alive()) {
      const p = s.profile;
      const ok =
        (target instanceof PyList && t === 'builtins.list') ||
        (p.appendToAllowlistedListSubclass && target instanceof PyList && s.user.has(t));
      if (ok) continue;
      const verb = MESSAGE_STYLES[p.messages].appendVerb(opcode === 'APPENDS' ? 'APPENDS' : 'APPEND');
      this.fail(s, this.policyFailure(p, `Can only ${verb} lists, but got ${classRepr(t)}`));
    }
  }

  /** SETITEM(S) on `target` with the key/value pairs in items[start:end] */
  setItems(target: PyValue, items: readonly PyValue[], start: number, end: number, opcode: string): void {
    const t = typeName(target);
    const mappingType =
      t === 'builtins.dict' || t === 'collections.OrderedDict' || t === 'collections.Counter';
    // whether a key is hashable does not depend on the version: looked up once
    let unhashable = -1;
    if (target instanceof PyDict)
      for (let i = start; i < end; i += 2)
        if (!pyHashable(items[i])) {
          unhashable = i;
          break;
        }
    for (const s of this.alive()) {
      const p = s.profile;
      if (p.setitemTypeCheck && !mappingType) {
        this.fail(
          s,
          policy(
            `Can only ${opcode} for dict, collections.OrderedDict, collections.Counter, but got ${classRepr(t)}`,
          ),
        );
        continue;
      }
      if (target instanceof PyDict) {
        if (unhashable >= 0)
          this.fail(s, runtime('TypeError', `unhashable type: '${pyTypeName(items[unhashable])}'`));
      } else if (target instanceof PyList) {
        for (let i = start; i < end; i += 2) {
          const idx = toSafeInt(items[i]);
          if (idx === null) {
            this.fail(
              s,
              runtime('TypeError', `list indices must be integers or slices, not ${pyTypeName(items[i])}`),
            );
            break;
          }
          if (target.items.length === target.length && (idx >= target.length || idx < -target.length)) {
            this.fail(s, runtime('IndexError', 'list assignment index out of range'));
            break;
          }
        }
      } else if (target instanceof PyTensor || target instanceof PyUnknown) {
        s.uncertain = true;
      } else {
        const shown = t.startsWith('builtins.') ? t.slice(9) : t;
        this.fail(s, runtime('TypeError', `'${shown}' object does not support item assignment`));
      }
    }
  }

  /** BINPERSID: the unpickler's pid check, then the loader's persistent_load */
  persistentLoad(pid: PyValue): void {
    for (const s of this.alive()) {
      const p = s.profile;
      const isTuple = pid instanceof PyTuple;
      const isInt = typeof pid === 'number' || typeof pid === 'bigint';
      if (p.pidTypeCheckFixed) {
        if (!isTuple && !isInt) {
          this.fail(
            s,
            policy(`persistent_load id must be tuple or int, but got ${classRepr(typeName(pid))}`),
          );
          continue;
        }
      } else if (isInt) {
        this.fail(s, this.policyFailure(p, `persistent_load id must be tuple or int, but got <class 'int'>`));
        continue;
      }
      if (pid instanceof PyTuple && pid.items.length > 0) {
        const tag = asciiOf(pid.items[0]);
        if (tag !== 'storage') {
          const shown = MESSAGE_STYLES[p.messages].pidTagShownAsClass
            ? classRepr(typeName(pid.items[0]))
            : (tag ?? pyStr(pid.items[0]));
          this.fail(s, this.policyFailure(p, `Only persistent_load of storage is allowed, but got ${shown}`));
          continue;
        }
      }
      this.loaderPersistentLoad(s, pid);
    }
  }

  private loaderPersistentLoad(s: ProfileState, pid: PyValue): void {
    const p = s.profile;
    const loader = this.loader;
    if (loader.kind === 'none') {
      this.fail(s, policy('unsupported persistent id encountered'));
      return;
    }
    if (!(pid instanceof PyTuple)) {
      const msg = p.pidTypeCheckFixed ? `saved_id must be a tuple, got ${pyTypeName(pid)}` : '';
      this.fail(s, runtime('AssertionError', msg));
      return;
    }
    if (pid.items.length === 0) {
      this.fail(s, runtime('IndexError', 'tuple index out of range'));
      return;
    }
    const data = pid.items.slice(1);
    const want = loader.kind === 'zip' ? 4 : 5;
    if (data.length !== want) {
      this.fail(s, runtime('ValueError', unpackMessage(p, want, data.length)));
      return;
    }
    const [storageType, key, , numelV] = data;
    const st = calleeName(storageType);
    let dtype: string | null = null;
    if (st === 'torch.storage.UntypedStorage' && loader.kind === 'zip') dtype = 'uint8';
    else if (st) {
      const d = dtypeOfGlobal(st);
      if (d && d.via !== 'dtype') dtype = d.dtype;
      else if (st === 'torch.storage.TypedStorage' || st === 'torch.storage.UntypedStorage') {
        this.fail(s, runtime('AttributeError', `type object '${st}' has no attribute 'dtype'`));
        return;
      }
    }
    if (dtype === null) {
      if (storageType instanceof PyUnknown) s.uncertain = true;
      else {
        this.fail(
          s,
          runtime('AttributeError', `'${pyTypeName(storageType)}' object has no attribute 'dtype'`),
        );
        return;
      }
    }
    const numel = toSafeInt(numelV);
    if (numel === null && !(numelV instanceof PyUnknown)) {
      this.fail(
        s,
        runtime('TypeError', `unsupported operand type(s) for *: '${pyTypeName(numelV)}' and 'int'`),
      );
      return;
    }
    if (loader.kind === 'zip') {
      const k = pyStr(key);
      if (s.loadedKeys.has(k)) return;
      const record = loader.records.storageRecord(k);
      const size = loader.records.lookup(record)?.size;
      if (size === undefined) {
        this.fail(
          s,
          runtime('RuntimeError', `PytorchStreamReader failed locating file ${record}: file not found`),
        );
        return;
      }
      if (p.exactRecordSize && numel !== null && dtype !== null) {
        const el = DTYPES.get(dtype)?.elementSize ?? 1;
        const expected = numel * el;
        if (size !== expected) {
          const scalar = DTYPE_SCALAR_NAME.get(dtype) ?? dtype;
          this.fail(
            s,
            runtime(
              'RuntimeError',
              `record size (${size} bytes) does not match expected size (${expected} bytes = ${numel} elements * ${el} bytes/element) for dtype ${scalar}`,
            ),
          );
          return;
        }
      }
      s.loadedKeys.add(k);
    } else {
      const view = data[4];
      if (
        view !== null &&
        !(view instanceof PyTuple && view.items.length === 3) &&
        !(view instanceof PyUnknown)
      ) {
        this.fail(s, runtime('TypeError', `cannot unpack non-iterable ${pyTypeName(view)} object`));
      }
    }
  }

  /** the walk ended before STOP: every version still loading fails with the same Python exception */
  machineFailure(f: PickleFailure): void {
    if (f.kind === 'limit') {
      for (const s of this.alive()) {
        s.uncertain = true;
        this.fail(s, { pyType: 'ScanLimit', message: f.message, policy: false, uncertain: true });
      }
      return;
    }
    this.failAll(runtime(f.pyType, f.message));
  }
}

/** torch's _maybe_decode_ascii: str as is, bytes decoded as ASCII */
function asciiOf(v: PyValue): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof PyBytes && v.data) return Buffer.from(v.data).toString('latin1');
  return null;
}
