import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { startStack, type Stack } from '../helpers/stack';

/** The registry commands beyond push and pull, against a running registry: ls, diff, card, retention, tokens … */
function brine(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'brine.js'), ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const fx = (f: string) => join(FIXTURES, 'files', f);
const COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

describe('the brine registry commands', () => {
  let s: Stack;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    s = await startStack({ faults: ['postgres'] });
    dir = mkdtempSync(join(tmpdir(), 'brine-cli-commands-'));
    env = { BRINE_URL: s.url, BRINE_TOKEN: s.adminToken };
    const push = async (file: string, version: string, extra: string[] = []) => {
      const r = await brine(['push', fx(file), '--name', 'cmd', '--version', version, ...extra], env);
      return r;
    };
    const v1 = await push('b_state_dict.pt', 'v1', ['--metric', 'val_loss=0.5', '--git-commit', COMMIT]);
    assert.equal(v1.code, 0, v1.stderr);
    const v2 = await push('b_state_dict_dtypes.pt', 'v2', [
      '--metric',
      'val_loss=0.25',
      '--parent',
      'v1',
      '--metadata',
      '{"optimizer":"adamw","lr":0.001}',
    ]);
    assert.equal(v2.code, 0, v2.stderr);
    const bad = await push('h_os_system_zip.pt', 'v3');
    assert.equal(bad.code, 1, bad.stderr);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await s?.close();
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await brine([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), `brine ${pkg.version}`);
    }
  });

  it('push --metadata keeps the object with the version, and refuses one that is not an object (2)', async () => {
    const v = (await (await s.api('/checkpoints/cmd/v2')).json()) as {
      metadata: Record<string, unknown>;
      lineage: { parent: string | null };
    };
    assert.deepEqual(v.metadata, { optimizer: 'adamw', lr: 0.001 });
    assert.equal(v.lineage.parent, 'v1');
    const notObject = await brine(
      ['push', fx('b_tensor.pt'), '--name', 'cmd', '--version', 'v9', '--metadata', '[1]'],
      env,
    );
    assert.equal(notObject.code, 2);
    assert.match(notObject.stderr, /--metadata must be a JSON object/);
    const file = join(dir, 'meta.json');
    writeFileSync(file, '{"from":"file"}');
    const fromFile = await brine(
      ['push', fx('b_tensor.pt'), '--name', 'cmd-meta', '--version', '1', '--metadata', `@${file}`],
      env,
    );
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const m = (await (await s.api('/checkpoints/cmd-meta/1')).json()) as { metadata: unknown };
    assert.deepEqual(m.metadata, { from: 'file' });
  });

  it('names CLI flags in its hints, not HTTP parameters or headers', async () => {
    const commit = await brine(
      ['push', fx('b_tensor.pt'), '--name', 'cmd', '--version', 'v9', '--git-commit', 'not-hex'],
      env,
    );
    assert.equal(commit.code, 2);
    assert.match(commit.stderr, /--git-commit must be 7 to 64 hexadecimal digits/);
    assert.doesNotMatch(commit.stderr, /x-brine/);
    const pull = await brine(['pull', 'cmd:v3', '-o', join(dir, 'x.pt')], env);
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, /not known to be safe.*pass --acknowledge-risk/);
    assert.doesNotMatch(pull.stderr, /acknowledgeRisk/);
    const tag = await brine(['tag', 'cmd', 'canary', 'v3'], env);
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, /needs --acknowledge-risk/);
  });

  it('ls lists checkpoints, and a checkpoint’s versions filtered by lineage', async () => {
    const all = await brine(['ls'], env);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^cmd\s+3 versions\s+latest v3\s+best -\s+2 safe, 1 not safe/m);
    const versions = await brine(['ls', 'cmd'], env);
    assert.equal(versions.code, 0, versions.stderr);
    assert.match(versions.stdout, /^v3\s+DANGEROUS/m);
    assert.match(versions.stdout, /^v2\s+SAFE.*val_loss=0\.25.*parent v1/m);
    assert.match(versions.stdout, /^v1\s+SAFE.*commit a1b2c3d4e5f6/m);
    const byParent = await brine(['ls', 'cmd', '--parent', 'v1', '--json'], env);
    assert.deepEqual(
      (JSON.parse(byParent.stdout) as Array<{ version: string }>).map((v) => v.version),
      ['v2'],
    );
    const byCommit = await brine(['ls', 'cmd', '--git-commit', COMMIT], env);
    assert.match(byCommit.stdout, /^v1\s/m);
    assert.doesNotMatch(byCommit.stdout, /^v2\s/m);
    const sorted = await brine(
      ['ls', 'cmd', '--sort', 'metrics.val_loss', '--order', 'asc', '--limit', '1'],
      env,
    );
    assert.match(sorted.stdout, /^v2\s/);
    assert.equal(sorted.stdout.trim().split('\n').length, 1);
    assert.equal((await brine(['ls', 'no-such-checkpoint'], env)).code, 4);
    assert.equal((await brine(['ls', '--parent', 'v1'], env)).code, 2);
  });

  it('diff compares two versions, or tags', async () => {
    const d = await brine(['diff', 'cmd:v1', 'v2'], env);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /cmd: v1 → v2/);
    assert.match(d.stdout, /tensors\s+\d+ added, \d+ removed/);
    assert.match(d.stdout, /verdict\s+SAFE → SAFE \(unchanged\)/);
    assert.equal((await brine(['tag', 'cmd', 'production', 'v1'], env)).code, 0);
    const byTag = await brine(['diff', 'cmd', 'production', 'v3'], env);
    assert.equal(byTag.code, 0, byTag.stderr);
    assert.match(byTag.stdout, /cmd: v1 \(production\) → v3/);
    assert.match(byTag.stdout, /verdict\s+SAFE → DANGEROUS/);
    const json = await brine(['diff', 'cmd:v1', 'cmd:v2', '--json'], env);
    assert.equal((JSON.parse(json.stdout) as { from: string; to: string }).to, 'v2');
    assert.equal((await brine(['diff', 'cmd:v1', 'nope'], env)).code, 4);
    assert.equal((await brine(['diff', 'cmd:v1', 'other:v2'], env)).code, 2);
  });

  it('tag -d removes a tag', async () => {
    assert.equal((await brine(['tag', 'cmd', 'staging', 'v2'], env)).code, 0);
    assert.match((await brine(['tag', 'cmd'], env)).stdout, /^staging\s+v2/m);
    const del = await brine(['tag', '-d', 'cmd', 'staging'], env);
    assert.equal(del.code, 0, del.stderr);
    assert.doesNotMatch((await brine(['tag', 'cmd'], env)).stdout, /^staging/m);
    assert.equal((await brine(['tag', '-d', 'cmd', 'staging'], env)).code, 4);
    assert.equal((await brine(['tag', '-d', 'cmd'], env)).code, 2);
  });

  it('sets and clears the best rule; a hand-moved best is pinned, shown so, and handed back to the rule', async () => {
    const rule = await brine(['tag', 'cmd', '--best-rule', 'val_loss:min'], env);
    assert.equal(rule.code, 0, rule.stderr);
    assert.match(rule.stdout, /best follows min val_loss; best → v2/);
    const moved = await brine(['tag', 'cmd', 'best', 'v1'], env);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /cmd:best → v1 \(pinned\)/);
    assert.doesNotMatch(moved.stderr, /moves it back|--clear-best-rule/);
    assert.match(
      moved.stderr,
      /"best" is pinned on v1: the rule \(min val_loss\) leaves it there.*brine tag cmd --best-rule val_loss:min or brine tag -d cmd best/,
    );
    assert.match((await brine(['tag', 'cmd'], env)).stdout, /^best\s+v1\s+\S+\s+pinned$/m);
    assert.match((await brine(['ls', 'cmd'], env)).stdout, /^v1\s.*\[[^\]]*best \(pinned\)/m);
    // the server keeps it there: a metric change does not move it back (v2 has the lower val_loss)
    const patched = await s.api('/checkpoints/cmd/v1', {
      method: 'PATCH',
      json: { metrics: { val_loss: 0.9 } },
    });
    assert.equal(patched.status, 200);
    assert.match((await brine(['tag', 'cmd'], env)).stdout, /^best\s+v1\s.*pinned$/m);
    // setting the rule again hands it back to the rule
    assert.match((await brine(['tag', 'cmd', '--best-rule', 'val_loss:min'], env)).stdout, /best → v2/);
    const unpinned = (await brine(['tag', 'cmd'], env)).stdout;
    assert.match(unpinned, /^best\s+v2\s/m);
    assert.doesNotMatch(unpinned, /pinned/);
    assert.doesNotMatch((await brine(['ls', 'cmd'], env)).stdout, /pinned/);
    // so does removing the tag: the next metric change puts best on the rule's pick
    assert.equal((await brine(['tag', 'cmd', 'best', 'v1'], env)).code, 0);
    assert.equal((await brine(['tag', '-d', 'cmd', 'best'], env)).code, 0);
    await s.api('/checkpoints/cmd/v2', { method: 'PATCH', json: { metrics: { val_loss: 0.25 } } });
    const handedBack = (await brine(['tag', 'cmd'], env)).stdout;
    assert.match(handedBack, /^best\s+v2\s/m);
    assert.doesNotMatch(handedBack, /pinned/);
    await s.api('/checkpoints/cmd/v1', { method: 'PATCH', json: { metrics: { val_loss: 0.5 } } });
    const cleared = await brine(['tag', 'cmd', '--clear-best-rule'], env);
    assert.equal(cleared.code, 0, cleared.stderr);
    const noRule = await brine(['tag', 'cmd', 'best', 'v1'], env);
    assert.equal(noRule.code, 0, noRule.stderr);
    assert.match(noRule.stderr, /"best" is pinned on v1: a best rule leaves it there/);
    assert.equal((await brine(['tag', 'cmd', '--best-rule', 'val_loss'], env)).code, 2);
  });

  it('card shows and writes model cards', async () => {
    assert.match((await brine(['card', 'cmd'], env)).stdout, /no card yet/);
    const file = join(dir, 'card.md');
    writeFileSync(file, '# cmd\n\nTrained on **toy** data.\n');
    const set = await brine(['card', 'cmd', '--set', file], env);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await brine(['card', 'cmd'], env)).stdout, '# cmd\n\nTrained on **toy** data.\n');
    assert.equal((await brine(['card', 'cmd:v2', '--set', file], env)).code, 0);
    const html = JSON.parse((await brine(['card', 'cmd:v2', '--json'], env)).stdout) as { html: string };
    assert.match(html.html, /<strong>toy<\/strong>/);
    assert.equal((await brine(['card', 'cmd', '--set', join(dir, 'missing.md')], env)).code, 2);
  });

  it('retention shows, sets (keeping what is not given), logs and clears the rule', async () => {
    assert.match((await brine(['retention', 'cmd'], env)).stdout, /no retention rule/);
    const set = await brine(['retention', 'cmd', '--keep-newest', '1'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /retention saved: keep the newest 1; tagged versions stay/);
    const rule = (await (await s.api('/checkpoints/cmd/retention')).json()) as {
      rule: Record<string, unknown>;
    };
    assert.deepEqual(rule.rule, { keepNewest: 1, keepTagged: true, deleteUnsafeAfterDays: null });
    const more = await brine(['retention', 'cmd', '--delete-unsafe-after', '30'], env);
    assert.equal(more.code, 0, more.stderr);
    const merged = (await (await s.api('/checkpoints/cmd/retention')).json()) as {
      rule: Record<string, unknown>;
    };
    assert.deepEqual(merged.rule, { keepNewest: 1, keepTagged: true, deleteUnsafeAfterDays: 30 });
    assert.equal((await brine(['retention', 'cmd', '--log'], env)).code, 0);
    const cleared = await brine(['retention', 'cmd', '--clear'], env);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match((await brine(['retention', 'cmd'], env)).stdout, /no retention rule/);
    assert.equal((await brine(['retention', 'cmd', '--keep-newest', '0'], env)).code, 2);
  });

  it('tokens lists, creates and revokes tokens; a read token may not (3)', async () => {
    const created = await brine(['tokens', 'create', 'ci-reader', '--scope', 'read'], env);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim().split('\n').pop()!;
    assert.match(secret, /^brine_/);
    const list = await brine(['tokens'], env);
    assert.match(list.stdout, /^ci-reader\s+read\s/m);
    assert.doesNotMatch(list.stdout, new RegExp(secret));
    const asReader = await brine(['ls'], { ...env, BRINE_TOKEN: secret });
    assert.equal(asReader.code, 0, 'a read token lists');
    assert.equal((await brine(['tokens'], { ...env, BRINE_TOKEN: secret })).code, 3);
    const revoked = await brine(['tokens', 'revoke', 'ci-reader'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(
      (await brine(['ls'], { ...env, BRINE_TOKEN: secret })).code,
      3,
      'a revoked token is refused',
    );
    assert.equal((await brine(['tokens', 'revoke', 'ci-reader'], env)).code, 4);
    assert.equal((await brine(['tokens', 'create', 'x', '--scope', 'root'], env)).code, 2);
  });

  it('exits 3 without a token and 2 on a missing path, in every registry command', async () => {
    for (const args of [
      ['ls'],
      ['tokens'],
      ['diff', 'cmd:v1', 'v2'],
      ['push', fx('b_tensor.pt'), '--name', 'x', '--version', '1'],
    ]) {
      const r = await brine(args, { BRINE_URL: s.url });
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /no token: pass --token or set BRINE_TOKEN/);
    }
    const missing = await brine(['push', join(dir, 'nope.pt'), '--name', 'x', '--version', '1'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
    assert.equal((await brine(['scan', join(dir, 'nope.pt')])).code, 2);
  });

  it('waits out a 503 as its Retry-After says, a bounded number of times', async () => {
    // PostgreSQL stops answering: every request is a 503 with Retry-After (5 s)
    await s.proxies.postgres!.set('refuse');
    let started = Date.now();
    const down = await brine(['ls'], env);
    const downS = (Date.now() - started) / 1000;
    assert.equal(down.code, 5, down.stderr);
    assert.match(down.stderr, /503/);
    assert.ok(downS >= 15 && downS < 40, `3 retries of 5 s, then exit 5: took ${downS.toFixed(1)} s`);
    // it comes back while the command waits: the retry answers
    started = Date.now();
    const pending = brine(['ls', 'cmd'], env);
    setTimeout(() => void s.proxies.postgres!.set('pass'), 2000);
    const up = await pending;
    const upS = (Date.now() - started) / 1000;
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^v1\s/m);
    assert.ok(upS >= 4.5, `it waited for Retry-After: ${upS.toFixed(1)} s`);
    console.log(
      `503 with Retry-After: gave up after ${downS.toFixed(1)} s, recovered after ${upS.toFixed(1)} s`,
    );
  });
});
