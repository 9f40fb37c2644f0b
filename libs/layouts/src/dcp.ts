/**
 * What a DCP `.metadata` may import. torch.distributed.checkpoint reads it with plain `pickle.load`
 * (torch/distributed/checkpoint/filesystem.py FileSystemReader.read_metadata), so weights_only does not protect
 * anyone: the file is safe only when every global it names is one of DCP's own metadata classes or what they
 * pickle (torch.Size, dtypes, layouts, the checkpoint id's path). Rows per torch version, from each root's
 * torch/distributed/checkpoint/metadata.py and filesystem.py; a global is allowed when a version lists it.
 */
import { DTYPES } from '@brine/scanner';

export interface DcpGlobalRow {
  /** module.name as the pickle names it */
  global: string;
  /** torch versions whose DCP writes it */
  torch: readonly string[];
  /** why loading it runs nothing of the file's choosing */
  why: string;
}

const BOTH = ['2.6', '2.14'] as const;
const META = 'torch.distributed.checkpoint.metadata';

export const DCP_METADATA_GLOBALS: readonly DcpGlobalRow[] = [
  {
    global: `${META}.Metadata`,
    torch: BOTH,
    why: 'metadata.py @dataclass Metadata (2.14 adds the `version` field)',
  },
  {
    global: `${META}.StorageMeta`,
    torch: BOTH,
    why: 'metadata.py @dataclass StorageMeta (2.14 adds `modules`)',
  },
  {
    global: `${META}.TensorStorageMetadata`,
    torch: BOTH,
    why: 'metadata.py @dataclass TensorStorageMetadata',
  },
  { global: `${META}.BytesStorageMetadata`, torch: BOTH, why: 'metadata.py @dataclass BytesStorageMetadata' },
  { global: `${META}.ChunkStorageMetadata`, torch: BOTH, why: 'metadata.py @dataclass ChunkStorageMetadata' },
  {
    global: `${META}.TensorProperties`,
    torch: BOTH,
    why: 'metadata.py @dataclass TensorProperties; __setstate__ unpacks a 5-tuple and maps the memory-format enum',
  },
  { global: `${META}.MetadataIndex`, torch: BOTH, why: 'metadata.py @dataclass(frozen=True) MetadataIndex' },
  {
    global: `${META}._MEM_FORMAT_ENCODING`,
    torch: BOTH,
    why: 'metadata.py Enum _MEM_FORMAT_ENCODING, written by TensorProperties.__getstate__; called with its value',
  },
  {
    global: 'torch.distributed.checkpoint.filesystem._StorageInfo',
    torch: BOTH,
    why: 'filesystem.py @dataclass _StorageInfo (relative_path, offset, length, transform_descriptors)',
  },
  { global: 'torch.Size', torch: BOTH, why: 'chunk offsets and sizes; a tuple subclass built from ints' },
  {
    global: 'torch.serialization._get_layout',
    torch: BOTH,
    why: 'torch/serialization.py copyreg reducer of torch.layout: looks a layout up by name in torch.__dict__',
  },
  {
    global: 'pathlib.PosixPath',
    torch: BOTH,
    why: 'StorageMeta.checkpoint_id when the checkpoint was saved with a Path; built from strings',
  },
  { global: 'pathlib.PurePosixPath', torch: BOTH, why: 'as PosixPath' },
  { global: 'pathlib.WindowsPath', torch: BOTH, why: 'as PosixPath, for a checkpoint saved on Windows' },
  { global: 'pathlib.PureWindowsPath', torch: BOTH, why: 'as PosixPath' },
  { global: 'collections.OrderedDict', torch: BOTH, why: 'planner_data or storage_data mappings' },
  // torch.dtype pickles as the global torch.<name>: every dtype torch has
  ...[...DTYPES.keys()].map((name) => ({
    global: `torch.${name}`,
    torch: BOTH,
    why: 'TensorProperties.dtype: torch.dtype pickles as the global torch.<name>',
  })),
];

const ALLOWED = new Set(DCP_METADATA_GLOBALS.map((r) => r.global));

/** true when a DCP .metadata may import `module.name` */
export function dcpMetadataGlobal(module: string, name: string): boolean {
  return ALLOWED.has(`${module}.${name}`);
}
