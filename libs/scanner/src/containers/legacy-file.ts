import { PyList, PyStorage, pyStr, type PyValue } from '@brine/pickle';
import type { TarMember } from '../formats/tar';
import { walkPickle } from '../pickle-scan';
import type { ScanContext } from '../scan-context';
import { SliceSource, type ByteSource } from '../source';
import { runtime } from '../torch/messages';

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
): Promise<LegacyOutcome> {
  const judge = ctx.judge;
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
  await checkRawStorages(ctx, src, keys.value, storages, keys.end);
  return out;
}

/** after the key list: for each key, an 8-byte element count and the storage bytes, in key order */
async function checkRawStorages(
  ctx: ScanContext,
  src: ByteSource,
  keysValue: PyValue | undefined,
  storages: Map<string, PyStorage>,
  start: number,
): Promise<void> {
  const judge = ctx.judge;
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

/** torch ≤ 0.3 tar checkpoints: members sys_info, pickle, storages, tensors — each a pickle stream */
export async function scanTar(
  ctx: ScanContext,
  src: ByteSource,
  members: TarMember[],
): Promise<PyValue | undefined> {
  const judge = ctx.judge;
  judge.failAll((p) =>
    p.refusesTar
      ? runtime(
          'RuntimeError',
          'Cannot use ``weights_only=True`` with files saved in the legacy .tar format. In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.',
        )
      : null,
  );
  const byName = new Map(members.map((m) => [m.name, m]));
  let root: PyValue | undefined;
  // 1.13 reads storages (a count, then storage_views), tensors (a count), then the object
  const order = ['storages', 'tensors', 'pickle', 'sys_info'];
  for (const name of order) {
    const m = byName.get(name);
    if (!m) {
      if (name !== 'sys_info') judge.failAll(runtime('KeyError', `"filename '${name}' not found"`));
      continue;
    }
    if (m.truncated) {
      ctx.incomplete = true;
      ctx.add({
        severity: 'unknown',
        rule: 'tar-truncated',
        entry: name,
        message: `tar member "${name}" is cut off by the end of the file`,
      });
    }
    const member = new SliceSource(src, m.offset, m.size);
    const judged = name !== 'sys_info';
    judge.loader = { kind: 'none' };
    const a = await walkPickle(ctx, member, {
      entry: name,
      judge: judged ? judge : null,
      loader: { kind: 'none' },
      start: 0,
    });
    ctx.entries.push({
      name,
      role: 'tar-member',
      size: m.size,
      scanned: true,
      protocol: a.protocol,
      opcodes: a.opcodes,
      complete: !a.failure,
    });
    if (a.failure) continue;
    if (name === 'pickle') root = a.value;
    if (name === 'storages') {
      if (a.value === 0) {
        // storage_views follows the (empty) storage list
        await walkPickle(ctx, member, { entry: name, judge, loader: { kind: 'none' }, start: a.end });
      } else judge.markUncertain();
    }
  }
  for (const m of members) {
    if (!order.includes(m.name))
      ctx.add({
        severity: 'info',
        rule: 'tar-extra-member',
        entry: m.name,
        message: `unexpected tar member "${m.name}"`,
      });
  }
  return root;
}
