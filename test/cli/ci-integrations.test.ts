import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';

/** .pre-commit-hooks.yaml and action.yml, run the way pre-commit and GitHub run them */
function exec(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const fx = (f: string) => join(FIXTURES, 'files', f);

describe('the pre-commit hook', () => {
  const hooks = parse(readFileSync(join(REPO_ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Array<{
    id: string;
    entry: string;
    language: string;
    files: string;
  }>;
  const hook = hooks.find((h) => h.id === 'brine-scan');

  it('is a node hook whose entry is the brine command', () => {
    assert.ok(hook);
    assert.equal(hook.language, 'node');
    assert.match(hook.entry, /^brine scan\b/);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    assert.ok(pkg.bin.brine, 'package.json provides the brine command pre-commit installs');
  });

  it('selects model and pickle files, not text', () => {
    const re = new RegExp(hook!.files.replace(/^\(\?i\)/, ''), 'i');
    for (const f of [
      'model.pt',
      'w.PTH',
      'x/pytorch_model.bin',
      'a.pkl',
      'm.joblib',
      'w.safetensors',
      'a.npz',
    ])
      assert.ok(re.test(f), f);
    for (const f of ['README.md', 'train.py', 'config.yaml']) assert.ok(!re.test(f), f);
  });

  it('fails the commit on a hostile file and passes a safe one, as pre-commit calls it', async () => {
    const [, ...args] = hook!.entry.split(/\s+/);
    const brine = join(REPO_ROOT, 'bin', 'brine.js');
    const ok = await exec(process.execPath, [brine, ...args, fx('b_state_dict.pt'), fx('b_tensor.pt')]);
    assert.equal(ok.code, 0, ok.stdout);
    const bad = await exec(process.execPath, [
      brine,
      ...args,
      fx('b_state_dict.pt'),
      fx('h_os_system_zip.pt'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /DANGEROUS/);
  });
});

describe('the GitHub Action', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
    runs: { using: string; steps: Array<{ id?: string; run?: string; env?: Record<string, string> }> };
    inputs: Record<string, { default: string }>;
  };

  it('is a composite action with a scan step and documented inputs', () => {
    assert.equal(action.runs.using, 'composite');
    for (const i of ['paths', 'torch', 'include', 'exclude', 'allow', 'sarif', 'upload', 'fail'])
      assert.ok(action.inputs[i], i);
    assert.ok(action.runs.steps.some((s) => s.id === 'scan'));
  });

  it("runs its scan step as written: SARIF out, brine's exit code as an output", async () => {
    const step = action.runs.steps.find((s) => s.id === 'scan')!;
    const dir = mkdtempSync(join(tmpdir(), 'brine-action-'));
    const out = join(dir, 'github_output');
    const sarif = join(dir, 'brine.sarif');
    const r = await exec('bash', ['-e', '-c', step.run!], {
      BRINE: join(REPO_ROOT, 'bin', 'brine.js'),
      INPUT_PATHS: join(FIXTURES, 'files'),
      INPUT_TORCH: '2.14',
      INPUT_INCLUDE: 'b_*.pt\nh_os_system_zip.pt',
      INPUT_EXCLUDE: '',
      INPUT_ALLOW: 'argparse.Namespace',
      INPUT_SARIF: sarif,
      GITHUB_OUTPUT: out,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8').trim(), 'exit-code=1');
    const log = JSON.parse(readFileSync(sarif, 'utf8')) as {
      runs: Array<{ artifacts: Array<{ location: { uri: string } }> }>;
    };
    const scanned = log.runs[0].artifacts.map((a) => a.location.uri.split('/').pop());
    assert.ok(
      scanned.includes('h_os_system_zip.pt') && scanned.includes('b_state_dict.pt'),
      scanned.join(','),
    );
    assert.ok(!scanned.includes('h_os_system.pkl'), 'the include globs were applied');
    rmSync(dir, { recursive: true, force: true });
  });
});
