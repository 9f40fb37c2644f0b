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

export function unsupportedGlobal(p: TorchProfile, full: string): Failure {
  if (p.messages === '1.13') return policy(`Unsupported class ${full}`, full);
  if (NJT.has(full))
    return policy(
      '``torch.nested`` and ``torch._dynamo`` must be imported to load nested jagged tensors (NJTs)',
    );
  if (DTENSOR.has(full)) return policy('``torch.distributed.tensor`` must be imported to load DTensors');
  const shown = p.messages === '2.6' ? full : stripBuiltins(full);
  const suggested = p.messages === '2.6' ? full.slice(full.lastIndexOf('.') + 1) : stripBuiltins(full);
  return policy(
    `Unsupported global: GLOBAL ${shown} was not an allowed global by default. Please use ` +
      `\`torch.serialization.add_safe_globals([${suggested}])\` or the ` +
      `\`torch.serialization.safe_globals([${suggested}])\` context manager to allowlist this global ` +
      `if you trust this class/function.`,
    full,
  );
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
  if (p.messages === '2.14' && f.message.startsWith('PytorchStreamReader failed')) {
    return `${f.pyType}: ${f.message}. If you see this error, there is a high likelihood that your checkpoint file is corrupted. This can happen if the checkpoint was not saved properly, was transferred incorrectly, or the file was modified after saving.`;
  }
  return `${f.pyType}: ${f.message}`;
}
