import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { TORCH_VERSIONS, type ScanReport, type TorchVersion } from '@brine/scanner/report';
import { REPO_ROOT, FIXTURES } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';
import { put, scanned, startStack, type Stack } from '../helpers/stack';
import { runJsonHarness, torchMissing, torchPath } from '../helpers/torch-python';

/**
 * Advice by proof (issue 19), against real torch. test/fixtures/generate_advice.py wrote, with torch.save under
 * torch 1.13, 2.6 and 2.14:
 *  - hostile/: real checkpoints plus one call of a callable that is not on Brine's vetted list (several on no
 *    gadget list either); loading them with weights_only=False runs a payload that creates a marker file;
 *  - benign/: what training code saves (scheduler and scaler states, whole optimizers and models of torch.nn
 *    classes, argparse/pathlib/datetime/numpy inside checkpoints, a class of the user's own, a protocol-4 save).
 * Every recipe Brine prints is run, as printed, by the torch it is for; the payloads are watched for.
 */
const ADVICE = join(FIXTURES, 'advice');
const HOSTILE = join(ADVICE, 'hostile');
const BENIGN = join(ADVICE, 'benign');
const HARNESS = join(REPO_ROOT, 'test', 'python', 'run_advice.py');
const MARKERS = '/tmp/brine-advice';

const madeBy = (f: string) => /_t(1\.13|2\.6|2\.14)\.pt$/.exec(f)?.[1] as TorchVersion;
const caseOf = (f: string) => f.replace(/^[hb]_/, '').replace(/_t[\d.]+\.pt$/, '');
const ptFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.pt'))
    .sort();

interface Item {
  id: string;
  file?: string;
  mode: 'recipe' | 'default' | 'unsafe' | 'allow';
  code?: string;
  globals?: string[];
  marker?: string;
}
interface Result {
  id: string;
  outcome: 'ok' | 'error' | 'skipped';
  detail: string;
  marker: boolean;
}

const reports = new Map<string, ScanReport>();

before(async () => {
  for (const dir of [HOSTILE, BENIGN])
    for (const f of ptFiles(dir)) reports.set(f, await scanFile(join(dir, f)));
});

async function harness(v: TorchVersion, dir: string, items: Item[]): Promise<Map<string, Result>> {
  const { results, stderr } = await runJsonHarness<Result>(v, HARNESS, dir, items, {
    PYTHONPATH: torchPath(v, BENIGN),
  });
  assert.equal(results.length, items.length, stderr.slice(-3000));
  return new Map(results.map((r) => [r.id, r]));
}

/**
 * what the file needs allowed that neither torch nor Brine's vetted list vouches for, as module.name (what a recipe
 * imports) and, where the file spells it the Python 2 way, =module.name as torch checks it
 */
function unvetted(r: ScanReport): string[] {
  return r.imports
    .filter((i) => !i.allowedBy['2.14'] && (i.class === 'dangerous' || i.class === 'suspicious'))
    .map((i) => `${i.module}.${i.name}${i.raw ? `=${i.raw.module}.${i.raw.name}` : ''}`);
}

