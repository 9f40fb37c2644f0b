/**
 * Which code opens each file of a folder, and how: one ordered table. The first row whose pattern matches a file's
 * path decides its layout and loader; the folder's layouts are those of its files. Every row cites the library
 * source that reads the file (read, not copied: torch 2.6 and 2.14 from torch-oracle's roots, transformers,
 * DeepSpeed and Lightning from their repositories). Differences between library versions are rows of their own
 * (`versions`), never ifs.
 */

export const LAYOUTS = ['dcp', 'deepspeed', 'hf-trainer', 'lightning', 'hf-model', 'plain'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const LOADERS = [
  'pickle.load',
  'torch.load(weights_only=True)',
  'torch.load(weights_only=False)',
  'torch.load(default)',
  'safetensors',
  'json',
  'numpy',
  'text',
  'python code',
] as const;
export type Loader = (typeof LOADERS)[number];

export interface LoaderRow {
  /** a glob on the path inside the version: `*` within a segment, `**\/` any folders (none included) */
  pattern: string;
  layout: Layout;
  loader: Loader;
  /** the library source that reads the file this way: file, function, what it calls */
  why: string;
  /** when the loader differs between library versions: which versions this row describes */
  versions?: string;
  /** a row that documents another version's behaviour: listed, never the one a file is judged by */
  historical?: boolean;
}

const DCP_FS = 'torch/distributed/checkpoint/filesystem.py';
const TRAINER = 'transformers/trainer.py';
const MODELING = 'transformers/modeling_utils.py';

export const LOADER_TABLE: readonly LoaderRow[] = [
  // torch.distributed.checkpoint
  {
    pattern: '**/.metadata',
    layout: 'dcp',
    loader: 'pickle.load',
    why:
      `${DCP_FS} FileSystemReader.read_metadata: \`pickle.load(metadata_file)\` (torch 2.14 line 938, 2.6 line 680) ` +
      '— plain pickle whatever weights_only says; torch.distributed.checkpoint.load calls it on every rank',
    versions: 'torch 2.6, 2.14',
  },
  {
    pattern: '**/__*.metadata',
    layout: 'dcp',
    loader: 'pickle.load',
    why: `${DCP_FS} FileSystemReader._get_metadata_path(rank) + read_metadata: \`__<rank>.metadata\` through the same pickle.load`,
    versions: 'torch 2.14 (2.6 reads only .metadata)',
  },
  {
    pattern: '**/*.distcp',
    layout: 'dcp',
    loader: 'torch.load(weights_only=False)',
    why:
      `${DCP_FS} FileSystemReader.read_data: each tensor item's slice (offset, length from .metadata storage_data) ` +
      'through `torch.load(seekable, map_location="cpu", weights_only=True)` (2.14 line 907, 2.6 line 655); each ' +
      'BYTE_IO item goes to torch/distributed/checkpoint/default_planner.py DefaultLoadPlanner.load_bytes: ' +
      '`torch.load(value, weights_only=False)` (2.14 line 388, 2.6 line 248) — judged as a full unpickle',
    versions: 'torch 2.6, 2.14',
  },
  // DeepSpeed
  {
    pattern: '**/latest',
    layout: 'deepspeed',
    loader: 'text',
    why:
      'deepspeed/runtime/engine.py DeepSpeedEngine.load_checkpoint: `tag = fd.read().strip()` from `latest`, then ' +
      'os.path.join(load_dir, tag) — the tag must name a folder inside the checkpoint',
  },
  {
    pattern: '**/latest_universal',
    layout: 'deepspeed',
    loader: 'text',
    why: 'deepspeed/runtime/engine.py DeepSpeedEngine.load_checkpoint: read like `latest` when load_universal is set',
  },
  {
    pattern: '**/*_model_states.pt',
    layout: 'deepspeed',
    loader: 'torch.load(weights_only=False)',
    why:
      'deepspeed/runtime/engine.py _load_checkpoint -> SDLoaderFactory (runtime/state_dict_factory.py) -> ' +
      'runtime/checkpoint_engine/torch_checkpoint_engine.py TorchCheckpointEngine.load: ' +
      '`torch.load(path, map_location=map_location, weights_only=False)`',
    versions: 'DeepSpeed >= 0.16.0 (commit 2e0c39b, #6751)',
  },
  {
    pattern: '**/*_optim_states.pt',
    layout: 'deepspeed',
    loader: 'torch.load(weights_only=False)',
    why:
      'deepspeed/runtime/engine.py _load_zero_checkpoint -> _get_all_zero_checkpoint_state_dicts -> ' +
      'TorchCheckpointEngine.load: `torch.load(..., weights_only=False)`',
    versions: 'DeepSpeed >= 0.16.0 (commit 2e0c39b, #6751)',
  },
  {
    pattern: '**/*_states.pt',
    layout: 'deepspeed',
    loader: 'torch.load(default)',
    why: 'runtime/checkpoint_engine/torch_checkpoint_engine.py TorchCheckpointEngine.load before #6751: `torch.load(path, map_location=map_location)`',
    versions: 'DeepSpeed < 0.16.0',
    historical: true,
  },
  {
    pattern: '**/zero_to_fp32.py',
    layout: 'deepspeed',
    loader: 'python code',
    why: 'deepspeed/runtime/engine.py DeepSpeedEngine._copy_recovery_script copies it beside the checkpoint; users run it',
  },
  // transformers Trainer checkpoint-N/
  {
    pattern: '**/checkpoint-*/optimizer.pt',
    layout: 'hf-trainer',
    loader: 'torch.load(weights_only=True)',
    why: `${TRAINER} Trainer._load_optimizer_and_scheduler: \`torch.load(os.path.join(checkpoint, OPTIMIZER_NAME), map_location=map_location, weights_only=True)\``,
    versions: 'transformers since huggingface/transformers#27282 (Dec 2023)',
  },
  {
    pattern: '**/checkpoint-*/scheduler.pt',
    layout: 'hf-trainer',
    loader: 'torch.load(weights_only=True)',
    why: `${TRAINER} Trainer._load_optimizer_and_scheduler: \`torch.load(os.path.join(checkpoint, SCHEDULER_NAME), weights_only=True)\``,
    versions: 'transformers since huggingface/transformers#27282 (Dec 2023)',
  },
  {
    pattern: '**/checkpoint-*/scaler.pt',
    layout: 'hf-trainer',
    loader: 'torch.load(weights_only=True)',
    why: `${TRAINER} Trainer._load_scaler: \`torch.load(os.path.join(checkpoint, SCALER_NAME), weights_only=True)\``,
  },
  {
    pattern: '**/checkpoint-*/{optimizer,scheduler}.pt',
    layout: 'hf-trainer',
    loader: 'torch.load(default)',
    why: `${TRAINER} Trainer._load_optimizer_and_scheduler before #27282: \`torch.load(os.path.join(checkpoint, OPTIMIZER_NAME), map_location=map_location)\``,
    versions: 'transformers before huggingface/transformers#27282',
    historical: true,
  },
  {
    pattern: '**/checkpoint-*/rng_state*.pth',
    layout: 'hf-trainer',
    loader: 'torch.load(default)',
    why:
      `${TRAINER} Trainer._load_rng_state: \`with safe_globals(): torch.load(rng_file)\` — no weights_only argument; ` +
      'on torch >= 2.6 safe_globals() adds numpy _reconstruct, ndarray, dtype to the weights-only allowlist',
  },
  {
    pattern: '**/checkpoint-*/training_args.bin',
    layout: 'hf-trainer',
    loader: 'torch.load(default)',
    why:
      `${TRAINER} Trainer._save_checkpoint writes it with torch.save(self.args); no Trainer method reads it ` +
      '(_load_from_checkpoint, _load_optimizer_and_scheduler, _load_rng_state do not): people read it with ' +
      '`torch.load("training_args.bin")`, a full unpickle before torch 2.6',
  },
  {
    pattern: '**/checkpoint-*/trainer_state.json',
    layout: 'hf-trainer',
    loader: 'json',
    why: `${TRAINER} Trainer.train (resume): TrainerState.load_from_json — json.loads`,
  },
  // Lightning
  {
    pattern: '**/*.ckpt',
    layout: 'lightning',
    loader: 'torch.load(default)',
    why:
      'lightning/fabric/utilities/cloud_io.py _load: `torch.load(f, map_location=map_location, weights_only=weights_only)` ' +
      "with weights_only=None from Trainer.fit(ckpt_path=…) / LightningModule.load_from_checkpoint, i.e. torch's default",
    versions: 'Lightning >= 2.6.0 (#21072)',
  },
  {
    pattern: '**/*.ckpt',
    layout: 'lightning',
    loader: 'torch.load(weights_only=False)',
    why: 'lightning/fabric/utilities/cloud_io.py _load(weights_only: bool = False): `torch.load(f, …, weights_only=weights_only)`',
    versions: 'Lightning 2.4.0 – 2.5.x (#20010)',
    historical: true,
  },
  {
    pattern: '**/*.ckpt',
    layout: 'lightning',
    loader: 'torch.load(default)',
    why: 'lightning/fabric/utilities/cloud_io.py _load: `torch.load(f, map_location=map_location)`',
    versions: 'Lightning < 2.4.0',
    historical: true,
  },
  // Hugging Face model folders
  {
    pattern: '**/*.safetensors.index.json',
    layout: 'hf-model',
    loader: 'json',
    why: `${MODELING} load_sharded_checkpoint / utils/hub.py get_checkpoint_shard_files: json.load, then os.path.join(folder, shard) for every weight_map value`,
  },
  {
    pattern: '**/*.bin.index.json',
    layout: 'hf-model',
    loader: 'json',
    why: `${MODELING} load_sharded_checkpoint / utils/hub.py get_checkpoint_shard_files: json.load, then os.path.join(folder, shard) for every weight_map value`,
  },
  {
    pattern: '**/*.safetensors',
    layout: 'hf-model',
    loader: 'safetensors',
    why: `${MODELING} load_state_dict: checks safe_open(…).metadata()["format"] in pt/tf/flax/mlx, then safetensors.torch.load_file`,
  },
  {
    pattern: '**/{pytorch_model,adapter_model}*.bin',
    layout: 'hf-model',
    loader: 'torch.load(weights_only=True)',
    why: `${MODELING} load_state_dict(weights_only=True): \`torch.load(checkpoint_file, map_location=map_location, weights_only=weights_only)\`; load_sharded_checkpoint: partial(torch.load, weights_only=True)`,
    versions: 'transformers since huggingface/transformers#27282 (Dec 2023)',
  },
  {
    pattern: '**/{pytorch_model,adapter_model}*.bin',
    layout: 'hf-model',
    loader: 'torch.load(default)',
    why: `${MODELING} PreTrainedModel.from_pretrained: \`torch.load(resolved_archive_file, map_location="cpu")\``,
    versions: 'transformers before huggingface/transformers#27282',
    historical: true,
  },
  {
    pattern: '**/*.py',
    layout: 'hf-model',
    loader: 'python code',
    why:
      'transformers/dynamic_module_utils.py get_class_from_dynamic_module: imports `<module>.py` named by auto_map ' +
      '("module.Class", or "repo--module.Class" from another repository) when trust_remote_code=True',
  },
  {
    pattern: '**/config.json',
    layout: 'hf-model',
    loader: 'json',
    why: 'transformers/configuration_utils.py PretrainedConfig._dict_from_json_file: json.loads; auto_map names code to import',
  },
  {
    pattern: '**/*.json',
    layout: 'plain',
    loader: 'json',
    why:
      'tokenizer, generation and processor configs: transformers/tokenization_utils_base.py ' +
      'PreTrainedTokenizerBase._from_pretrained (json.load of tokenizer_config.json), ' +
      'generation/configuration_utils.py GenerationConfig._dict_from_json_file (json.loads); auto_map is checked in any of them',
  },
  // anything else
  {
    pattern: '**/*.{npy,npz}',
    layout: 'plain',
    loader: 'numpy',
    why: 'numpy/lib/_npyio_impl.py load: allow_pickle=False by default (numpy >= 1.16.3); object arrays refuse to load',
  },
  {
    pattern: '**/*.{pt,pth,bin}',
    layout: 'plain',
    loader: 'torch.load(default)',
    why: 'torch/serialization.py load: weights_only defaults to True from torch 2.6, to False before',
  },
  {
    pattern: '**/*.{txt,md}',
    layout: 'plain',
    loader: 'text',
    why: 'README, vocab.txt, merges.txt: read as text by people and tokenizers; nothing is executed',
  },
];

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (glob.startsWith('**/', i)) {
      re += '(?:[^/]+/)*';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((a) => a.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const COMPILED = LOADER_TABLE.map((row) => ({ row, re: globToRegExp(row.pattern) }));

/** the row that decides how `path` is read (historical rows document other versions and never decide) */
export function loaderRowFor(path: string): LoaderRow | null {
  for (const { row, re } of COMPILED) if (!row.historical && re.test(path)) return row;
  return null;
}

/** the deciding row first, then the rows that say what other library versions do with the same file */
export function loaderRowsFor(path: string): LoaderRow[] {
  const deciding = loaderRowFor(path);
  if (!deciding) return [];
  const older = COMPILED.filter(
    ({ row, re }) => row.historical && row.layout === deciding.layout && re.test(path),
  );
  return [deciding, ...older.map(({ row }) => row)];
}

/** formats (as libs/scanner reports them) the loader can open: content of another format is a second reading */
export const LOADER_FORMATS: Readonly<Record<Loader, readonly string[] | null>> = {
  'pickle.load': ['pickle'],
  'torch.load(weights_only=True)': ['torch-zip', 'torch-legacy'],
  'torch.load(weights_only=False)': ['torch-zip', 'torch-legacy'],
  'torch.load(default)': ['torch-zip', 'torch-legacy'],
  safetensors: ['safetensors'],
  numpy: ['numpy'],
  // read as text: their content is checked by what reads them (the parsed JSON, the `latest` tag, the code)
  json: null,
  text: null,
  'python code': null,
};

/** the loader table as Markdown, for docs/folders.md (a test keeps it in step) */
export function loaderTableMarkdown(): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    '| pattern | layout | loader | versions | why (library source) |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of LOADER_TABLE)
    lines.push(
      `| \`${esc(r.pattern)}\` | ${r.layout} | \`${r.loader}\`${r.historical ? ' (older)' : ''} | ${esc(r.versions ?? 'all')} | ${esc(r.why)} |`,
    );
  return lines.join('\n');
}
