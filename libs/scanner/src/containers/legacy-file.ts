import { TAR_PYTHONS, type TarListing, type TarMember, type TarPython } from '@brine/archives';
import { SliceSource, type ByteSource } from '@brine/bytes';
import { PyList, PyStorage, pyStr, type PyValue } from '@brine/pickle/values';
import { torchTarRead, type TorchTarRead } from '../formats/tar';
import { walkPickle, walkTentatively } from '../pickle-scan';
import type { TorchVersion } from '../report';
import type { ScanContext } from '../scan-context';
import type { WeightsOnlyJudge } from '../torch/judge';
import { runtime, type Failure } from '../torch/messages';
import { PROFILES } from '../torch/profiles';

/**
 * torch.load's path for every file that does not start with a zip local header: the legacy .tar format (refused
 * from 2.6), else five consecutive pickles — magic number, protocol version, sys_info, the object, storage keys —
 * followed by the raw storages. A plain pickle takes this path too: its first pickle is read as the magic number,
 * so it is unpickled (and its payload runs) before the magic check fails. Every pickle is scanned in order.
 */

export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

export interface LegacyOutcome {
  /** the first pickle was torch's magic number */
  legacyTorch: boolean;
  /** the saved object (legacy) or the first pickle's value (plain pickle); undefined when unreadable */
  root: PyValue | undefined;
  /** pickles read to their STOP */
  pickles: number;
  /** the first pickle parsed to its STOP */
  firstComplete: boolean;
}

function equalsInt(v: PyValue | undefined, n: bigint): boolean {
  return (typeof v === 'bigint' && v === n) || (typeof v === 'number' && BigInt(v) === n);
}

export async function scanLegacyPath(
  ctx: ScanContext,
  src: ByteSource,
  entry: string | null,
  judge: WeightsOnlyJudge = ctx.judge,
): Promise<LegacyOutcome> {
  const out: LegacyOutcome = { legacyTorch: false, root: undefined, pickles: 0, firstComplete: false };

  const first = await walkPickle(ctx, src, { entry, judge, loader: { kind: 'none' }, start: 0 });
  ctx.entries.push({
    name: entry ?? '<file>',
    role: 'pickle',
    size: src.size,
    scanned: true,
    protocol: first.protocol,
    opcodes: first.opcodes,
    complete: !first.failure,
  });
  if (first.failure) return out;
  out.pickles = 1;
  out.firstComplete = true;
  out.root = first.value;
  if (!equalsInt(first.value, LEGACY_MAGIC)) {
    judge.failAll(runtime('RuntimeError', 'Invalid magic number; corrupt file?'));
    await scanTrailingPickles(ctx, src, first.end, entry);
    return out;
  }
  out.legacyTorch = true;
  out.root = undefined;

  const proto = await walkPickle(ctx, src, { entry, judge, loader: { kind: 'none' }, start: first.end });
  if (proto.failure) return out;
  if (!equalsInt(proto.value, BigInt(PROTOCOL_VERSION))) {
    judge.failAll(runtime('RuntimeError', `Invalid protocol version: ${pyStr(proto.value ?? null)}`));
  }
  const sysInfo = await walkPickle(ctx, src, { entry, judge, loader: { kind: 'none' }, start: proto.end });
  if (sysInfo.failure) return out;
  const storages = new Map<string, PyStorage>();
  const obj = await walkPickle(ctx, src, {
    entry,
    judge,
    loader: { kind: 'legacy', storages },
    start: sysInfo.end,
  });
  if (obj.failure) return out;
  out.root = obj.value;
  const keys = await walkPickle(ctx, src, { entry, judge, loader: { kind: 'none' }, start: obj.end });
  if (keys.failure) return out;
  out.pickles = 5;
  await checkRawStorages(ctx, judge, src, keys.value, storages, keys.end);
  return out;
}

