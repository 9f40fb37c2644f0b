import {
  PyDict,
  PyGlobal,
  PyInstance,
  PyList,
  PyTensor,
  PyTuple,
  pyStr,
  type PyValue,
} from '@brine/pickle/values';
import type { Kind, TensorInventory, TensorRecord } from '../report';
import { dtypeBytes } from '../torch/dtypes';

/** What the top-level object of a checkpoint pickle is. */
export function classifyValue(root: PyValue | undefined): Kind {
  if (root === undefined) return 'unknown';
  if (root instanceof PyTensor) return 'tensor';
  if (isModuleInstance(root)) return 'full_model';
  if (root instanceof PyDict) {
    if (root.keys.length === 0) return 'pickle';
    const values = root.values;
    if (values.every((v) => v instanceof PyTensor)) return 'state_dict';
    if (values.some((v) => v instanceof PyTensor || holdsTensors(v, 3))) return 'checkpoint';
  }
  return 'pickle';
}

/** an nn.Module instance: class under torch.nn / a model zoo, or a BUILD state with the Module attributes */
export function isModuleInstance(v: PyValue): boolean {
  if (!(v instanceof PyInstance)) return false;
  const state = v.state;
  if (state instanceof PyDict && state.keys.some((k) => k === '_modules' || k === '_parameters')) return true;
  const cls = v.callee instanceof PyGlobal ? v.callee.fullName : '';
  return /^torch\.nn\.modules\.|^torchvision\.models\.|^transformers\.models\./.test(cls);
}

function holdsTensors(v: PyValue, depth: number): boolean {
  if (depth < 0) return false;
  if (v instanceof PyTensor) return true;
  if (v instanceof PyDict) return v.values.some((x) => holdsTensors(x, depth - 1));
  if (v instanceof PyList || v instanceof PyTuple) return v.items.some((x) => holdsTensors(x, depth - 1));
  if (v instanceof PyInstance) return isModuleInstance(v);
  return false;
}

export class InventoryBuilder {
  private readonly inv: TensorInventory = {
    count: 0,
    parameters: 0,
    bytes: 0,
    byDtype: {},
    items: [],
    truncated: false,
  };
  private readonly seen = new Set<PyTensor>();

  constructor(private readonly maxListed: number) {}

  add(t: TensorRecord): void {
    const inv = this.inv;
    inv.count++;
    inv.parameters += t.numel;
    inv.bytes += t.bytes;
    const d = (inv.byDtype[t.dtype] ??= { count: 0, numel: 0, bytes: 0 });
    d.count++;
    d.numel += t.numel;
    d.bytes += t.bytes;
    if (inv.items.length < this.maxListed) inv.items.push(t);
    else inv.truncated = true;
  }

  /** Walks the object graph from `root` (iteratively, cycle-safe) and lists every tensor under a dotted path. */
  addFromValue(root: PyValue | undefined, prefix = ''): void {
    if (root === undefined) return;
    const visited = new Set<object>();
    const stack: Array<[PyValue, string]> = [[root, prefix]];
    let steps = 0;
    while (stack.length > 0 && steps++ < 5_000_000) {
      const [v, path] = stack.pop() as [PyValue, string];
      if (typeof v !== 'object' || v === null) continue;
      if (visited.has(v)) continue;
      visited.add(v);
      if (v instanceof PyTensor) {
        if (this.seen.has(v)) continue;
        this.seen.add(v);
        const numel = v.shape.reduce((a, b) => a * b, 1);
        this.add({
          name: path || '<root>',
          dtype: v.dtype,
          shape: v.shape,
          numel,
          bytes: dtypeBytes(v.dtype, numel),
          ...(v.storage ? { storage: v.storage.key, device: v.storage.location } : {}),
          ...(v.isParameter ? { parameter: true } : {}),
        });
        continue;
      }
      const children: Array<[PyValue, string]> = [];
      if (v instanceof PyDict) {
        v.keys.forEach((k, i) => children.push([v.values[i], join(path, pyStr(k))]));
      } else if (v instanceof PyList || v instanceof PyTuple) {
        v.items.forEach((x, i) => children.push([x, join(path, String(i))]));
      } else if (v instanceof PyInstance && v.state instanceof PyDict) {
        // nn.Module: parameters and buffers under their own names, submodules by name
        const st = v.state;
        st.keys.forEach((k, i) => {
          const key = pyStr(k);
          const val = st.values[i];
          if (key === '_parameters' || key === '_buffers' || key === '_modules') children.push([val, path]);
          else if (!key.startsWith('_')) children.push([val, join(path, key)]);
        });
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }

  /** gives each listed tensor its storage record's checksum and size, where `record` knows them */
  addStorageChecksums(record: (storage: string) => { crc32: number; size: number } | undefined): void {
    for (const t of this.inv.items) {
      const r = t.storage === undefined ? undefined : record(t.storage);
      if (r) {
        t.storageCrc32 = (r.crc32 >>> 0).toString(16).padStart(8, '0');
        t.storageBytes = r.size;
      }
    }
  }

  /**
   * The inventory. Its names come from the object graph the walk kept, which the retention budget bounds; the
   * tensors the walk rebuilt (`created`) are all counted. When the graph holds fewer than were rebuilt, the
   * totals are the rebuilt ones and the list says it is incomplete.
   */
  result(created?: TensorTotals): TensorInventory {
    const inv = this.inv;
    if (created && created.count > inv.count) {
      inv.count = created.count;
      inv.parameters = created.parameters;
      inv.bytes = created.bytes;
      inv.byDtype = Object.fromEntries([...created.byDtype].map(([d, t]) => [d, { ...t }]));
      inv.truncated = true;
    }
    return inv;
  }
}

/** what the walks of one file rebuilt, counted as each tensor is made (no names, no list: bounded) */
export class TensorTotals {
  count = 0;
  parameters = 0;
  bytes = 0;
  readonly byDtype = new Map<string, { count: number; numel: number; bytes: number }>();
  /** where the storages were saved (cpu, cuda:0, …) */
  readonly devices = new Set<string>();

  add(dtype: string, numel: number, device?: string): void {
    if (device && this.devices.size < 64) this.devices.add(device);
    const bytes = dtypeBytes(dtype, numel);
    this.count++;
    this.parameters += numel;
    this.bytes += bytes;
    let d = this.byDtype.get(dtype);
    if (!d) this.byDtype.set(dtype, (d = { count: 0, numel: 0, bytes: 0 }));
    d.count++;
    d.numel += numel;
    d.bytes += bytes;
  }

  absorb(other: TensorTotals): void {
    for (const d of other.devices) this.devices.add(d);
    for (const [dtype, t] of other.byDtype) {
      this.count += t.count;
      this.parameters += t.numel;
      this.bytes += t.bytes;
      let d = this.byDtype.get(dtype);
      if (!d) this.byDtype.set(dtype, (d = { count: 0, numel: 0, bytes: 0 }));
      d.count += t.count;
      d.numel += t.numel;
      d.bytes += t.bytes;
    }
  }
}

function join(a: string, b: string): string {
  return a ? `${a}.${b}` : b;
}
