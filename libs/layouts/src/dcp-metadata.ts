/**
 * Reads what a DCP `.metadata` says without running it: the pickle machine walks it over abstract values (nothing
 * is imported or called), and the Metadata object's state gives, per item, the file and byte range
 * FileSystemReader.read_data opens (storage_data: MetadataIndex -> _StorageInfo(relative_path, offset, length)),
 * and per tensor its dtype, size and chunks (state_dict_metadata). The registry slices each .distcp item by these
 * ranges to scan it, and checkFolder holds the ranges to the folder.
 */
import { Machine, type CallEvent, type ImportEvent } from '@brine/pickle';
import { PyDict, PyGlobal, PyInstance, PyTuple, type PyValue } from '@brine/pickle/values';

export interface DcpItem {
  /** the state-dict key */
  fqn: string;
  /** the chunk's offsets in the tensor, for tensor items */
  chunkOffsets: number[] | null;
  relativePath: string;
  offset: number;
  length: number;
}

export interface DcpTensor {
  fqn: string;
  dtype: string;
  size: number[];
  chunks: { offsets: number[]; sizes: number[] }[];
}

export interface DcpMetadata {
  items: DcpItem[];
  tensors: DcpTensor[];
  /** keys stored as bytes (read back with torch.load(weights_only=False) by DefaultLoadPlanner.load_bytes) */
  bytes: string[];
}

const HOST = {
  importGlobal(ev: ImportEvent): PyValue {
    return new PyGlobal(ev.module, ev.name);
  },
  call(ev: CallEvent): PyValue {
    return new PyInstance(ev.callee, ev.args, ev.opcode);
  },
  persistentLoad(pid: PyValue): PyValue {
    return new PyInstance(null, pid, 'PERSID');
  },
};

function classOf(v: PyValue): string | null {
  return v instanceof PyInstance && v.callee instanceof PyGlobal ? v.callee.fullName : null;
}

/** a dataclass instance's fields, from the dict its BUILD applied */
function fields(v: PyValue): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  const st = v instanceof PyInstance ? v.state : undefined;
  if (st instanceof PyDict) st.keys.forEach((k, i) => typeof k === 'string' && out.set(k, st.values[i]));
  // a (state, slotstate) pair
  if (st instanceof PyTuple && st.items[0] instanceof PyDict) return fields(new PyInstanceLike(st.items[0]));
  return out;
}

class PyInstanceLike extends PyInstance {
  constructor(state: PyDict) {
    super(null, null, 'NEWOBJ');
    this.state = state;
  }
}

/** torch.Size(tuple) as numbers, or null */
function sizeOf(v: PyValue): number[] | null {
  let t: PyValue = v;
  if (v instanceof PyInstance && classOf(v) === 'torch.Size' && v.args instanceof PyTuple)
    t = v.args.items[0] ?? null;
  if (!(t instanceof PyTuple)) return null;
  const out: number[] = [];
  for (const x of t.items) {
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) return null;
    out.push(x);
  }
  return out;
}

function int(v: PyValue | undefined): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

/**
 * The items and tensors a DCP .metadata describes, or an error saying why it could not be read. Static: the
 * pickle is walked, never executed.
 */
export function readDcpMetadata(
  bytes: Uint8Array,
): { ok: true; metadata: DcpMetadata } | { ok: false; error: string } {
  const m = new Machine(HOST);
  m.setWindow(bytes, 0, bytes.length);
  const r = m.run();
  if (r !== 'stop')
    return {
      ok: false,
      error: m.failure ? `the pickle does not load: ${m.failure.kind}` : `the walk ended with ${r}`,
    };
  const root = m.result;
  if (classOf(root) !== 'torch.distributed.checkpoint.metadata.Metadata')
    return { ok: false, error: `the pickle holds ${classOf(root) ?? 'no object'}, not a DCP Metadata` };
  const f = fields(root);
  const items: DcpItem[] = [];
  const sd = f.get('storage_data');
  if (!(sd instanceof PyDict)) return { ok: false, error: 'storage_data is not a dict' };
  for (let i = 0; i < sd.keys.length; i++) {
    const key = fields(sd.keys[i]);
    const info = fields(sd.values[i]);
    const fqn = key.get('fqn');
    const relativePath = info.get('relative_path');
    const offset = int(info.get('offset'));
    const length = int(info.get('length'));
    if (typeof fqn !== 'string' || typeof relativePath !== 'string' || offset === null || length === null)
      return {
        ok: false,
        error: `storage_data entry ${i} is not a MetadataIndex -> _StorageInfo(relative_path, offset, length)`,
      };
    const off = key.get('offset');
    items.push({
      fqn,
      chunkOffsets: off === undefined || off === null ? null : sizeOf(off),
      relativePath,
      offset,
      length,
    });
  }
  const tensors: DcpTensor[] = [];
  const bytesKeys: string[] = [];
  const sdm = f.get('state_dict_metadata');
  if (!(sdm instanceof PyDict)) return { ok: false, error: 'state_dict_metadata is not a dict' };
  for (let i = 0; i < sdm.keys.length; i++) {
    const fqn = sdm.keys[i];
    const v = sdm.values[i];
    if (typeof fqn !== 'string') continue;
    const cls = classOf(v);
    if (cls === 'torch.distributed.checkpoint.metadata.BytesStorageMetadata') {
      bytesKeys.push(fqn);
      continue;
    }
    if (cls !== 'torch.distributed.checkpoint.metadata.TensorStorageMetadata')
      return { ok: false, error: `state_dict_metadata[${JSON.stringify(fqn)}] is ${cls ?? 'not an object'}` };
    const t = fields(v);
    const props = t.get('properties');
    // TensorProperties.__getstate__: (dtype, layout, requires_grad, memory format, pin_memory)
    const st = props instanceof PyInstance ? props.state : undefined;
    const dtypeG = st instanceof PyTuple ? st.items[0] : undefined;
    const dtype = dtypeG instanceof PyGlobal && dtypeG.module === 'torch' ? dtypeG.name : 'unknown';
    const chunksV = t.get('chunks');
    const chunks: DcpTensor['chunks'] = [];
    const list =
      chunksV && typeof chunksV === 'object' && 'items' in chunksV ? (chunksV.items as PyValue[]) : [];
    for (const c of list) {
      const cf = fields(c);
      chunks.push({
        offsets: sizeOf(cf.get('offsets') ?? null) ?? [],
        sizes: sizeOf(cf.get('sizes') ?? null) ?? [],
      });
    }
    tensors.push({ fqn, dtype, size: sizeOf(t.get('size') ?? null) ?? [], chunks });
  }
  return { ok: true, metadata: { items, tensors, bytes: bytesKeys } };
}