describe('hostile checkpoints: no advice runs the payload', () => {
  it('every hostile file is dangerous, and no recipe for any torch allows anything', () => {
    const files = ptFiles(HOSTILE);
    assert.ok(files.length >= 30, `hostile files: ${files.length}`);
    for (const f of files) {
      const r = reports.get(f) as ScanReport;
      assert.equal(r.verdict, 'dangerous', `${f}: ${r.summary}`);
      for (const v of TORCH_VERSIONS) {
        const h = r.howToLoad[v];
        assert.equal(h.loads, false, `${f} on ${v}`);
        assert.equal(h.code, null, `${f} on ${v}`);
        assert.deepEqual(h.safeGlobals, [], `${f} on ${v}`);
        assert.equal(h.ifTrusted, undefined, `${f} on ${v}`);
      }
    }
  });

  for (const v of TORCH_VERSIONS) {
    it(
      `torch ${v}: each payload is real, weights_only=True alone never runs it, and allowing the callable would have`,
      { skip: torchMissing(v) ?? false },
      async () => {
        const files = ptFiles(HOSTILE).filter((f) => madeBy(f) === v);
        const items: Item[] = [];
        for (const f of files) {
          const marker = `${MARKERS}/${caseOf(f)}`;
          items.push({ id: `${f} unsafe`, file: f, mode: 'unsafe', marker });
          items.push({ id: `${f} default`, file: f, mode: 'default', marker });
          if (v !== '1.13')
            items.push({
              id: `${f} allow`,
              file: f,
              mode: 'allow',
              globals: unvetted(reports.get(f)!),
              marker,
            });
        }
        const res = await harness(v, HOSTILE, items);
        for (const f of files) {
          const unsafe = res.get(`${f} unsafe`)!;
          assert.equal(
            unsafe.marker,
            true,
            `${f}: loading with weights_only=False should run the payload\n${unsafe.detail}`,
          );
          const def = res.get(`${f} default`)!;
          assert.equal(def.marker, false, `${f}: weights_only=True ran the payload`);
          assert.equal(def.outcome, 'error', `${f}: weights_only=True loaded it`);
          // a denylist-based recipe (safe_globals with what "is not a known gadget") runs it, where the callable
          // is imported by name (a method fetched with getattr is refused by torch's REDUCE check either way)
          const r = reports.get(f)!;
          if (v !== '1.13' && !r.findings.some((x) => x.rule === 'call-fetched-attribute'))
            assert.equal(res.get(`${f} allow`)!.marker, true, `${f}: allowing ${unvetted(r).join(', ')}`);
        }
      },
    );
  }
});

