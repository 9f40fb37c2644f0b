import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemorySource } from '@brine/bytes';
import {
  harmlessEntry,
  recipeGlobals,
  scan,
  threatOf,
  TORCH_VERSIONS,
  type ScanReport,
} from '@brine/scanner';
import { PickleAsm, torchZipOf } from '../helpers/pickle-asm';
import { REPO_ROOT } from '../helpers/paths';
import { runTorchPython, torchMissing } from '../helpers/torch-python';

/**
 * Brine's vetted list of harmless constructors (libs/scanner/data/harmless.json) and the grading built on it: a
 * callable every victim has (the standard library, numpy, torch) that is called while loading and is not proven
 * harmless is dangerous; one that is only stored is suspicious; the user's own code is suspicious; a recipe allows
 * only vetted entries.
 */
const DATA = join(REPO_ROOT, 'libs', 'scanner', 'data');
const vetted = JSON.parse(readFileSync(join(DATA, 'harmless.json'), 'utf8')) as {
  entries: Array<{ global: string; kind: string; reason: string; calls: string; gadgetScan?: string }>;
};
const reviewed = JSON.parse(readFileSync(join(DATA, 'harmless.reviewed.json'), 'utf8')) as {
  runtimes: Record<string, Record<string, unknown>>;
};

async function scanPickle(p: PickleAsm, name = 'model.pt'): Promise<ScanReport> {
  const bytes = torchZipOf(p.bytes());
  return scan(new MemorySource(bytes), { path: name, filename: name });
}

/** {'model': {}, 'extra': <what `extra` pushes>} */
function checkpoint(extra: (p: PickleAsm) => PickleAsm): PickleAsm {
  const p = new PickleAsm().proto(2).op('EMPTY_DICT').str('model').op('EMPTY_DICT').str('extra');
  return extra(p).op('SETITEM').op('SETITEM').op('STOP');
}

const call =
  (module: string, name: string, ...args: Array<(p: PickleAsm) => PickleAsm>) =>
  (p: PickleAsm) => {
    p.global(module, name).op('MARK');
    for (const a of args) a(p);
    return p.op('TUPLE').op('REDUCE');
  };
const str = (s: string) => (p: PickleAsm) => p.str(s);
const ref = (module: string, name: string) => (p: PickleAsm) => p.global(module, name);

describe('the vetted list', () => {
  it('every entry says what it is and why it is harmless, once', () => {
    const seen = new Set<string>();
    assert.ok(vetted.entries.length > 150, `${vetted.entries.length} entries`);
    for (const e of vetted.entries) {
      assert.ok(!seen.has(e.global), `${e.global} twice`);
      seen.add(e.global);
      assert.match(e.global, /^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/, e.global);
      assert.ok(['class', 'function', 'constant'].includes(e.kind), e.global);
      assert.ok(['arguments', 'none'].includes(e.calls), e.global);
      assert.ok(e.reason.length > 20, `${e.global} has no reason`);
    }
  });

  it('no entry is a known gadget; where the call-graph scan reaches a sink, the entry answers it', () => {
    for (const e of vetted.entries) {
      const dot = e.global.lastIndexOf('.');
      const t = threatOf(e.global.slice(0, dot), e.global.slice(dot + 1));
      if (!t) continue;
      assert.ok(t.scanned, `${e.global} is on the hand-kept gadget list: ${t.reason}`);
      assert.ok(
        e.gadgetScan,
        `${e.global}: the gadget scan says "${t.reason}"; the entry must say why it stands`,
      );
    }
  });

  it('recipes only ever name vetted entries that exist in that torch', () => {
    for (const v of TORCH_VERSIONS) {
      const names = recipeGlobals(v);
      assert.ok(names.length > 100, v);
      for (const n of names) {
        assert.ok(harmlessEntry(n), n);
        assert.ok(n in (reviewed.runtimes[v].reviewed as object), `${n} on ${v}`);
      }
      assert.ok(!names.includes('builtins.getattr'), 'getattr is never recommended');
    }
  });

  for (const v of TORCH_VERSIONS) {
    it(
      `what an unpickler reaches through each entry is what was reviewed, in torch ${v}'s interpreter`,
      { skip: torchMissing(v) ?? false },
      async () => {
        const script = join(REPO_ROOT, 'scripts', 'harmless', 'review.py');
        const r = await runTorchPython(v, script, { cwd: REPO_ROOT });
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        const now = JSON.parse(r.stdout) as { reviewed: Record<string, Record<string, string>> };
        const then = reviewed.runtimes[v].reviewed as Record<string, Record<string, string>>;
        const changed = Object.keys({ ...now.reviewed, ...then }).filter(
          (g) => JSON.stringify(now.reviewed[g]) !== JSON.stringify(then[g]),
        );
        assert.deepEqual(
          changed,
          [],
          `code behind these entries changed in torch ${v}'s interpreter; read it, then run scripts/harmless/update.sh: ${changed
            .slice(0, 10)
            .map((g) => `${g}: ${JSON.stringify(then[g])} → ${JSON.stringify(now.reviewed[g])}`)
            .join('; ')}`,
        );
      },
    );
  }
});

