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
    args?: string[];
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
    const [, ...entry] = hook!.entry.split(/\s+/);
    const args = [...entry, ...(hook!.args ?? [])];
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

  it('passes plain numpy arrays, ONNX and GGUF models by default, and blocks hostile ones', async () => {
    const [, ...entry] = hook!.entry.split(/\s+/);
    const args = [...entry, ...(hook!.args ?? [])];
    const brine = join(REPO_ROOT, 'bin', 'brine.js');
    const harmless = ['b_array.npy', 'b_arrays.npz', 'b_model.onnx', 'b_model.gguf', 'b_weights.safetensors'];
    const ok = await exec(process.execPath, [brine, ...args, ...harmless.map(fx)]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /SUSPICIOUS[\s\S]*accepted \(--allow-format numpy\)/);
    // without the hook's args the same files fail: torch.load refuses them
    assert.equal((await exec(process.execPath, [brine, ...entry, fx('b_array.npy')])).code, 1);
    for (const f of [
      's_objects.npy',
      'h_pickle_as.npy',
      'h_onnx_external_traversal.onnx',
      'h_gguf_template_injection.gguf',
      'u_truncated.safetensors',
    ]) {
      const bad = await exec(process.execPath, [brine, ...args, fx(f)]);
      assert.equal(bad.code, 1, `${f}: ${bad.stdout}`);
    }
  });
});

describe('brine scan --fail-on and --allow-format', () => {
  const brine = (args: string[]) => exec(process.execPath, [join(REPO_ROOT, 'bin', 'brine.js'), ...args]);

  it('fails on the verdict named and everything worse', async () => {
    // s_full_model_main.pt is suspicious (a class of the training script), h_os_system.pkl dangerous
    assert.equal((await brine(['scan', fx('s_full_model_main.pt')])).code, 1);
    assert.equal((await brine(['scan', '--fail-on', 'unknown', fx('s_full_model_main.pt')])).code, 1);
    assert.equal((await brine(['scan', '--fail-on', 'suspicious', fx('s_full_model_main.pt')])).code, 1);
    const lenient = await brine(['scan', '--fail-on', 'dangerous', fx('s_full_model_main.pt')]);
    assert.equal(lenient.code, 0, lenient.stdout);
    assert.match(lenient.stdout, /SUSPICIOUS[\s\S]*passes --fail-on dangerous/);
    assert.equal((await brine(['scan', '--fail-on', 'dangerous', fx('h_os_system.pkl')])).code, 1);
    assert.equal((await brine(['scan', '--fail-on', 'suspicious', fx('u_truncated.safetensors')])).code, 0);
    assert.equal((await brine(['scan', '--fail-on', 'unknown', fx('u_truncated.safetensors')])).code, 1);
    // the JSON reports keep the scanner's verdicts: the policy decides only the exit status
    const json = await brine(['scan', '--json', '--allow-format', 'numpy', fx('b_array.npy')]);
    assert.equal(json.code, 0);
    assert.equal((JSON.parse(json.stdout) as Array<{ verdict: string }>)[0].verdict, 'suspicious');
  });

  it('refuses a verdict or a format it does not know (exit 2)', async () => {
    assert.equal((await brine(['scan', '--fail-on', 'safe', fx('b_tensor.pt')])).code, 2);
    const pickle = await brine(['scan', '--allow-format', 'pickle', fx('b_tensor.pt')]);
    assert.equal(pickle.code, 2);
    assert.match(pickle.stderr, /--allow-format takes numpy, safetensors, onnx, gguf/);
  });
});

describe('the GitHub Action', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
    runs: { using: string; steps: Array<{ id?: string; run?: string; env?: Record<string, string> }> };
    inputs: Record<string, { default: string }>;
  };

  it('is a composite action with a scan step and documented inputs', () => {
    assert.equal(action.runs.using, 'composite');
    for (const i of [
      'paths',
      'torch',
      'include',
      'exclude',
      'allow',
      'fail-on',
      'allow-format',
      'sarif',
      'upload',
      'fail',
    ])
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
      INPUT_FAIL_ON: action.inputs['fail-on'].default,
      INPUT_ALLOW_FORMAT: action.inputs['allow-format'].default,
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
    // harmless numpy and ONNX files pass with the default allow-format; with it empty they fail
    const inputs = {
      BRINE: join(REPO_ROOT, 'bin', 'brine.js'),
      INPUT_PATHS: join(FIXTURES, 'files'),
      INPUT_TORCH: '2.14',
      INPUT_INCLUDE: 'b_array*.np?\nb_model.onnx',
      INPUT_EXCLUDE: '',
      INPUT_ALLOW: '',
      INPUT_FAIL_ON: action.inputs['fail-on'].default,
      INPUT_ALLOW_FORMAT: action.inputs['allow-format'].default,
      INPUT_SARIF: sarif,
      GITHUB_OUTPUT: out,
    };
    for (const [allowFormat, code] of [
      [inputs.INPUT_ALLOW_FORMAT, 0],
      ['', 1],
    ] as const) {
      const h = await exec('bash', ['-e', '-c', step.run!], { ...inputs, INPUT_ALLOW_FORMAT: allowFormat });
      assert.equal(h.code, 0, h.stderr);
      assert.match(readFileSync(out, 'utf8'), new RegExp(`exit-code=${code}\\n$`));
      // what the policy let through is a suppressed note in code scanning, not an alert
      const results = (
        JSON.parse(readFileSync(sarif, 'utf8')) as {
          runs: Array<{ results: Array<{ ruleId: string; level: string; suppressions?: unknown[] }> }>;
        }
      ).runs[0].results.filter((x) => x.ruleId === 'weights-only-refused');
      assert.ok(results.length >= 3);
      for (const x of results) {
        assert.equal(x.level, code === 0 ? 'note' : 'warning');
        assert.equal(x.suppressions !== undefined, code === 0);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