/** after the key list: for each key, an 8-byte element count and the storage bytes, in key order */
async function checkRawStorages(
  ctx: ScanContext,
  judge: WeightsOnlyJudge,
  src: ByteSource,
  keysValue: PyValue | undefined,
  storages: Map<string, PyStorage>,
  start: number,
): Promise<void> {
  if (!(keysValue instanceof PyList) || keysValue.items.length !== keysValue.length) {
    if (!(keysValue instanceof PyList))
      judge.failAll(runtime('TypeError', `'${pyStr(keysValue ?? null)}' is not iterable`));
    else judge.markUncertain();
    return;
  }
  let offset = start;
  for (const k of keysValue.items) {
    const key = pyStr(k);
    const storage = storages.get(key);
    if (!storage) {
      judge.failAll(runtime('AssertionError', ''));
      return;
    }
    const nbytes = storage.numel * storage.elementSize;
    if (offset + 8 > src.size) {
      judge.failAll(
        runtime('RuntimeError', 'unexpected EOF, expected 8 more bytes. The file might be corrupted.'),
      );
      return;
    }
    const countBytes = await src.read(offset, 8);
    const count = Number(new DataView(countBytes.buffer, countBytes.byteOffset, 8).getBigUint64(0, true));
    if (count * storage.elementSize !== nbytes) {
      judge.failAll(
        runtime(
          'RuntimeError',
          `storage has wrong byte size: expected ${nbytes} got ${count * storage.elementSize}`,
        ),
      );
      return;
    }
    offset += 8 + nbytes;
    if (offset > src.size) {
      judge.failAll(
        runtime(
          'RuntimeError',
          `unexpected EOF, expected ${offset - src.size} more bytes. The file might be corrupted.`,
        ),
      );
      return;
    }
  }
  if (offset < src.size) {
    ctx.add({
      severity: 'info',
      rule: 'trailing-data',
      offset,
      message: `${src.size - offset} bytes follow the last storage; torch ignores them`,
    });
  }
}

/** concatenated pickles after the first STOP: torch.load never reads them, other loaders may */
async function scanTrailingPickles(
  ctx: ScanContext,
  src: ByteSource,
  from: number,
  entry: string | null,
): Promise<void> {
  let offset = from;
  for (let i = 0; i < 64 && offset < src.size; i++) {
    const head = await src.read(offset, 2);
    if (!(head[0] === 0x80 && head.length > 1 && head[1] <= 5)) {
      ctx.add({
        severity: 'info',
        rule: 'trailing-data',
        entry,
        offset,
        message: `${src.size - offset} bytes after the pickle's STOP are not another pickle`,
      });
      return;
    }
    const r = await walkPickle(ctx, src, { entry, judge: null, loader: { kind: 'none' }, start: offset });
    ctx.add({
      severity: 'suspicious',
      rule: 'concatenated-pickle',
      entry,
      offset,
      message: 'another pickle follows the first one in the same stream (a second pickle.load would run it)',
    });
    if (r.failure) return;
    offset = r.end;
  }
}

const TAR_REFUSAL =
  'Cannot use ``weights_only=True`` with files saved in the legacy .tar format. In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.';

/** the reads of torch's legacy tar loader, in its order */
const TORCH_TAR_MEMBERS = ['storages', 'tensors', 'pickle'] as const;

/** where torch.load goes with a file under one Python's tarfile */
type TarPathOutcome =
  | { kind: 'tar'; reads: TorchTarRead[] }
  | { kind: 'legacy'; why: string | null }
  | { kind: 'fails'; failure: Failure };

function tarPathOf(listing: TarListing, size: number): TarPathOutcome {
  if (!listing.opens) {
    if (listing.crashes) return { kind: 'fails', failure: pyException(listing.error ?? 'Error') };
    return { kind: 'legacy', why: null };
  }
  if (listing.listError)
    return { kind: 'legacy', why: `tarfile opens it but then raises ReadError (${listing.listError})` };
  if (listing.listCrash) return { kind: 'fails', failure: pyException(listing.listCrash) };
  const reads: TorchTarRead[] = [];
  const extracted = new Map<string, TorchTarRead>();
  for (const name of TORCH_TAR_MEMBERS) {
    const r = torchTarRead(listing, name, extracted, size);
    reads.push(r);
    if (r.kind === 'missing')
      return { kind: 'fails', failure: runtime('KeyError', `"filename '${name}' not found"`) };
    if (r.kind === 'special' && r.outcome === 'fallback')
      return { kind: 'legacy', why: `tarfile raises a TarError on "${name}" (${r.what})` };
    if (r.kind === 'special' && r.outcome === 'fails') break;
    extracted.set(name, r);
  }
  return { kind: 'tar', reads };
}

/** "ValueError: message" → the failure torch.load would raise */
function pyException(text: string): Failure {
  const m = /^(\w+): ?(.*)$/s.exec(text);
  return m ? runtime(m[1], m[2]) : runtime('ReadError', text);
}

function describeMember(m: TarMember): string {
  return `"${m.name}" (type ${JSON.stringify(m.type)}, ${m.size} bytes at ${m.offsetData})`;
}

/** the regular members a listing shows, as comparable text */
function signature(members: TarMember[]): string[] {
  return members
    .filter((m) => !['1', '2', '5', '3', '4', '6'].includes(m.type))
    .map((m) => `${m.name}@${m.offsetData}+${m.size}${m.sparse ? 's' : ''}`);
}

