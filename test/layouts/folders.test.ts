import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkFolder,
  checkManifest,
  loaderRowFor,
  summariseScan,
  readDcpMetadata,
  type DcpMetadata,
  type DistcpItemScan,
  type FileScan,
  type FolderInputs,
  type FolderReport,
  type JsonInput,
  type ManifestEntry,
} from '@brine/layouts';
import { FIXTURES } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * The folders of test/fixtures/generate_folders.py (written by torch 2.14, safetensors and DCP themselves, or built
 * as transformers, DeepSpeed and Lightning write them), each file scanned with libs/scanner's scan() and the
 * folder judged by checkFolder: benign layouts come out recognised, with the loader their library uses and no
 * dangerous finding; each hostile variant is caught, with its reason.
 */
const DIR = join(FIXTURES, 'folders');
let tmp = '';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** what the registry will have for a folder version: its manifest and the inputs checkFolder reads */
async function load(folder: string): Promise<{ manifest: ManifestEntry[]; inputs: FolderInputs }> {
  const root = join(DIR, folder);
  const manifest: ManifestEntry[] = [];
  const scans: Record<string, FileScan> = {};
  const json: Record<string, JsonInput> = {};
  const text: Record<string, string> = {};
  const distcpItems: Record<string, DistcpItemScan[]> = {};
  const dcp: Record<string, { metadata: DcpMetadata } | { error: string }> = {};
  for (const file of walk(root).sort()) {
    const path = relative(root, file).split('\\').join('/');
    const bytes = readFileSync(file);
    manifest.push({ path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    const loader = loaderRowFor(path)?.loader ?? null;
    if (loader === 'json') {
      try {
        json[path] = { value: JSON.parse(bytes.toString('utf8')) as unknown };
      } catch (e) {
        json[path] = { error: (e as Error).message };
      }
    } else if (loader === 'text') text[path] = bytes.toString('utf8');
    else if (loader !== 'python code') scans[path] = summariseScan(await scanFile(file));
    if (path.endsWith('.metadata') && loader === 'pickle.load') {
      const m = readDcpMetadata(bytes);
      dcp[path] = m.ok ? { metadata: m.metadata } : { error: m.error };
    }
  }
  // each .distcp item is the byte range .metadata's storage_data gives it (FileSystemReader.read_data)
  for (const [metaPath, m] of Object.entries(dcp)) {
    if (!('metadata' in m)) continue;
    const dir = metaPath.slice(0, metaPath.lastIndexOf('/') + 1);
    for (const [i, item] of m.metadata.items.entries()) {
      const file = dir + item.relativePath;
      // a range in a file the version does not hold is checkFolder's finding, not something to read here
      if (!manifest.some((e) => e.path === file)) continue;
      const bytes = readFileSync(join(root, file));
      const slice = join(tmp, `${folder.replace(/\//g, '_')}-${i}.pt`);
      writeFileSync(slice, bytes.subarray(item.offset, item.offset + item.length));
      (distcpItems[file] ??= []).push({
        fqn: item.fqn,
        chunkOffsets: item.chunkOffsets,
        scan: summariseScan(await scanFile(slice)),
      });
    }
  }
  const checked = checkManifest(manifest);
  assert.ok(checked.ok, checked.ok ? '' : checked.message);
  return { manifest, inputs: { scans, json, text, distcpItems, dcp } };
}

const inputsOf = new Map<string, FolderInputs>();

async function judge(folder: string): Promise<FolderReport> {
  const { manifest, inputs } = await load(folder);
  inputsOf.set(folder, inputs);
  return checkFolder(manifest, inputs);
}

function loaders(r: FolderReport): Record<string, string | null> {
  return Object.fromEntries(r.files.map((f) => [f.path, f.loader]));
}

function dangerous(r: FolderReport): string[] {
  return [...r.findings, ...r.files.flatMap((f) => f.findings)]
    .filter((f) => f.severity === 'dangerous')
    .map((f) => `${f.path}: ${f.rule}: ${f.message}`);
}

function finding(r: FolderReport, rule: string) {
  return [...r.findings, ...r.files.flatMap((f) => f.findings)].filter((f) => f.rule === rule);
}

describe('layouts: checkFolder on the fixture folders', () => {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'brine-layouts-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('HF 8-shard safetensors: hf-model, shards read by safetensors, index and configs by json, safe', async () => {
    const r = await judge('hf_safetensors_sharded');
    assert.equal(r.layout, 'hf-model');
    const l = loaders(r);
    for (let i = 1; i <= 8; i++) assert.equal(l[`model-0000${i}-of-00008.safetensors`], 'safetensors');
    assert.equal(l['model.safetensors.index.json'], 'json');
    assert.equal(l['config.json'], 'json');
    assert.deepEqual(dangerous(r), []);
    assert.deepEqual(r.findings, []);
    assert.equal(r.verdict, 'safe');
  });

  it('HF sharded .bin: torch.load(weights_only=True) as modeling_utils.load_state_dict reads it, safe', async () => {
    const r = await judge('hf_bin_sharded');
    assert.equal(r.layout, 'hf-model');
    assert.equal(loaders(r)['pytorch_model-00002-of-00003.bin'], 'torch.load(weights_only=True)');
    assert.deepEqual(dangerous(r), []);
    assert.equal(r.verdict, 'safe');
  });

  it('Trainer checkpoint-6: each file with the loader trainer.py uses; training_args.bin a full unpickle', async () => {
    const r = await judge('hf_trainer');
    assert.equal(r.layout, 'hf-trainer');
    assert.deepEqual(r.layouts, ['hf-trainer', 'hf-model']);
    const l = loaders(r);
    assert.equal(l['checkpoint-6/optimizer.pt'], 'torch.load(weights_only=True)');
    assert.equal(l['checkpoint-6/scheduler.pt'], 'torch.load(weights_only=True)');
    assert.equal(l['checkpoint-6/rng_state.pth'], 'torch.load(default)');
    assert.equal(l['checkpoint-6/training_args.bin'], 'torch.load(default)');
    assert.equal(l['checkpoint-6/trainer_state.json'], 'json');
    assert.equal(l['checkpoint-6/model.safetensors'], 'safetensors');
    assert.deepEqual(dangerous(r), []);
    // TrainingArguments is the user's transformers' class: a full unpickle constructs it, Brine cannot vouch
    const args = r.files.find((f) => f.path === 'checkpoint-6/training_args.bin');
    assert.equal(args?.verdict, 'suspicious');
    assert.equal(r.verdict, 'suspicious');
  });

  it('DCP: .metadata by pickle.load with only DCP metadata classes, .distcp items by torch.load, safe', async () => {
    const r = await judge('dcp');
    assert.equal(r.layout, 'dcp');
    const l = loaders(r);
    assert.equal(l['.metadata'], 'pickle.load');
    assert.equal(l['__0_0.distcp'], 'torch.load(weights_only=False)');
    assert.deepEqual(dangerous(r), []);
    assert.equal(r.files.find((f) => f.path === '.metadata')?.verdict, 'safe');
    // the six items storage_data names, each the dtype and chunk size state_dict_metadata gives it
    assert.equal(inputsOf.get('dcp')?.distcpItems?.['__0_0.distcp']?.length, 6);
    assert.deepEqual(finding(r, 'dcp-item-disagree'), []);
    assert.equal(r.verdict, 'safe');
  });

  it('DeepSpeed: latest as text naming global_step10, model and optimizer states by torch.load(weights_only=False)', async () => {
    const r = await judge('deepspeed');
    assert.equal(r.layout, 'deepspeed');
    const l = loaders(r);
    assert.equal(l['latest'], 'text');
    assert.equal(l['global_step10/mp_rank_00_model_states.pt'], 'torch.load(weights_only=False)');
    assert.equal(
      l['global_step10/zero_pp_rank_0_mp_rank_00_optim_states.pt'],
      'torch.load(weights_only=False)',
    );
    assert.deepEqual(dangerous(r), []);
    assert.equal(r.verdict, 'safe');
  });

  it("Lightning: the .ckpt by torch.load with torch's default, safe", async () => {
    const r = await judge('lightning');
    assert.equal(r.layout, 'lightning');
    assert.equal(loaders(r)['epoch=3-step=100.ckpt'], 'torch.load(default)');
    assert.deepEqual(dangerous(r), []);
    assert.equal(r.verdict, 'safe');
  });

  it('hostile: a DCP .metadata importing os.system is dangerous, whatever weights_only says', async () => {
    const r = await judge('hostile/dcp_metadata_payload');
    assert.equal(r.layout, 'dcp');
    const f = finding(r, 'dcp-metadata-global');
    assert.equal(f.length, 1);
    assert.equal(f[0].severity, 'dangerous');
    assert.equal(f[0].path, '.metadata');
    assert.match(f[0].message, /posix\.system/);
    assert.match(f[0].message, /pickle\.load/);
    assert.equal(r.verdict, 'dangerous');
  });

  it('hostile: an index naming a shard outside the folder is dangerous', async () => {
    const r = await judge('hostile/index_outside');
    const f = finding(r, 'index-outside');
    assert.equal(f.length, 1);
    assert.equal(f[0].severity, 'dangerous');
    assert.equal(f[0].path, 'model.safetensors.index.json');
    assert.match(f[0].message, /\.\.\/\.\.\/secrets\/model-00001-of-00001\.safetensors/);
    assert.equal(r.verdict, 'dangerous');
  });

  it('hostile: a pickle named .safetensors among real shards is dangerous (two readings disagree)', async () => {
    const r = await judge('hostile/pickle_as_shard');
    const f = finding(r, 'format-mismatch');
    assert.ok(f.length >= 1, 'no format-mismatch finding');
    assert.ok(f.every((x) => x.path === 'model-00002-of-00002.safetensors' && x.severity === 'dangerous'));
    assert.match(f[0].message, /torch-zip file, but .* safetensors/);
    assert.equal(r.files.find((x) => x.path === 'model-00001-of-00002.safetensors')?.verdict, 'safe');
    assert.equal(r.verdict, 'dangerous');
  });

  it('hostile: a training_args.bin with a payload is dangerous, read as the full unpickle torch.load gives it', async () => {
    const r = await judge('hostile/trainer_args_payload');
    assert.equal(r.layout, 'hf-trainer');
    const args = r.files.find((f) => f.path === 'checkpoint-1/training_args.bin');
    assert.equal(args?.loader, 'torch.load(default)');
    assert.equal(args?.verdict, 'dangerous');
    assert.ok(args?.findings.some((f) => f.severity === 'dangerous' && /posix\.system/.test(f.message)));
    assert.equal(r.verdict, 'dangerous');
  });

  it('hostile: auto_map and a shipped .py: trust_remote_code=True would run modeling_tiny.py', async () => {
    const r = await judge('hostile/remote_code');
    assert.equal(loaders(r)['modeling_tiny.py'], 'python code');
    const f = finding(r, 'remote-code');
    assert.equal(f.length, 1);
    assert.match(f[0].message, /trust_remote_code=True would run modeling_tiny\.py/);
    assert.match(f[0].message, /config\.json auto_map AutoModel -> modeling_tiny\.TinyModel/);
    assert.equal(r.verdict, 'suspicious');
  });
});
