import type { TorchProfile } from './profiles';

/** PyTorch's wording of weights-only failures, per version, so our reasons read like the error a user would see. */

export interface Failure {
  /** Python exception class */
  pyType: string;
  message: string;
  /** raised by the weights-only unpickler's policy (wrapped by torch.load as "Weights only load failed") */
  policy: boolean;
  /** what to pass to add_safe_globals when that is the fix */
  fix?: string;
  uncertain?: boolean;
  /** raised before torch.load's weights-only try block (opening the zip reader): never wrapped */
  beforeLoad?: boolean;
}

export function policy(message: string, fix?: string): Failure {
  return { pyType: 'UnpicklingError', message, policy: true, fix };
}

export function runtime(pyType: string, message: string): Failure {
  return { pyType, message, policy: false };
}

/** an error of PyTorchStreamReader's constructor or of the TorchScript branch, raised outside _load */
export function opening(message: string): Failure {
  return { pyType: 'RuntimeError', message, policy: false, beforeLoad: true };
}

function stripBuiltins(full: string): string {
  return full.startsWith('builtins.') ? full.slice('builtins.'.length) : full;
}

const NJT = new Set([
  'torch.nested._internal.nested_tensor.NestedTensor',
  'torch.nested._internal.nested_tensor._rebuild_njt',
  'torch._dynamo.decorators._DimRange',
]);
const DTENSOR = new Set([
  'torch.distributed.device_mesh.DeviceMesh',
  'torch.distributed.tensor._dtensor_spec.DTensorSpec',
  'torch.distributed.tensor._dtensor_spec.TensorMeta',
  'torch.distributed.tensor.DTensor',
  'torch.distributed.tensor.placement_types.Partial',
  'torch.distributed.tensor.placement_types.Replicate',
  'torch.distributed.tensor.placement_types.Shard',
]);

/**
 * How each version words what differs between versions: one row per message style (TorchProfile.messages), read by
 * the judge and the call models instead of branching on the version.
 */
interface MessageStyle {
  /** a GLOBAL that is not allowed (NJT and DTensor hints come first where the version has them) */
  unsupportedGlobal(full: string): string;
  /** whether the version names NJT and DTensor classes with an import hint instead */
  hints: boolean;
  /** BUILD on an object whose type is not allowed; `cls` is its class repr */
  cannotBuild(cls: string): string;
  /** the verb of APPEND(S) on something that is not a list */
  appendVerb(opcode: 'APPEND' | 'APPENDS'): string;
  /** how a persistent id's tag that is not "storage" is shown: its class, or the tag itself */
  pidTagShownAsClass: boolean;
  /** what follows "PytorchStreamReader failed …" */
  corruptZipHint: string;
}

const allowlistHint = (shown: string, suggested: string) =>
  `Unsupported global: GLOBAL ${shown} was not an allowed global by default. Please use ` +
  `\`torch.serialization.add_safe_globals([${suggested}])\` or the ` +
  `\`torch.serialization.safe_globals([${suggested}])\` context manager to allowlist this global ` +
  `if you trust this class/function.`;

export const MESSAGE_STYLES: Readonly<Record<TorchProfile['messages'], MessageStyle>> = {
  '1.13': {
    unsupportedGlobal: (full) => `Unsupported class ${full}`,
    hints: false,
    cannotBuild: (cls) => `Can only build Tensor, parameter or dict objects, but got ${cls}`,
    appendVerb: (op) => (op === 'APPENDS' ? 'extend' : 'append to'),
    pidTagShownAsClass: false,
    corruptZipHint: '',
  },
  '2.6': {
    unsupportedGlobal: (full) => allowlistHint(full, full.slice(full.lastIndexOf('.') + 1)),
    hints: true,
    cannotBuild: (cls) =>
      `Can only build Tensor, Parameter, OrderedDict or types allowlisted via \`add_safe_globals\`, but got ${cls}`,
    appendVerb: (op) => (op === 'APPENDS' ? 'extend' : 'append to'),
    pidTagShownAsClass: false,
    corruptZipHint: '',
  },
  '2.14': {
    unsupportedGlobal: (full) => allowlistHint(stripBuiltins(full), stripBuiltins(full)),
    hints: true,
    cannotBuild: (cls) =>
      `Can only build Tensor, Parameter, OrderedDict or types allowlisted via \`add_safe_globals\`, but got ${cls}`,
    appendVerb: () => 'append to',
    pidTagShownAsClass: true,
    corruptZipHint:
      '. If you see this error, there is a high likelihood that your checkpoint file is corrupted. This can happen if the checkpoint was not saved properly, was transferred incorrectly, or the file was modified after saving.',
  },
};

/** Python's own wording, where the interpreter a torch build runs on changed it */
export const PYTHON_MESSAGES: Readonly<
  Record<TorchProfile['python'], { tooManyToUnpack(want: number, got: number): string }>
> = {
  '3.11': { tooManyToUnpack: (want) => `too many values to unpack (expected ${want})` },
  '3.13': { tooManyToUnpack: (want) => `too many values to unpack (expected ${want})` },
  '3.14': { tooManyToUnpack: (want, got) => `too many values to unpack (expected ${want}, got ${got})` },
};

/** Python's `a, b, c = data` on a sequence of the wrong length */
export function unpackMessage(p: TorchProfile, want: number, got: number): string {
  return got > want
    ? PYTHON_MESSAGES[p.python].tooManyToUnpack(want, got)
    : `not enough values to unpack (expected ${want}, got ${got})`;
}

export function unsupportedGlobal(p: TorchProfile, full: string): Failure {
  const style = MESSAGE_STYLES[p.messages];
  if (style.hints && NJT.has(full))
    return policy(
      '``torch.nested`` and ``torch._dynamo`` must be imported to load nested jagged tensors (NJTs)',
    );
  if (style.hints && DTENSOR.has(full))
    return policy('``torch.distributed.tensor`` must be imported to load DTensors');
  return policy(style.unsupportedGlobal(full), full);
}

export function blockedGlobal(full: string, module: string): Failure {
  return policy(`Trying to load unsupported GLOBAL ${full} whose module ${module} is blocked.`);
}

/** Renders a failure as torch.load reports it for this version. */
export function render(p: TorchProfile, f: Failure): string {
  const wrap = (inner: string) =>
    `UnpicklingError: Weights only load failed. WeightsUnpickler error: ${inner}`;
  if (p.runtimeErrorPolicy) {
    // 1.13: policy violations and RuntimeErrors raised while loading come out as UnpicklingError
    if (f.policy || (f.pyType === 'RuntimeError' && !f.beforeLoad)) return wrap(f.message);
    return `${f.pyType}: ${f.message}`;
  }
  if (f.policy) return wrap(f.message);
  if (f.message.startsWith('PytorchStreamReader failed'))
    return `${f.pyType}: ${f.message}${MESSAGE_STYLES[p.messages].corruptZipHint}`;
  return `${f.pyType}: ${f.message}`;
}
