import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DCP_METADATA_GLOBALS,
  dcpMetadataGlobal,
  LOADER_TABLE,
  LOADERS,
  loaderRowFor,
  loaderRowsFor,
  loaderTableMarkdown,
} from '@brine/layouts';
import { REPO_ROOT } from '../helpers/paths';

const ORACLE = process.env.TORCH_ORACLE_HOME ?? '/var/cache/torch-oracle';
const DCP_DIR = (suite: string): string =>
  join(ORACLE, suite, 'usr/lib/python3/dist-packages/torch/distributed/checkpoint');

describe('layouts: the loader table', () => {
  it('decides each kind of file as its library reads it', () => {
    const cases: Array<[string, string, string]> = [
      ['.metadata', 'dcp', 'pickle.load'],
      ['step_100/.metadata', 'dcp', 'pickle.load'],
      ['__3.metadata', 'dcp', 'pickle.load'],
      ['__0_0.distcp', 'dcp', 'torch.load(weights_only=False)'],
      ['latest', 'deepspeed', 'text'],
      ['run/global_step7/mp_rank_01_model_states.pt', 'deepspeed', 'torch.load(weights_only=False)'],
      [
        'global_step7/bf16_zero_pp_rank_3_mp_rank_00_optim_states.pt',
        'deepspeed',
        'torch.load(weights_only=False)',
      ],
      ['zero_to_fp32.py', 'deepspeed', 'python code'],
      ['checkpoint-500/optimizer.pt', 'hf-trainer', 'torch.load(weights_only=True)'],
      ['checkpoint-500/rng_state_3.pth', 'hf-trainer', 'torch.load(default)'],
      ['checkpoint-500/training_args.bin', 'hf-trainer', 'torch.load(default)'],
      ['checkpoint-500/model.safetensors', 'hf-model', 'safetensors'],
      ['lightning_logs/version_0/checkpoints/last.ckpt', 'lightning', 'torch.load(default)'],
      ['model.safetensors.index.json', 'hf-model', 'json'],
      ['pytorch_model.bin.index.json', 'hf-model', 'json'],
      ['pytorch_model-00001-of-00002.bin', 'hf-model', 'torch.load(weights_only=True)'],
      ['modeling_x.py', 'hf-model', 'python code'],
      ['tokenizer_config.json', 'plain', 'json'],
      ['weights.npy', 'plain', 'numpy'],
      ['model.pt', 'plain', 'torch.load(default)'],
    ];
    for (const [path, layout, loader] of cases) {
      const row = loaderRowFor(path);
      assert.deepEqual([row?.layout, row?.loader], [layout, loader], path);
    }
    assert.equal(loaderRowFor('weights.gguf'), null);
  });

  it('records older library versions as rows of their own, never deciding', () => {
    const rows = loaderRowsFor('epoch=3-step=100.ckpt');
    assert.deepEqual(
      rows.map((r) => [r.loader, r.versions, r.historical ?? false]),
      [
        ['torch.load(default)', 'Lightning >= 2.6.0 (#21072)', false],
        ['torch.load(weights_only=False)', 'Lightning 2.4.0 – 2.5.x (#20010)', true],
        ['torch.load(default)', 'Lightning < 2.4.0', true],
      ],
    );
    assert.equal(loaderRowsFor('global_step1/mp_rank_00_model_states.pt')[1]?.versions, 'DeepSpeed < 0.16.0');
  });

  it('cites library source for every row and uses every loader', () => {
    for (const r of LOADER_TABLE.filter((x) => !(x.layout === 'plain' && x.loader === 'text')))
      assert.match(r.why, /\.py\b/, `${r.pattern}: no source file cited`);
    for (const l of LOADERS)
      assert.ok(
        LOADER_TABLE.some((r) => r.loader === l),
        `${l} is in no row`,
      );
  });

  it('is the table docs/folders.md shows', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'folders.md'), 'utf8');
    const m = /<!-- loader-table:start[^>]*-->\n([\s\S]*?)\n<!-- loader-table:end -->/.exec(doc);
    assert.ok(m, 'docs/folders.md has no loader-table block');
    const norm = (s: string): string =>
      s
        .trim()
        .split('\n')
        .map((l) => l.replace(/\s*\|\s*/g, '|').replace(/-{3,}/g, '---'))
        .join('\n');
    assert.equal(
      norm(m[1]),
      norm(loaderTableMarkdown()),
      'the table in docs/folders.md is out of step: regenerate it',
    );
  });
});

describe("layouts: DCP .metadata's globals", () => {
  for (const [suite, version] of [
    ['trixie', '2.6'],
    ['sid', '2.14'],
  ] as const) {
    const dir = DCP_DIR(suite);
    it(
      `lists every class torch ${version}'s DCP pickles into .metadata`,
      { skip: !existsSync(dir) && `${dir} absent` },
      () => {
        const metadata = readFileSync(join(dir, 'metadata.py'), 'utf8');
        const classes = [...metadata.matchAll(/^class (\w+)\b/gm)].map((m) => m[1]);
        assert.ok(classes.length >= 8, `found ${classes.join(', ')}`);
        for (const c of classes)
          assert.ok(
            dcpMetadataGlobal('torch.distributed.checkpoint.metadata', c),
            `metadata.py ${c} is not listed`,
          );
        assert.match(readFileSync(join(dir, 'filesystem.py'), 'utf8'), /^class _StorageInfo\b/m);
        assert.ok(dcpMetadataGlobal('torch.distributed.checkpoint.filesystem', '_StorageInfo'));
        for (const r of DCP_METADATA_GLOBALS.filter((g) =>
          g.global.startsWith('torch.distributed.checkpoint.metadata.'),
        ))
          assert.ok(
            classes.includes(r.global.split('.').pop() as string),
            `${r.global} is not in torch ${version}`,
          );
      },
    );
  }

  it('refuses what DCP never writes', () => {
    assert.equal(dcpMetadataGlobal('posix', 'system'), false);
    assert.equal(dcpMetadataGlobal('torch.distributed.checkpoint.metadata', 'os'), false);
    assert.equal(dcpMetadataGlobal('builtins', 'eval'), false);
    assert.equal(dcpMetadataGlobal('torch', 'load'), false);
    assert.equal(dcpMetadataGlobal('torch', 'float32'), true);
  });
});
