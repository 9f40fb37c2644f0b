import { PyDict, PyTensor, pyStr, type PyValue } from '@brine/pickle/values';
import { METHOD_STORED, type ZipEntry } from '@brine/archives';
import { DTYPES, rootLayout, type ScanCapture } from '@brine/scanner';
import { SAFETENSORS_DTYPE, safetensorsLayout, type Layout, type LayoutTensor } from './safetensors-layout';

/**
 * What goes into the safetensors twin of a scanned torch zip, decided from the scan's own reading of the file (the
 * object torch.load returns and the archive records miniz hands torch), so the twin holds exactly the tensors the
 * verdict was about. Nothing here reads tensor data.
 */

/** a non-contiguous view is gathered from one read of the storage bytes it spans, at most this many */
export const MAX_GATHER_SPAN = 64 * 1024 * 1024;

export interface TwinTensor extends LayoutTensor {
  /** the storage record (`archive/data/0`) */
  entry: ZipEntry;
  /** element size in bytes */
  elementSize: number;
  /** in elements, as torch rebuilds it */
  offset: number;
  stride: number[];
  contiguous: boolean;
}

export interface LeftOut {
  key: string;
  reason: string;
}

export interface TwinPlan {
  layout: Layout<TwinTensor>;
  /** names stored once for tied weights: alias → the name that holds the bytes */
  aliases: Record<string, string>;
  leftOut: LeftOut[];
  /** where the state dict sits in the file: '' for the whole file, else the checkpoint's key */
  source: string;
}

/** why no twin can be written (the version keeps only its original) */
export class NoTwin extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NoTwin';
  }
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** the state dict the twin is made of: the whole root, or a training checkpoint's model state dict */
function stateDictOf(kind: string, root: PyValue | undefined): { dict: PyDict; source: string } {
  if (!(root instanceof PyDict)) throw new NoTwin('the file does not hold a dict of tensors');
  if (kind === 'state_dict') return { dict: root, source: '' };
  if (kind !== 'checkpoint') throw new NoTwin(`a ${kind} file has no state dict to convert`);
  const model = rootLayout(root).stateDicts.find((s) => s.role === 'model');
  if (!model) throw new NoTwin('the checkpoint holds no model state dict');
  const i = root.keys.findIndex((k) => pyStr(k) === model.key);
  return { dict: root.values[i] as PyDict, source: model.key };
}

export interface PlanInput {
  kind: string;
  capture: ScanCapture;
  /** `__metadata__` entries of our own (source, sha256 …); aliases and `brine.left_out` are added */
  metadata: Record<string, string>;
  /** the content of the `byteorder` record, when there is one */
  byteorder?: string | null;
}

export function planTwin(input: PlanInput): TwinPlan {
  const { capture } = input;
  if (!capture.zip || capture.prefix === undefined)
    throw new NoTwin('only torch zip files (torch.save since 1.6) are converted');
  if (input.byteorder === 'big') throw new NoTwin('the storages are big-endian');
  const { dict, source } = stateDictOf(input.kind, capture.root);
  if (dict.keys.length !== dict.size)
    throw new NoTwin(`the scan kept ${dict.keys.length} of the state dict's ${dict.size} entries`);
  const zip = capture.zip;
  const leftOut: LeftOut[] = [];
  const tensors: TwinTensor[] = [];
  const seen = new Map<string, string>();
  const aliases: Record<string, string> = {};
  const names = new Set<string>();
  dict.keys.forEach((k, i) => {
    const v = dict.values[i];
    if (typeof k !== 'string') return leftOut.push({ key: pyStr(k), reason: 'the key is not a string' });
    if (names.has(k)) return leftOut.push({ key: k, reason: 'the key appears twice' });
    names.add(k);
    const out = (reason: string) => leftOut.push({ key: k, reason });
    if (!(v instanceof PyTensor)) return out('not a tensor');
    if (v.layout !== 'strided') return out(`a ${v.layout} tensor`);
    if (v.subclass) return out(`a tensor subclass (${v.subclass})`);
    const dtype = SAFETENSORS_DTYPE.get(v.dtype);
    if (!dtype) return out(`dtype ${v.dtype} has no safetensors counterpart`);
    if (!v.storage || !v.view) return out('the scan could not place its data');
    const entry = zip.locate(`${capture.prefix}${v.storage.key}`);
    if (!entry) return out(`its storage record ${v.storage.key} is missing`);
    if (entry.method !== METHOD_STORED) return out('its storage record is compressed');
    if (entry.statError || entry.isDirectory) return out('its storage record cannot be read');
    const elementSize = DTYPES.get(v.dtype)?.elementSize ?? 1;
    const numel = v.numel;
    const { offset, stride } = v.view;
    let last = offset;
    for (let d = 0; d < v.shape.length; d++) {
      if (stride[d] < 0) return out('a negative stride');
      last += (v.shape[d] - 1) * stride[d];
    }
    if (numel > 0 && (last + 1) * elementSize > entry.size)
      return out('its view reaches past its storage record');
    const contiguous = isContiguous(v.shape, stride);
    if (!contiguous && (last - offset + 1) * elementSize > MAX_GATHER_SPAN)
      return out(`a non-contiguous view spanning more than ${MAX_GATHER_SPAN} bytes of its storage`);
    const identity = JSON.stringify([entry.index, offset, v.shape, stride, v.dtype]);
    const kept = seen.get(identity);
    if (kept !== undefined && numel > 0) {
      aliases[k] = kept;
      return;
    }
    seen.set(identity, k);
    tensors.push({
      name: k,
      dtype,
      shape: v.shape,
      bytes: numel * elementSize,
      entry,
      elementSize,
      offset,
      stride,
      contiguous,
    });
  });
  if (tensors.length === 0) throw new NoTwin('no tensor of the state dict can be stored in safetensors');
  const metadata: Record<string, string> = { ...input.metadata, format: 'pt' };
  for (const [alias, kept] of Object.entries(aliases)) metadata[alias] = kept;
  if (leftOut.length > 0) metadata['brine.left_out'] = JSON.stringify(leftOut);
  if (source) metadata['brine.state_dict_key'] = source;
  return { layout: safetensorsLayout(tensors, metadata), aliases, leftOut, source };
}
