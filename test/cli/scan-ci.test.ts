import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';

/** `brine scan` as CI and pre-commit run it: folders, globs, SARIF, exit codes. */
function run(
  file: string,
  args: string[],
  opts: { cwd?: string; asUser?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  // root reads every file: the unreadable-file case drops to an unprivileged user
  const drop = opts.asUser && process.getuid?.() === 0;
  const cmd = drop ? 'setpriv' : file;
  const argv = drop ? ['--reuid=65534', '--regid=65534', '--clear-groups', file, ...args] : args;
  return new Promise((resolve) => {
    execFile(
      cmd,
      argv,
      {
        cwd: opts.cwd ?? REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const brine = (args: string[], opts: { cwd?: string; asUser?: boolean } = {}) =>
  run(process.execPath, [join(REPO_ROOT, 'bin', 'brine.js'), ...args], opts);
const fx = (f: string) => join(FIXTURES, 'files', f);

describe('brine scan in CI', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'brine-ci-'));
    for (const d of ['.git/objects', 'node_modules/x', 'docs', 'models/old', 'src'])
      mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(fx('h_os_system.pkl'), join(dir, '.git', 'objects', 'payload.pkl'));
    copyFileSync(fx('h_os_system.pkl'), join(dir, 'node_modules', 'x', 'payload.pkl'));
    copyFileSync(join(REPO_ROOT, 'docs', 'report-screenshot.png'), join(dir, 'docs', 'shot.png'));
    writeFileSync(
      join(dir, 'README.md'),
      '# A model\n\nTrained with `torch.save(model.state_dict(), "m.pt")`.\n',
    );
    writeFileSync(join(dir, 'config.yaml'), 'lr: 0.1\nepochs: 3\n');
    writeFileSync(
      join(dir, 'src', 'train.py'),
      'import torch\nfrom torch import nn\n\nprint(nn.Linear(2, 2))\n',
    );
    copyFileSync(fx('b_state_dict.pt'), join(dir, 'models', 'model.pt'));
    copyFileSync(fx('h_proto0_text.pkl'), join(dir, 'src', 'notes.txt'));
    copyFileSync(fx('h_runpy.pkl'), join(dir, 'models', 'old', 'legacy.bin'));
    writeFileSync(join(dir, 'models', 'blob.dat'), Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x42, 0x00, 0x13]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('skips what is clearly not a model by content, says so, and still reports unknown binaries', async () => {
    const r = await brine(['scan', '--no-hash', '--json', dir]);
    assert.equal(r.code, 1);
    const paths = (JSON.parse(r.stdout) as Array<{ path: string; verdict: string }>).map((x) => [
      x.path.slice(x.path.indexOf('brine-ci-')).replace(/^brine-ci-[^/]+\//, ''),
      x.verdict,
    ]);
    assert.deepEqual(paths.sort(), [
      ['models/blob.dat', 'unknown'],
      ['models/model.pt', 'safe'],
      ['models/old/legacy.bin', 'dangerous'],
      ['src/notes.txt', 'dangerous'],
    ]);
    assert.match(
      r.stderr,
      /skipped 6 paths: 2 a version-control or dependency folder, 1 a PNG image, 3 text that is not a pickle/,
    );
  });

  it('takes --include and --exclude globs', async () => {
    const inc = await brine(['scan', '--no-hash', '--json', '--include', '**/*.pt', dir]);
    assert.equal(inc.code, 0, inc.stderr);
    assert.equal((JSON.parse(inc.stdout) as unknown[]).length, 1);
    const exc = await brine([
      'scan',
      '--no-hash',
      '--json',
      '--exclude',
      'models/old/**',
      '--exclude',
      '*.txt',
      dir,
    ]);
    const names = (JSON.parse(exc.stdout) as Array<{ path: string }>).map((x) => x.path);
    assert.ok(!names.some((n) => n.endsWith('legacy.bin') || n.endsWith('notes.txt')), names.join(', '));
    assert.match(exc.stderr, /2 matches --exclude/);
  });

  it('scans a file named on the command line whatever it is', async () => {
    const r = await brine(['scan', '--no-hash', join(dir, 'README.md')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /UNKNOWN/);
  });

  it('exits 0 all safe, 1 something not safe, 2 on a usage error, 3 when a file cannot be read', async () => {
    assert.equal((await brine(['scan', fx('b_state_dict.pt')])).code, 0);
    assert.equal((await brine(['scan', fx('h_os_system.pkl')])).code, 1);
    assert.equal((await brine(['scan', '--format', 'xml', fx('b_tensor.pt')])).code, 2);
    assert.equal((await brine(['scan', '--output', 'x.json', fx('b_tensor.pt')])).code, 2);
    const open = mkdtempSync(join(tmpdir(), 'brine-locked-'));
    chmodSync(open, 0o755);
    const locked = join(open, 'locked.pt');
    copyFileSync(fx('b_tensor.pt'), locked);
    chmodSync(locked, 0o000);
    const r = await brine(['scan', locked], { asUser: true, cwd: tmpdir() });
    assert.doesNotMatch(
      r.stderr,
      /Cannot find module/,
      'the unprivileged user cannot reach the checkout: make its folders world-readable (.ci/run does)',
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /cannot read .*locked\.pt/);
    rmSync(open, { recursive: true, force: true });
  });
});

describe('SARIF output', () => {
  let log: {
    runs: Array<{
      results: Array<Record<string, unknown>>;
      tool: { driver: { rules: Array<{ id: string }> } };
    }>;
  };
  let file: string;
  before(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'brine-sarif-')), 'brine.sarif');
    // --allow-format: the log holds suppressed results too (what the policy let through)
    const r = await brine([
      'scan',
      '--format',
      'sarif',
      '--allow-format',
      'numpy,onnx,gguf',
      '--output',
      file,
      join(FIXTURES, 'files'),
    ]);
    assert.equal(r.code, 1, r.stderr);
    log = JSON.parse(readFileSync(file, 'utf8'));
  });

  it('is valid against the SARIF 2.1.0 schema', () => {
    const platform = require.resolve(`@microsoft/sarif-multitool-${process.platform}/package.json`);
    const schema = JSON.parse(readFileSync(join(platform, '..', 'sarif-2.1.0.json'), 'utf8'));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const valid = ajv.validate(schema, log);
    assert.ok(valid, JSON.stringify(ajv.errors?.slice(0, 5)));
  });

  it("passes Microsoft's SARIF validator (the rules GitHub code scanning applies) without errors", async () => {
    // the platform package exports the validator's path
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bin = require(`@microsoft/sarif-multitool-${process.platform}`) as string;
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      chmodSync(bin, 0o755); // npm may skip the package's own postinstall chmod
    }
    const out = `${file}.validation.sarif`;
    const v = await run(bin, ['validate', file, '--output', out]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const results = (JSON.parse(readFileSync(out, 'utf8')) as typeof log).runs[0].results;
    const errors = results.filter((x) => x.level === 'error');
    assert.deepEqual(errors, []);
    // the one advisory left: no informationUri (Brine has no public home page to point at)
    assert.deepEqual(
      [...new Set(results.map((x) => x.ruleId))].filter((id) => id !== 'SARIF2005'),
      [],
    );
  });

  it('has one result per finding, with rule, level, file, entry and offset', () => {
    const run = log.runs[0];
    const suppressed = run.results.filter((x) => x.suppressions !== undefined);
    assert.ok(
      suppressed.length >= 4 &&
        suppressed.every((x) => x.ruleId === 'weights-only-refused' && x.level === 'note'),
      'torch.load refusing an allowed format is a suppressed note',
    );
    const payload = run.results.find(
      (x) => x.ruleId === 'import-dangerous' && JSON.stringify(x).includes('h_os_system_zip.pt'),
    ) as {
      level: string;
      locations: Array<{
        physicalLocation: { artifactLocation: { uri: string } };
        logicalLocations: Array<{ fullyQualifiedName: string }>;
      }>;
    };
    assert.equal(payload.level, 'error');
    assert.match(
      payload.locations[0].physicalLocation.artifactLocation.uri,
      /test\/fixtures\/files\/h_os_system_zip\.pt$/,
    );
    assert.equal(payload.locations[0].logicalLocations[0].fullyQualifiedName, 'archive/data.pkl');
    assert.ok(run.tool.driver.rules.some((r) => r.id === 'import-dangerous'));
    const safe = run.results.filter((x) => JSON.stringify(x).includes('b_state_dict.pt'));
    assert.deepEqual(safe, [], 'a safe file has no results');
  });
});
