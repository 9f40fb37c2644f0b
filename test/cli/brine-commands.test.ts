import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { startStack, type Stack } from '../helpers/stack';

/** The `brine` command as a user runs it: a child process, exit codes and output. */
function brine(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO_ROOT,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'brine.js'), ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const fx = (f: string) => join(FIXTURES, 'files', f);

describe('brine scan', () => {
  it('exits 0 when every file is safe, 1 when one is not, 2 on a usage error', async () => {
    assert.equal((await brine(['scan', fx('b_state_dict.pt')])).code, 0);
    const bad = await brine(['scan', fx('b_state_dict.pt'), fx('h_os_system.pkl')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /DANGEROUS/);
    assert.match(bad.stdout, /os\.system/);
    assert.match(bad.stdout, /how to load on torch 2\.14:\n\s+no safe way: the file would run code/);
    const recipe = await brine(['scan', '--torch', '1.13', fx('b_train_checkpoint.pt')]);
    assert.match(recipe.stdout, /how to load on torch 1\.13:\n\s+no safe way on torch 1\.13/);
    const ok = await brine(['scan', fx('b_train_checkpoint.pt')]);
    assert.match(ok.stdout, /how to load on torch 2\.14:\n\s+import torch\n/);
    assert.match(ok.stdout, /checkpoint\["model_state_dict"\]/);
    assert.equal((await brine(['scan'])).code, 2);
    assert.equal((await brine(['scan', '--torch', '3.0', fx('b_tensor.pt')])).code, 2);
    assert.equal((await brine(['scan', '--allow', 'not-dotted', fx('b_tensor.pt')])).code, 2);
    assert.equal((await brine(['scan', '/does/not/exist'])).code, 2);
    assert.equal((await brine(['frobnicate'])).code, 2);
  });

  it('prints one JSON array with the documented fields, walking folders', async () => {
    const r = await brine(['scan', '--json', join(FIXTURES, 'files')]);
    assert.equal(r.code, 1);
    const reports = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(reports.length, 56);
    for (const rep of reports) {
      for (const k of [
        'path',
        'size',
        'sha256',
        'format',
        'kind',
        'verdict',
        'weightsOnly',
        'findings',
        'imports',
        'tensors',
      ])
        assert.ok(k in rep, `${String(rep.path)} has ${k}`);
      const wo = rep.weightsOnly as {
        target: string;
        safe: boolean;
        byVersion: Record<string, { loads: boolean; reason: string | null }>;
      };
      assert.equal(wo.target, '2.14');
      assert.deepEqual(Object.keys(wo.byVersion).sort(), ['1.13', '2.14', '2.6']);
      for (const f of rep.findings as Array<Record<string, unknown>>) {
        for (const k of ['severity', 'rule', 'entry', 'offset', 'opcode', 'module', 'name', 'message'])
          assert.ok(k in f, `finding has ${k}`);
      }
    }
    const one = reports.find((x) => String(x.path).endsWith('b_tensor.pt'));
    assert.equal(
      one?.sha256,
      createHash('sha256')
        .update(readFileSync(fx('b_tensor.pt')))
        .digest('hex'),
    );
  });

  it('judges against --torch and honours --allow', async () => {
    assert.equal((await brine(['scan', '--torch', '1.13', fx('b_train_checkpoint.pt')])).code, 1);
    assert.equal((await brine(['scan', '--torch', '2.6', fx('b_train_checkpoint.pt')])).code, 0);
    assert.equal((await brine(['scan', fx('s_ckpt_namespace.pt')])).code, 1);
    assert.equal((await brine(['scan', '--allow', 'argparse.Namespace', fx('s_ckpt_namespace.pt')])).code, 0);
  });
});

describe('brine push, pull and tag', () => {
  let s: Stack;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    s = await startStack();
    dir = mkdtempSync(join(tmpdir(), 'brine-cli-'));
    env = { BRINE_URL: s.url, BRINE_TOKEN: s.adminToken };
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await s?.close();
  });

  it('pushes, waits for the verdict, and exits by it', async () => {
    const ok = await brine(
      ['push', fx('b_state_dict.pt'), '--name', 'cli-model', '--version', 'v1', '--metric', 'val_loss=0.25'],
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /cli-model:v1 uploaded/);
    assert.match(ok.stdout, /SAFE/);
    const again = await brine(['push', fx('b_state_dict.pt'), '--name', 'cli-model', '--version', 'v1'], env);
    assert.match(again.stdout, /already there/);
    const bad = await brine(
      ['push', fx('h_os_system_zip.pt'), '--name', 'cli-model', '--version', 'v2'],
      env,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /DANGEROUS/);
    // nothing stored: other bytes under an existing version (4), refused before the file is hashed
    const conflict = await brine(['push', fx('b_tensor.pt'), '--name', 'cli-model', '--version', 'v1'], env);
    assert.equal(conflict.code, 4);
    assert.match(conflict.stderr, /already exists with other content.*immutable/);
    assert.doesNotMatch(conflict.stderr, /hashing/);
    // the same bytes again with a new metric: the metric is recorded, nothing is uploaded
    const metric = await brine(
      ['push', fx('b_state_dict.pt'), '--name', 'cli-model', '--version', 'v1', '--metric', 'accuracy=0.9'],
      env,
    );
    assert.equal(metric.code, 0, metric.stderr);
    assert.match(metric.stdout, /already there \(same bytes\); metrics updated/);
    const v = (await (await s.api('/checkpoints/cli-model/v1')).json()) as {
      metrics: Record<string, number>;
      filename: string;
      uploadedBy: string;
    };
    assert.deepEqual(v.metrics, { val_loss: 0.25, accuracy: 0.9 });
    assert.equal(v.filename, 'b_state_dict.pt');
    assert.equal(v.uploadedBy, 'bootstrap-admin', 'the uploader is shown by its token name');
    // nothing stored: a token the registry does not know (3), one that may only read (3), a registry that is
    // not there (5) — all before hashing
    const badToken = await brine(['push', fx('b_tensor.pt'), '--name', 'cli-model', '--version', 'v9'], {
      ...env,
      BRINE_TOKEN: 'brine_not-a-real-token-at-all-000000000',
    });
    assert.equal(badToken.code, 3, badToken.stderr);
    assert.doesNotMatch(badToken.stderr, /hashing/);
    const reader = (await (
      await s.api('/tokens', { method: 'POST', json: { name: 'cli-reader', scopes: ['read'] } })
    ).json()) as { token: string };
    const readOnly = await brine(['push', fx('b_tensor.pt'), '--name', 'cli-model', '--version', 'v9'], {
      ...env,
      BRINE_TOKEN: reader.token,
    });
    assert.equal(readOnly.code, 3);
    assert.match(readOnly.stderr, /"cli-reader" may not upload/);
    const away = await brine(['push', fx('b_tensor.pt'), '--name', 'cli-model', '--version', 'v9'], {
      ...env,
      BRINE_URL: 'http://127.0.0.1:9',
    });
    assert.equal(away.code, 5, away.stderr);
    const badName = await brine(['push', fx('b_tensor.pt'), '--name', 'bad name', '--version', 'v9'], env);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /name must be a letter or digit/);
    assert.equal((await s.api('/checkpoints/cli-model/v9')).status, 404, 'nothing was stored');
    assert.equal((await brine(['push', fx('b_tensor.pt'), '--name', 'x'], env)).code, 2);
    assert.equal(
      (await brine(['push', fx('b_tensor.pt'), '--name', 'x', '--version', 'v', '--metric', 'loss=low'], env))
        .code,
      2,
    );
    assert.equal(
      (await brine(['push', fx('b_tensor.pt'), '--name', 'x', '--version', 'v'], { BRINE_URL: s.url })).code,
      3,
      'no token',
    );
  });

  it('pulls by version and by tag, verifying the SHA-256', async () => {
    const out = join(dir, 'pulled.pt');
    const r = await brine(['pull', 'cli-model:v1', '-o', out], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /verified/);
    assert.deepEqual(readFileSync(out), readFileSync(fx('b_state_dict.pt')));
    // which torch versions load it, and the code that does, naming the file where it was written
    assert.match(r.stdout, /weights_only=True\): loads on torch 1\.13, 2\.6, 2\.14\n/);
    assert.match(r.stdout, /how to load on torch 2\.14:/);
    assert.ok(r.stdout.includes(`torch.load(${JSON.stringify(out)}, map_location="cpu", weights_only=True)`));
    assert.match(r.stdout, /model\.load_state_dict\(state_dict\)/);
    // a training checkpoint with Python floats: torch 1.13 cannot read it, and --torch 1.13 says so
    assert.equal(
      (await brine(['push', fx('b_train_checkpoint.pt'), '--name', 'cli-ckpt', '--version', '1'], env)).code,
      0,
    );
    const old = await brine(['pull', 'cli-ckpt:1', '-o', join(dir, 'ckpt.pt'), '--torch', '1.13'], env);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /loads on torch 2\.6, 2\.14; refused on 1\.13/);
    assert.match(
      old.stdout,
      /how to load on torch 1\.13:\n\s+no safe way on torch 1\.13: .*BINFLOAT.*use torch 2\.6 or later/,
    );
    assert.equal((await brine(['pull', 'cli-ckpt:1', '--torch', '3.0'], env)).code, 2);
    const refused = await brine(['pull', 'cli-model:v2', '-o', join(dir, 'bad.pt')], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not known to be safe.*--acknowledge-risk/);
    assert.equal(
      (await brine(['pull', 'cli-model:v2', '-o', join(dir, 'bad.pt'), '--acknowledge-risk'], env)).code,
      0,
    );
    assert.equal(
      (await brine(['tag', 'cli-model', 'production', 'v1', '--reason', 'validated'], env)).code,
      0,
    );
    // without a version or tag: the newest safe version, and it says which
    const newest = await brine(['pull', 'cli-model', '-o', join(dir, 'newest.pt')], env);
    assert.equal(newest.code, 0, newest.stderr);
    assert.match(newest.stdout, /cli-model:v1 \(latest-safe\)/);
    const tagBad = await brine(['tag', 'cli-model', 'canary', 'v2'], env);
    assert.equal(tagBad.code, 1);
    assert.match(tagBad.stderr, /not known to be safe/);
    assert.equal((await brine(['tag', 'cli-model', 'canary', 'v2', '--acknowledge-risk'], env)).code, 0);
    const byTag = join(dir, 'prod.pt');
    assert.equal((await brine(['pull', 'cli-model:production', '-o', byTag], env)).code, 0);
    assert.deepEqual(readFileSync(byTag), readFileSync(fx('b_state_dict.pt')));
    await s.api('/checkpoints/cli-model/best-rule', {
      method: 'PUT',
      json: { metric: 'val_loss', mode: 'min' },
    });
    const best = join(dir, 'best.pt');
    assert.equal((await brine(['pull', 'cli-model:best', '-o', best], env)).code, 0);
    assert.deepEqual(readFileSync(best), readFileSync(fx('b_state_dict.pt')));
    const list = await brine(['tag', 'cli-model'], env);
    assert.match(list.stdout, /production\s+v1/);
    assert.match(list.stdout, /best\s+v1/);
    assert.equal((await brine(['pull', 'cli-model:nope'], env)).code, 4);
  });

  it('pulls the safetensors twin of a safe state dict, and refuses where there is none', async () => {
    const twin = join(dir, 'model.safetensors');
    let r = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 100 && r.code !== 0; i++) {
      r = await brine(['pull', 'cli-model:v1', '--format', 'safetensors', '-o', twin], env);
      if (r.code !== 0) await new Promise((res) => setTimeout(res, 200)); // the twin is written after the scan
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /verified/);
    assert.ok(r.stdout.includes(`load_model(model, ${JSON.stringify(twin)})`));
    const bytes = readFileSync(twin);
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()) as {
      __metadata__: Record<string, string>;
    };
    assert.equal(header.__metadata__['brine.source'], 'cli-model:v1');
    const none = await brine(['pull', 'cli-model:v2', '--format', 'safetensors', '-o', join(dir, 'x')], env);
    assert.equal(none.code, 4, 'no twin to serve: the registry refused (404)');
    assert.match(none.stderr, /has no safetensors twin to download: only safe versions get one/);
    assert.equal((await brine(['pull', 'cli-model:v1', '--format', 'pickle'], env)).code, 2);
  });
});