/**
 * The first difference between two readings of the archive, in words, or null. Two readers that list different
 * members (or find a member's data elsewhere) read different files out of the same bytes.
 */
function listingDifference(a: string[], b: string[]): string | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `member ${i + 1}: ${a[i] ?? 'none'} versus ${b[i] ?? 'none'}`;
  }
  return null;
}

export interface TarOutcome {
  /** the archive holds torch's tar members */
  torchTar: boolean;
  root: PyValue | undefined;
}

/**
 * torch.load's tar test and legacy tar loader (torch ≤ 0.3 checkpoints: members storages, tensors, pickle), for
 * a file that some modelled Python's tarfile opens. Each torch version follows its own Python's tarfile
 * (@brine/archives' tar.ts): ≥ 2.6 refuses the tar outright under weights_only; 1.13 reads it with the weights-only
 * unpickler; a TarError anywhere on the way (a listing error, 3.14's extraction filter, a short member) makes torch
 * read the whole file as legacy pickles instead — so that path is judged and scanned too. Whatever torch does,
 * every member's data and the file's first bytes are walked as pickles, and readings that disagree (tarfile
 * versions, or tarfile and a plain reader) are reported as a parser differential.
 */
export async function scanTarPath(
  ctx: ScanContext,
  src: ByteSource,
  listings: Record<TarPython, TarListing>,
  plain: TarMember[],
): Promise<TarOutcome> {
  const paths = new Map<TarPython, TarPathOutcome>();
  for (const p of TAR_PYTHONS) paths.set(p, tarPathOf(listings[p], src.size));
  reportTarDifferences(ctx, listings, plain, paths);

  // ---- the weights-only prediction, version by version ----
  const judge = ctx.judge;
  const tarGroup: TorchVersion[] = [];
  const legacyGroup: TorchVersion[] = [];
  for (const v of judge.aliveVersions()) {
    const profile = PROFILES[v];
    const path = paths.get(profile.python as TarPython)!;
    if (path.kind === 'fails') judge.settle(v, path.failure);
    else if (path.kind === 'legacy') legacyGroup.push(v);
    else if (profile.refusesTar) judge.settle(v, runtime('RuntimeError', TAR_REFUSAL));
    else tarGroup.push(v);
  }

  // ---- the pickle path: judged for the versions that take it, scanned whenever any torch takes it ----
  const anyLegacy = [...paths.values()].some((p) => p.kind === 'legacy');
  if (legacyGroup.length > 0 || anyLegacy) {
    const fork = judge.fork(legacyGroup);
    await scanLegacyPath(ctx, src, null, fork);
    judge.adopt(fork);
  } else {
    await walkTentatively(ctx, src, { entry: null, judge: null, loader: { kind: 'none' }, start: 0 });
  }

  // ---- the tar loader (1.13 under weights_only; every torch under weights_only=False) ----
  let root: PyValue | undefined;
  const walked = new Set<string>();
  for (const p of TAR_PYTHONS) {
    const path = paths.get(p)!;
    if (path.kind !== 'tar') continue;
    const versions = tarGroup.filter((v) => PROFILES[v].python === p);
    const fork = judge.fork(versions);
    const value = await readTorchTar(ctx, src, path.reads, fork, walked);
    root ??= value;
    judge.adopt(fork);
  }

  // ---- every member's data, whoever reads it ----
  const all = [...TAR_PYTHONS.flatMap((p) => listings[p].members), ...plain];
  let n = 0;
  for (const m of all) {
    const key = `${m.offsetData}+${m.size}`;
    if (walked.has(key) || m.size <= 0 || m.offsetData >= src.size) continue;
    walked.add(key);
    if (++n > 256) break;
    const member = new SliceSource(src, m.offsetData, m.size);
    const t = await walkTentatively(ctx, member, {
      entry: m.name,
      judge: null,
      loader: { kind: 'none' },
      start: 0,
    });
    if (t.parsed)
      ctx.entries.push({
        name: m.name,
        role: 'tar-member',
        size: m.size,
        scanned: true,
        protocol: t.result.protocol,
        opcodes: t.result.opcodes,
        complete: true,
      });
  }
  const names = new Set(all.map((m) => m.name));
  return { torchTar: names.has('pickle') || names.has('storages'), root };
}