describe('grading by what the victim process has', () => {
  // colorsys.rgb_to_hsv is on no gadget list and on no vetted list: what matters is that nothing proves it harmless
  it('a standard-library callable that is called and not vetted is dangerous: not known to be harmless', async () => {
    const r = await scanPickle(checkpoint(call('colorsys', 'rgb_to_hsv', str('1'), str('2'), str('3'))));
    assert.equal(r.verdict, 'dangerous');
    const imp = r.imports.find((i) => i.name === 'rgb_to_hsv')!;
    assert.equal(imp.class, 'dangerous');
    assert.equal(imp.origin, 'stdlib');
    assert.match(imp.reason ?? '', /not known to be harmless/);
    assert.ok(r.findings.some((f) => f.rule === 'call-not-vetted'));
    for (const v of TORCH_VERSIONS) assert.equal(r.howToLoad[v].loads, false);
  });

  it('the same callable stored without a call is suspicious, and no recipe allows it', async () => {
    const r = await scanPickle(checkpoint(ref('colorsys', 'rgb_to_hsv')));
    assert.equal(r.verdict, 'suspicious');
    assert.equal(r.imports.find((i) => i.name === 'rgb_to_hsv')?.class, 'suspicious');
    for (const v of ['2.6', '2.14'] as const) {
      assert.equal(r.howToLoad[v].loads, false);
      assert.match(
        r.howToLoad[v].notes[0],
        /colorsys\.rgb_to_hsv \(in Python's standard library and not on Brine's vetted list/,
      );
      assert.equal(r.howToLoad[v].ifTrusted, undefined);
    }
  });

  it('a callable given to a vetted callee that calls its arguments counts as called', async () => {
    const r = await scanPickle(checkpoint(call('collections', 'defaultdict', ref('numpy', 'memmap'))));
    assert.equal(r.verdict, 'dangerous');
    assert.deepEqual(r.imports.find((i) => i.name === 'memmap')?.calls, ['ARGUMENT']);
    // ...but one given to a vetted callee that never calls what it is given does not
    const kept = await scanPickle(
      checkpoint((p) =>
        call('builtins', 'frozenset', (q) => q.op('MARK').global('numpy', 'memmap').op('LIST'))(p),
      ),
    );
    assert.equal(kept.imports.find((i) => i.name === 'memmap')?.class, 'suspicious');
  });

  it('calling an attribute fetched with getattr is dangerous; holding one is not', async () => {
    const fetched = call('builtins', 'getattr', ref('torch', 'nn'), str('Linear'));
    const called = await scanPickle(checkpoint((p) => fetched(p).op('MARK').op('TUPLE').op('REDUCE')));
    assert.equal(called.verdict, 'dangerous');
    assert.ok(called.findings.some((f) => f.rule === 'call-fetched-attribute'));
    const held = await scanPickle(checkpoint(fetched));
    assert.equal(held.verdict, 'suspicious');
    assert.match(held.howToLoad['2.14'].notes[0], /builtins\.getattr \(Brine never recommends allowing it/);
  });

  it("names from the user's own code are suspicious and only ever offered under ifTrusted", async () => {
    const r = await scanPickle(
      checkpoint((p) => p.global('myproject.config', 'TrainConfig').op('EMPTY_TUPLE').op('NEWOBJ')),
    );
    assert.equal(r.verdict, 'suspicious');
    const imp = r.imports.find((i) => i.name === 'TrainConfig')!;
    assert.equal(imp.origin, 'other');
    assert.equal(imp.class, 'suspicious');
    for (const v of ['2.6', '2.14'] as const) {
      const h = r.howToLoad[v];
      assert.equal(h.loads, false);
      assert.deepEqual(h.safeGlobals, []);
      assert.deepEqual(h.ifTrusted?.trust, ['myproject.config.TrainConfig']);
      assert.match(h.ifTrusted?.code ?? '', /^# only if you trust/);
      assert.match(h.ifTrusted?.code ?? '', /from myproject\.config import TrainConfig/);
    }
    assert.match(r.howToLoad['1.13'].notes[0], /cannot allow more globals/);
  });

  it('a fix never contradicts the recipe: add_safe_globals([X]) only where that recipe loads the file allowing X', async () => {
    const dir = join(REPO_ROOT, 'test', 'fixtures', 'files');
    const wrong: string[] = [];
    let offered = 0;
    for (const f of readdirSync(dir)) {
      const r = await scan(new MemorySource(readFileSync(join(dir, f))));
      for (const v of TORCH_VERSIONS) {
        const fix = r.weightsOnly.byVersion[v].fix;
        if (fix === undefined) continue;
        offered++;
        const recipe = r.howToLoad[v];
        if (!recipe.loads || !recipe.safeGlobals.includes(fix))
          wrong.push(
            `${f} on ${v}: fix ${fix}, recipe ${recipe.loads ? recipe.safeGlobals.join(', ') : 'no safe way'}`,
          );
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(offered > 0, 'some file is fixed by allowing a vetted global');
  });

  it('a vetted class refused by torch gets a recipe naming exactly it', async () => {
    const r = await scanPickle(
      checkpoint((p) => p.global('argparse', 'Namespace').op('EMPTY_TUPLE').op('NEWOBJ')),
    );
    assert.equal(r.imports.find((i) => i.name === 'Namespace')?.class, 'harmless');
    for (const v of ['2.6', '2.14'] as const) {
      assert.equal(r.howToLoad[v].loads, true, r.howToLoad[v].notes[0]);
      assert.deepEqual(r.howToLoad[v].safeGlobals, ['argparse.Namespace']);
      assert.match(r.howToLoad[v].code ?? '', /safe_globals\(\[Namespace\]\)/);
    }
  });
});