describe('benign checkpoints: every recipe loads as printed', () => {
  it('no benign file is dangerous, and the advice says what applies to each', () => {
    for (const f of ptFiles(BENIGN)) {
      const r = reports.get(f)!;
      assert.notEqual(r.verdict, 'dangerous', `${f}: ${r.summary}`);
      const c = caseOf(f);
      const on = (v: TorchVersion) => r.howToLoad[v];
      for (const v of ['2.6', '2.14'] as const) {
        if (/^full_model_|^ckpt_namespace_path$|^ckpt_stdlib$|^ckpt_numpy$|^scheduler_object$/.test(c))
          assert.equal(on(v).loads, true, `${f} on ${v}: ${on(v).notes[0]}`);
        if (c === 'ckpt_user_class') {
          assert.equal(on(v).loads, false, f);
          assert.deepEqual(on(v).ifTrusted?.trust, ['advice_user_code.TrainConfig'], f);
        }
        if (c === 'ckpt_protocol4') {
          assert.match(on(v).notes[0], /FRAME.*re-save it where it was made/, f);
          assert.doesNotMatch(on(v).notes[0], /use torch 2\.6/, f);
        }
        if (c === 'ckpt_bound_method')
          assert.match(on(v).notes[0], /builtins\.getattr \(Brine never recommends/, f);
      }
      if (c === 'steplr_state') assert.match(on('1.13').notes[0], /BINFLOAT.*torch 2\.6 or later/, f);
      for (const v of TORCH_VERSIONS) {
        assert.equal(on('1.13').safeGlobals.length, 0, '1.13 has no safe_globals');
        for (const g of on(v).safeGlobals)
          assert.ok(!g.startsWith('advice_user_code'), `${f}: ${g} in a recipe`);
      }
    }
  });

  for (const v of TORCH_VERSIONS) {
    it(
      `torch ${v}: every recipe and ifTrusted block runs, and every file it loads by itself gets a recipe`,
      { skip: torchMissing(v) ?? false },
      async () => {
        const items: Item[] = [];
        for (const f of ptFiles(BENIGN)) {
          const h = reports.get(f)!.howToLoad[v];
          items.push({ id: `${f} default`, file: f, mode: 'default' });
          if (h.loads && h.code) items.push({ id: `${f} recipe`, mode: 'recipe', code: h.code });
          if (h.ifTrusted) items.push({ id: `${f} trusted`, mode: 'recipe', code: h.ifTrusted.code });
        }
        const res = await harness(v, BENIGN, items);
        const failed = [...res.values()].filter((x) => x.outcome === 'error' && !x.id.endsWith(' default'));
        assert.deepEqual(
          failed.map((x) => x.id),
          [],
          failed.map((x) => `${x.id}:\n${x.detail}`).join('\n'),
        );
        const recipes = items.filter((i) => i.id.endsWith(' recipe')).length;
        assert.ok(recipes >= (v === '1.13' ? 3 : 25), `recipes run on ${v}: ${recipes}`);
        for (const f of ptFiles(BENIGN)) {
          if (res.get(`${f} default`)!.outcome === 'ok')
            assert.equal(
              reports.get(f)!.howToLoad[v].loads,
              true,
              `torch ${v} loads ${f} by itself: it needs a recipe`,
            );
        }
      },
    );
  }
});

describe('through brine.load, with the Python client in each torch', () => {
  let s: Stack;
  /** checkpoint name of each fixture: its case, with the torch that wrote it */
  const nameOf = (f: string) => f.replace(/\.pt$/, '').replace(/[^A-Za-z0-9._-]/g, '-');

  before(async () => {
    s = await startStack();
    for (const [dir, files] of [
      [HOSTILE, ptFiles(HOSTILE)],
      [BENIGN, ptFiles(BENIGN)],
    ] as const)
      for (const f of files) {
        const r = await put(s, nameOf(f), '1', readFileSync(join(dir, f)), { 'x-brine-filename': f });
        assert.equal(r.status, 201, await r.text());
      }
    for (const f of [...ptFiles(HOSTILE), ...ptFiles(BENIGN)]) await scanned(s, nameOf(f), '1', 120_000);
  });
  after(() => s?.close());

  interface Loaded {
    ref: string;
    outcome: 'loaded' | 'not-safe' | 'error';
    detail: string;
    marker: boolean;
  }

  for (const v of TORCH_VERSIONS) {
    it(
      `torch ${v}: hostile files are refused without running anything; what the recipe loads, the client loads`,
      { skip: torchMissing(v) ?? false },
      async () => {
        const items: Array<{ ref: string; trust?: string[]; marker?: string; file: string }> = [];
        for (const f of ptFiles(HOSTILE).filter((x) => madeBy(x) === v))
          items.push({ ref: `${nameOf(f)}:1`, marker: `${MARKERS}/${caseOf(f)}`, file: f });
        for (const f of ptFiles(BENIGN)) {
          items.push({ ref: `${nameOf(f)}:1`, file: f });
          if (reports.get(f)!.howToLoad[v].ifTrusted)
            items.push({ ref: `${nameOf(f)}:1`, trust: ['TrainConfig'], file: f });
        }
        const { results, stderr } = await runJsonHarness<Loaded>(
          v,
          join(REPO_ROOT, 'test', 'python', 'load_with_client.py'),
          BENIGN,
          items,
          {
            PYTHONPATH: `${torchPath(v, join(REPO_ROOT, 'clients', 'python'))}:${torchPath(v, BENIGN)}`,
            BRINE_URL: s.url,
            BRINE_TOKEN: s.adminToken,
          },
        );
        assert.equal(results.length, items.length, stderr.slice(-3000));
        results.forEach((r, i) => {
          const item = items[i];
          const h = reports.get(item.file)!.howToLoad[v];
          if (item.marker) {
            assert.equal(r.outcome, 'not-safe', `${item.file}: ${r.detail}`);
            assert.equal(r.marker, false, `${item.file}: brine.load ran the payload`);
          } else if (item.trust) {
            assert.equal(r.outcome, 'loaded', `${item.file} with trust=: ${r.detail}`);
          } else {
            assert.equal(r.outcome, h.loads ? 'loaded' : 'not-safe', `${item.file}: ${r.detail}`);
            if (h.ifTrusted) assert.match(r.detail, /trust=\[TrainConfig\]/);
          }
        });
      },
    );
  }
});