function reportTarDifferences(
  ctx: ScanContext,
  listings: Record<TarPython, TarListing>,
  plain: TarMember[],
  paths: Map<TarPython, TarPathOutcome>,
): void {
  const opening = TAR_PYTHONS.filter((p) => listings[p].opens);
  const closed = TAR_PYTHONS.filter((p) => !listings[p].opens);
  if (opening.length > 0 && closed.length > 0) {
    ctx.add({
      severity: 'dangerous',
      rule: 'tar-parser-differential',
      message: `Python ${opening.join(', ')}'s tarfile opens this file as a tar, ${closed.join(', ')}'s does not (${listings[closed[0]].error}): torch takes a different path depending on the Python it runs on`,
    });
  }
  const sigs = opening.map((p) => [p, signature(listings[p].members)] as const);
  for (let i = 1; i < sigs.length; i++) {
    const d = listingDifference(sigs[0][1], sigs[i][1]);
    if (d) {
      ctx.add({
        severity: 'dangerous',
        rule: 'tar-parser-differential',
        message: `Python ${sigs[0][0]} and ${sigs[i][0]} list different members (${d})`,
      });
      break;
    }
  }
  if (sigs.length > 0) {
    const d = listingDifference(sigs[sigs.length - 1][1], signature(plain));
    if (d) {
      ctx.add({
        severity: 'dangerous',
        rule: 'tar-parser-differential',
        message: `CPython's tarfile and a plain tar reader list different members (${d}): a scanner or tool that reads it the plain way does not see what torch reads`,
      });
    }
  }
  for (const p of TAR_PYTHONS) {
    const path = paths.get(p)!;
    if (path.kind === 'legacy' && path.why) {
      ctx.add({
        severity: 'dangerous',
        rule: 'tar-pickle-polyglot',
        message: `${path.why}: torch.load under Python ${p} then unpickles the whole file from its first byte, while tar readers see an archive`,
      });
    }
    if (path.kind === 'tar') {
      for (const r of path.reads) {
        if (r.kind === 'special' && r.outcome === 'elsewhere') {
          ctx.add({
            severity: 'dangerous',
            rule: 'tar-special-member',
            entry: r.name,
            message: `torch reads "${r.name}" from ${r.what} under Python ${p}: not bytes of this archive, so nothing here shows what it unpickles`,
          });
        } else if (r.kind === 'data' && r.via) {
          ctx.add({
            severity: 'dangerous',
            rule: 'tar-link-member',
            entry: r.name,
            message: `"${r.name}" is a link: torch reads ${describeMember(r.member)} under Python ${p}`,
          });
        }
      }
    }
    if (listings[p].uncertain) ctx.judge.markUncertain();
  }
}

/**
 * torch 1.13's legacy tar loader with the weights-only unpickler over the members torch resolved: storages (a
 * count, then per storage a pickle and raw bytes, then the views), tensors (a count, then per tensor a key and
 * packed sizes), then the object pickle. Returns the object.
 */
async function readTorchTar(
  ctx: ScanContext,
  src: ByteSource,
  reads: TorchTarRead[],
  judge: WeightsOnlyJudge,
  walked: Set<string>,
): Promise<PyValue | undefined> {
  let root: PyValue | undefined;
  for (const r of reads) {
    if (r.kind !== 'data') {
      if (r.kind === 'special') {
        // a file outside the archive, a device or a sparse map: what torch unpickles is not in these bytes, so
        // the load is never predicted to succeed
        judge.failAll({
          ...runtime(
            r.outcome === 'fails' ? 'OSError' : 'UnpicklingError',
            `torch reads "${r.name}" from ${r.what}`,
          ),
          uncertain: r.outcome !== 'fails',
        });
      }
      break;
    }
    if (r.member.offsetData + r.member.size > src.size) {
      ctx.incomplete = true;
      ctx.add({
        severity: 'unknown',
        rule: 'tar-truncated',
        entry: r.name,
        message: `tar member "${r.name}" is cut off by the end of the file`,
      });
    }
    walked.add(`${r.offset}+${r.size}`);
    const member = new SliceSource(src, r.offset, r.size);
    judge.loader = { kind: 'none' };
    const a = await walkPickle(ctx, member, { entry: r.name, judge, loader: { kind: 'none' }, start: 0 });
    ctx.entries.push({
      name: r.name,
      role: 'tar-member',
      size: r.size,
      scanned: true,
      protocol: a.protocol,
      opcodes: a.opcodes,
      complete: !a.failure,
    });
    if (a.failure) break;
    if (r.name === 'pickle') root = a.value;
    if (r.name === 'storages') {
      if (a.value === 0) {
        // storage_views follows the (empty) storage list
        await walkPickle(ctx, member, { entry: r.name, judge, loader: { kind: 'none' }, start: a.end });
      } else judge.markUncertain();
    }
  }
  return root;
}
