import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { spawnWorker, stopProcess } from '../helpers/processes';
import { startReceiver } from '../helpers/receiver';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/**
 * The dashboard in Debian's Chromium, driven by playwright-core, against a running registry. The registry starts
 * without a worker so a hostile upload can be seen pending; a worker process is started later and the page turns
 * the verdict in without a reload. Screenshots of each page go to test-results/screenshots/.
 */
const CHROMIUM = process.env.BRINE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots');
const file = (f: string) => readFileSync(join(FIXTURES, 'files', f));

let s: Stack;
let browser: Browser;
let page: Page;
let worker: ReturnType<typeof spawnWorker> | undefined;
const consoleErrors: string[] = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  s = await startStack({ withWorker: false });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
});

after(async () => {
  await browser?.close();
  if (worker) await stopProcess(worker);
  await s?.close();
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe('dashboard', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  it('asks for a token first, and refuses a wrong one with a message a person understands', async () => {
    await page.goto(`${s.url}/`);
    await page.waitForURL(/#\/settings/);
    await page.fill('#token', 'brine_not_a_real_token_at_all_000000');
    await page.press('#token', 'Enter'); // a keyboard submit
    const text = await page.locator('.error-text').textContent();
    assert.match(text ?? '', /did not accept your token/);
    // that 401 was expected; start counting console errors from here
    consoleErrors.length = 0;
    await page.fill('#token', s.adminToken);
    await page.press('#token', 'Enter');
    await page.waitForURL(/#\/$/);
    await page.locator('h1', { hasText: 'Checkpoints' }).waitFor();
  });

  it('shows a hostile upload appear as pending and turn dangerous without a reload', async () => {
    assert.equal((await put(s, 'evil', 'v1', file('h_os_system_zip.pt'))).status, 201);
    const row = page.locator('tr[data-checkpoint="evil"]');
    await row.waitFor({ timeout: 10_000 });
    await row.locator('[data-status="pending"]').waitFor();
    await shot('checkpoints-pending');
    // a marker on the page's global object survives only as long as the page is not reloaded
    await page.evaluate(() => ((globalThis as Record<string, unknown>).brineMarker = 42));
    worker = spawnWorker(s.config, s.rt.embedded!.endpoint);
    await row.locator('[data-status="dangerous"]').waitFor({ timeout: 30_000 });
    assert.equal(await row.locator('[data-status="pending"]').count(), 0);
    assert.equal(
      await page.evaluate(() => (globalThis as Record<string, unknown>).brineMarker),
      42,
      'no reload',
    );
    await shot('checkpoints');
  });

  it('reports the offending import with its archive entry and offset', async () => {
    const report = (await (await s.api('/checkpoints/evil/v1/report')).json()) as {
      findings: Array<{
        severity: string;
        module: string | null;
        name: string | null;
        entry: string;
        offset: number;
      }>;
    };
    const bad = report.findings.find((f) => f.severity === 'dangerous' && f.name === 'system');
    assert.ok(bad, 'the API report has the dangerous import');
    await page.goto(`${s.url}/#/checkpoints/evil/v1`);
    await page.locator('.banner[data-verdict="dangerous"]').waitFor();
    const first = page.locator('table.findings tbody tr').first();
    assert.equal(await first.getAttribute('data-severity'), 'dangerous', 'dangerous findings come first');
    const row = page.locator('table.findings tbody tr', { hasText: 'system' }).first();
    assert.equal(await row.locator('td.entry').textContent(), bad.entry);
    assert.equal(await row.locator('td.offset').textContent(), String(bad.offset));
    assert.match((await row.textContent()) ?? '', new RegExp(bad.module ?? 'posix'));
    assert.ok(await page.locator('.imports.dangerous li', { hasText: 'system' }).count());
    for (const t of ['1.13', '2.6', '2.14'])
      assert.match((await page.locator(`tr[data-torch="${t}"]`).textContent()) ?? '', /refuses/);
    await shot('report-dangerous');

    // the download asks for an acknowledgement, with the keyboard alone
    await page.focus('#download');
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    assert.equal(await page.locator('#ack-download').isDisabled(), true);
    await page.focus('#ack');
    await page.keyboard.press('Space');
    assert.equal(await page.locator('#ack-download').isDisabled(), false);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ack-download')]);
    const path = await download.path();
    assert.deepEqual(readFileSync(path), file('h_os_system_zip.pt'));
  });

  it('shows how to load a file on the chosen torch, with a copy button', async () => {
    // the hostile file: no code to run, on any version
    assert.match((await page.locator('#recipe').textContent()) ?? '', /no safe way: the file would run code/);
    assert.equal(await page.locator('#recipe-copy').count(), 0);
    assert.equal((await put(s, 'trainer', 'e1', file('b_train_checkpoint.pt'))).status, 201);
    await scanned(s, 'trainer', 'e1');
    await page.goto(`${s.url}/#/checkpoints/trainer/e1`);
    await page.locator('#recipe pre').waitFor();
    assert.equal(await page.locator('#recipe-torch').inputValue(), '2.14', 'the target torch first');
    const code = (await page.locator('#recipe pre').textContent()) ?? '';
    assert.match(code, /torch\.load\("model\.pt", map_location="cpu", weights_only=True\)/);
    assert.match(code, /model\.load_state_dict\(checkpoint\["model_state_dict"\]\)/);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
    await page.click('#recipe-copy');
    await page.locator('#recipe [role="status"]', { hasText: 'Copied' }).waitFor();
    assert.equal(
      await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      ),
      code,
    );
    await shot('report-recipe');
    // torch 1.13 cannot read the checkpoint's Python floats: the page says so instead of showing code
    await page.selectOption('#recipe-torch', '1.13');
    assert.equal(await page.locator('#recipe pre').count(), 0);
    assert.match(
      (await page.locator('#recipe .no-way').textContent()) ?? '',
      /no safe way on torch 1\.13: .*BINFLOAT.*use torch 2\.6 or later/,
    );
  });

  it('offers the safetensors twin of a safe checkpoint beside the original', async () => {
    const twin = await eventually(async () => {
      const v = (await (await s.api('/checkpoints/trainer/e1')).json()) as {
        twin: { status: string; sha256: string; file: string | null } | null;
      };
      return v.twin?.status === 'done' ? v.twin : undefined;
    }, 30_000);
    await page.goto(`${s.url}/#/checkpoints/trainer/e1`);
    await page.reload(); // the page was already showing e1, from before its twin was written
    await page.locator('#download-twin').waitFor();
    assert.match(
      (await page.locator('#twin-notes').textContent()) ?? '',
      /tensors, loads without unpickling/,
    );
    await shot('report-twin');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-twin')]);
    assert.match(download.suggestedFilename(), /\.safetensors$/);
    const bytes = readFileSync((await download.path())!);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), twin.sha256);
  });

  it('compares two versions: tensors with new values, and a version that started importing code', async () => {
    const twinFx = (f: string) => readFileSync(join(FIXTURES, 'twin', f));
    await put(s, 'differ', 'a', twinFx('diff_a.pt'));
    await put(s, 'differ', 'b', twinFx('diff_b.pt'), {
      'x-brine-parent': 'a',
      'x-brine-run-url': 'https://ci.example.com/runs/7',
      'x-brine-metadata': JSON.stringify({ dataset: 'cifar-10', lr: 0.1 }),
    });
    await put(s, 'differ', 'c', file('h_os_system_zip.pt'));
    for (const v of ['a', 'b', 'c']) await scanned(s, 'differ', v);
    await s.api('/checkpoints/differ/card', {
      method: 'PUT',
      json: { markdown: '# Differ\n\nEvery epoch.' },
    });
    await page.goto(`${s.url}/#/checkpoints/differ`);
    await page.locator('#card h1', { hasText: 'Differ' }).waitFor();
    await page.click('#compare');
    await page.locator('#diff-summary').waitFor();
    assert.match(page.url(), /#\/checkpoints\/differ\/diff$/);
    // the two newest by default: b → c
    assert.match((await page.locator('#diff-summary').textContent()) ?? '', /started importing os\.system/);
    await page.selectOption('#diff-from', 'a');
    await page.selectOption('#diff-to', 'b');
    await page.click('#diff-go');
    await page.locator('#diff-bytes li', { hasText: 'fc.weight' }).waitFor();
    assert.match(
      (await page.locator('#diff-reshaped').textContent()) ?? '',
      /emb\.weight float32\[5, 2\] → float32\[6, 2\]/,
    );
    assert.match((await page.locator('#diff-added').textContent()) ?? '', /new\.buffer/);
    await shot('diff');
    // the report page shows where b came from, its parent a link to a, and its card beside its metadata
    await s.api('/checkpoints/differ/b/card', {
      method: 'PUT',
      json: { markdown: '# Epoch b\n\n**fine-tuned** from a <script>window.pwned = 1</script>' },
    });
    await page.goto(`${s.url}/#/checkpoints/differ/b`);
    await page.locator('#card h1', { hasText: 'Epoch b' }).waitFor();
    assert.equal(await page.locator('#card strong').textContent(), 'fine-tuned');
    assert.equal(await page.locator('#card script').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
    assert.match((await page.locator('#metadata').textContent()) ?? '', /dataset.*cifar-10/);
    await page.locator('#lineage').waitFor();
    assert.match((await page.locator('#lineage').textContent()) ?? '', /from a · run ci\.example\.com/);
    assert.equal(await page.locator('#lineage-parent').getAttribute('href'), '#/checkpoints/differ/a');
  });

  it('marks the best version on the metric chart and keeps unsafe versions out of it', async () => {
    const series: Array<[string, string, number]> = [
      ['e1', 'b_state_dict.pt', 0.9],
      ['e2', 'b_tensor.pt', 0.5],
      ['e3', 'h_os_system.pkl', 0.1], // best metric, but dangerous
      ['e4', 'b_parameter.pt', 0.7],
    ];
    assert.equal(
      (
        await s.api('/checkpoints/resnet/best-rule', {
          method: 'PUT',
          json: { metric: 'val_loss', mode: 'min' },
        })
      ).status,
      200,
      'a best rule can be set before the first push',
    );
    for (const [v, f, loss] of series) {
      const r = await put(s, 'resnet', v, file(f), { 'x-brine-metrics': JSON.stringify({ val_loss: loss }) });
      assert.equal(r.status, 201);
      await scanned(s, 'resnet', v);
    }
    const rule = await s.api('/checkpoints/resnet/best-rule', {
      method: 'PUT',
      json: { metric: 'val_loss', mode: 'min' },
    });
    assert.equal(rule.status, 200);
    await eventually(async () => {
      const r = await s.api('/checkpoints/resnet/tags/best');
      return r.ok && ((await r.json()) as { version: string }).version === 'e2' ? true : undefined;
    });
    await page.goto(`${s.url}/#/checkpoints/resnet`);
    const best = page.locator('svg.chart g.point[data-best="true"]');
    await best.waitFor();
    assert.equal(await best.getAttribute('data-version'), 'e2');
    assert.equal(await page.locator('svg.chart g.point[data-best="true"]').count(), 1);
    assert.equal(
      await page.locator('svg.chart g.point[data-excluded="true"]').getAttribute('data-version'),
      'e3',
      'the dangerous version is drawn as excluded',
    );
    assert.match((await page.locator('tr[data-version="e2"]').textContent()) ?? '', /best/);
    assert.ok(await page.locator('#history table tbody tr', { hasText: 'e2' }).count(), 'tag history');
    assert.equal(await page.locator('#best-pinned').count(), 0, 'the rule put best there: not pinned');
    await shot('checkpoint');
    // a best moved by hand is pinned: the summary and the version's tags say so, until the rule is set again
    const moved = await s.api('/checkpoints/resnet/tags/best', { method: 'PUT', json: { version: 'e4' } });
    assert.equal(moved.status, 200);
    await page.goto(`${s.url}/#/checkpoints/resnet`);
    await page.locator('#best-pinned').waitFor();
    assert.match((await page.locator('.summary').textContent()) ?? '', /best e4 pinned/);
    assert.equal(await page.locator('tr[data-version="e4"] .tag.pinned').textContent(), 'best (pinned)');
    await shot('checkpoint-pinned');
    assert.equal(
      (
        await s.api('/checkpoints/resnet/best-rule', {
          method: 'PUT',
          json: { metric: 'val_loss', mode: 'min' },
        })
      ).status,
      200,
    );
    await page.goto(`${s.url}/#/checkpoints/resnet`);
    await page.locator('tr[data-version="e2"] .tag.best').waitFor();
    assert.equal(await page.locator('#best-pinned').count(), 0, 'setting the rule again unpins best');
    assert.equal(await page.locator('.tag.pinned').count(), 0);
  });

  it("shows a checkpoint's retention rule and what it will delete next", async () => {
    // the plan skips versions whose scan is pending: scan them, then pause the worker (whose reconciler applies
    // rules every second) so the page shows the dry run before anything is deleted
    for (const [v, f] of [
      ['q1', 'b_state_dict.pt'],
      ['q2', 'b_tensor.pt'],
      ['q3', 'b_parameter.pt'],
    ]) {
      assert.equal((await put(s, 'pruned', v, file(f))).status, 201);
      await scanned(s, 'pruned', v);
    }
    await stopProcess(worker!);
    try {
      const set = await s.api('/checkpoints/pruned/retention', { method: 'PUT', json: { keepNewest: 1 } });
      assert.equal(set.status, 200);
      await page.goto(`${s.url}/#/checkpoints/pruned`);
      await page.locator('#retention-rule').waitFor();
      assert.match((await page.locator('#retention-rule').textContent()) ?? '', /keep the newest 1 version/);
      assert.deepEqual(
        (
          await page
            .locator('#retention-plan li[data-version]')
            .evaluateAll((l) => l.map((e) => e.getAttribute('data-version')))
        ).sort(),
        ['q1', 'q2'],
      );
      assert.match((await page.locator('#retention-plan').textContent()) ?? '', /q2.*not among the newest 1/);
      assert.match((await page.locator('#retention-log').textContent()) ?? '', /Nothing deleted yet/);
      await shot('retention-plan');
    } finally {
      worker = spawnWorker(s.config, s.rt.embedded!.endpoint);
    }
  });

  it("shows a version's metrics at 4 significant digits and its lineage, children included", async () => {
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const pushes: Array<[string, string, Record<string, string>]> = [
      ['p1', 'b_state_dict.pt', { 'x-brine-metrics': JSON.stringify({ acc: 0.912341, loss: 1 / 3 }) }],
      [
        'p2',
        'b_tensor.pt',
        {
          'x-brine-metrics': JSON.stringify({ acc: 0.912352, loss: 0.25 }),
          'x-brine-parent': 'p1',
          'x-brine-git-commit': commit,
        },
      ],
      [
        'p3',
        'b_parameter.pt',
        { 'x-brine-metrics': JSON.stringify({ acc: 0.912367 }), 'x-brine-parent': 'precise:p1' },
      ],
    ];
    for (const [v, f, headers] of pushes)
      assert.equal((await put(s, 'precise', v, file(f), headers)).status, 201);
    // a child in another checkpoint, its parent written NAME/VERSION
    assert.equal(
      (await put(s, 'offspring', 'o1', file('b_tensor.pt'), { 'x-brine-parent': 'precise/p1' })).status,
      201,
    );
    await page.goto(`${s.url}/#/checkpoints/precise/p2`);
    await page.locator('#metrics').waitFor();
    assert.deepEqual(
      await page.locator('#metrics tr').evaluateAll((rows) => rows.map((r) => r.textContent)),
      ['acc0.9124', 'loss0.25'],
    );
    assert.match((await page.locator('#lineage').textContent()) ?? '', /from p1 · commit 0123456789ab/);
    assert.equal(await page.locator('#lineage code').getAttribute('title'), commit);
    assert.equal(await page.locator('#lineage-children').count(), 0, 'p2 has no children');
    await page.goto(`${s.url}/#/checkpoints/precise/p1`);
    await page.locator('#lineage-children').waitFor();
    assert.deepEqual(
      await page.locator('#lineage-children a').evaluateAll((l) => l.map((a) => a.getAttribute('href'))),
      ['#/checkpoints/precise/p2', '#/checkpoints/precise/p3', '#/checkpoints/offspring/o1'],
    );
    assert.match((await page.locator('#lineage-children').textContent()) ?? '', /p2, p3, offspring:o1$/);
    assert.match((await page.locator('#metrics').textContent()) ?? '', /loss0\.3333/);
    await shot('report-lineage');
  });

  it("draws the chart's axis with ticks that do not repeat, and prints metrics at 4 significant digits", async () => {
    await page.goto(`${s.url}/#/checkpoints/precise?metric=acc`);
    await page.locator('svg.chart g.tick').first().waitFor();
    const ticks = await page.locator('svg.chart g.tick text').allTextContents();
    assert.ok(ticks.length >= 3, `ticks: ${ticks.join(' ')}`);
    assert.equal(new Set(ticks).size, ticks.length, `no tick repeats: ${ticks.join(' ')}`);
    // evenly spaced, round steps
    const steps = ticks
      .map(Number)
      .map((t, i, a) => (i ? a[i - 1] - t : 0))
      .slice(1);
    for (const d of steps) assert.ok(Math.abs(d - steps[0]) < 1e-9, `even steps: ${ticks.join(' ')}`);
    assert.match((await page.locator('tr[data-version="p2"] td.metrics').textContent()) ?? '', /acc=0\.9124/);
    assert.doesNotMatch((await page.locator('td.metrics').allTextContents()).join(' '), /0\.91235|0\.33333/);
    await shot('chart-precise');
  });

  it('marks versions that retention deleted in the tag history, and lists them in its log', async () => {
    // the worker runs now: its reconciler applies pruned's rule
    await eventually(async () => {
      const r = await s.api('/checkpoints/pruned/retention/log');
      return ((await r.json()) as unknown[]).length === 2 ? true : undefined;
    }, 30_000);
    await page.goto(`${s.url}/#/checkpoints/pruned`);
    await page.locator('#retention-log li[data-version]').first().waitFor();
    assert.deepEqual(
      (
        await page
          .locator('#retention-log li[data-version]')
          .evaluateAll((l) => l.map((e) => e.getAttribute('data-version')))
      ).sort(),
      ['q1', 'q2'],
    );
    assert.match((await page.locator('#retention-plan').textContent()) ?? '', /Nothing to delete/);
    const marked = await page.locator('#history .deleted-version').allTextContents();
    assert.ok(marked.length >= 2, `marked: ${marked.join(', ')}`);
    for (const m of marked) assert.match(m, /^q[12] \(deleted by retention\)$/);
    assert.equal(await page.locator('#history .deleted-version', { hasText: 'q3' }).count(), 0);
    assert.ok(await page.locator('#history del').count(), 'struck through');
    await shot('retention-log');
  });

  it('never suggests add_safe_globals on torch 1.13, and the fixes agree with the recipe', async () => {
    assert.equal((await put(s, 'userclass', 'u1', file('s_full_model_main.pt'))).status, 201);
    await scanned(s, 'userclass', 'u1');
    await page.goto(`${s.url}/#/checkpoints/userclass/u1`);
    await page.locator('tr[data-torch="1.13"]').waitFor();
    const row113 = (await page.locator('tr[data-torch="1.13"] td.fix').textContent()) ?? '';
    await page.selectOption('#recipe-torch', '1.13');
    const recipe113 = (await page.locator('#recipe').textContent()) ?? '';
    for (const t of [row113, recipe113, (await page.locator('tr[data-torch="1.13"]').textContent()) ?? ''])
      assert.doesNotMatch(t, /add_safe_globals/, t);
    assert.match(row113, /cannot allow more globals/);
    assert.ok(recipe113.includes(row113), `the 1.13 fix is the recipe's own words: ${row113}`);
    // 2.6 and 2.14: the fix names every global the recipe allows, and says to trust the user's class first
    for (const t of ['2.6', '2.14']) {
      const fix = (await page.locator(`tr[data-torch="${t}"] td.fix`).textContent()) ?? '';
      assert.match(fix, /only if you trust __main__\.Net/, fix);
      assert.match(fix, /torch\.nn\.modules\.linear\.Linear/, fix);
      await page.selectOption('#recipe-torch', t);
      assert.match(
        (await page.locator('#recipe .if-trusted').textContent()) ?? '',
        /safe_globals\(\[Net, Linear\]\)/,
      );
    }
    await shot('report-user-class');
  });

  it('searches and filters the checkpoint list from the keyboard', async () => {
    await page.goto(`${s.url}/#/`);
    await page.locator('tr[data-checkpoint="resnet"]').waitFor();
    await page.fill('#q', 'evi');
    await page.press('#q', 'Enter');
    await page.waitForURL(/q=evi/);
    // the page redraws: wait for the new list, then count
    await page.locator('tr[data-checkpoint="resnet"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-checkpoint="evil"]').waitFor();
    assert.equal(await page.locator('tr[data-checkpoint]').count(), 1);
    await page.goto(`${s.url}/#/?verdict=safe`);
    await page.locator('tr[data-checkpoint="resnet"]').waitFor();
    assert.equal(await page.locator('tr[data-checkpoint="evil"]').count(), 0, 'evil has no safe version');
  });

  it('filters the checkpoint list by lineage: a short git commit, a parent, a dataset', async () => {
    await page.goto(`${s.url}/#/`);
    await page.locator('tr[data-checkpoint="resnet"]').waitFor();
    await page.fill('#lineage-gitCommit', '0123456');
    await page.press('#lineage-gitCommit', 'Enter');
    await page.waitForURL(/gitCommit=0123456/);
    await page.locator('tr[data-checkpoint="resnet"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-checkpoint="precise"]').waitFor();
    assert.deepEqual(
      await page
        .locator('tr[data-checkpoint]')
        .evaluateAll((l) => l.map((e) => e.getAttribute('data-checkpoint'))),
      ['precise'],
    );
    assert.equal(
      await page.locator('tr[data-checkpoint="precise"] td.matches a').getAttribute('href'),
      '#/checkpoints/precise/p2',
    );
    assert.equal(await page.locator('#lineage-gitCommit').inputValue(), '0123456');
    await shot('checkpoints-lineage');
    // fewer than 7 hex digits is refused by the form itself
    await page.fill('#lineage-gitCommit', '01234');
    await page.press('#lineage-gitCommit', 'Enter');
    assert.equal(
      await page
        .locator('#lineage-gitCommit')
        .evaluate((e) => (e as unknown as { validity: { valid: boolean } }).validity.valid),
      false,
    );
    assert.match(page.url(), /gitCommit=0123456(&|$)/);
    // a parent, any checkpoint: precise's p2 and p3 (p1, p3's parent written precise:p1) and offspring's o1
    await page.goto(`${s.url}/#/?parent=precise%3Ap1`);
    await page.locator('tr[data-checkpoint="offspring"]').waitFor();
    assert.deepEqual(
      (
        await page
          .locator('tr[data-checkpoint]')
          .evaluateAll((l) => l.map((e) => e.getAttribute('data-checkpoint')))
      ).sort(),
      ['offspring', 'precise'],
    );
    assert.deepEqual(
      (await page.locator('tr[data-checkpoint="precise"] td.matches a').allTextContents()).sort(),
      ['p2', 'p3'],
    );
    await page.goto(`${s.url}/#/?dataset=no-such-dataset`);
    await page.locator('text=No checkpoint matches this search.').waitFor();
    assert.equal(await page.locator('tr[data-checkpoint]').count(), 0);
  });

  it('shows webhook deliveries with status and latency, and redelivers', async () => {
    const receiver = await startReceiver(() => ({ status: 204 }));
    try {
      const created = await s.api('/webhooks', {
        method: 'POST',
        json: { url: `${receiver.url}/hook`, events: ['scan.unsafe'] },
      });
      assert.equal(created.status, 201);
      const hook = (await created.json()) as { id: string };
      assert.equal((await put(s, 'evil', 'v2', file('h_timeit.pkl'))).status, 201);
      await eventually(
        async () => (receiver.received.length >= 1 ? true : undefined),
        30_000,
        'the delivery',
      );
      await page.goto(`${s.url}/#/webhooks?id=${hook.id}`);
      const row = page.locator('table.deliveries tbody tr').first();
      await row.waitFor();
      await page
        .locator('table.deliveries tbody tr[data-status="succeeded"]')
        .first()
        .waitFor({ timeout: 15_000 });
      assert.match((await row.textContent()) ?? '', /scan\.unsafe/);
      // the Event column names what the event is about, linked
      assert.equal(await row.locator('td.event .about').textContent(), 'evil:v2');
      assert.equal(await row.locator('td.event .about a').getAttribute('href'), '#/checkpoints/evil/v2');
      assert.match((await row.textContent()) ?? '', /HTTP 204/);
      assert.match((await row.textContent()) ?? '', /\d+ ms/);
      await shot('webhooks');
      await row.getByRole('button', { name: 'Redeliver' }).click();
      await eventually(
        async () => (receiver.received.length >= 2 ? true : undefined),
        30_000,
        'the redelivery',
      );
      assert.equal(receiver.received[1].headers['webhook-id'], receiver.received[0].headers['webhook-id']);
      // a subscription is deleted from its row, after a confirmation
      page.once('dialog', (d) => void d.accept());
      await page.locator(`tr[data-webhook="${hook.id}"]`).getByRole('button', { name: 'Delete' }).click();
      await page.locator(`tr[data-webhook="${hook.id}"]`).waitFor({ state: 'detached' });
      assert.equal((await s.api(`/webhooks/${hook.id}`)).status, 404);
    } finally {
      await receiver.close();
    }
  });

  it('explains a missing version instead of failing silently', async () => {
    await page.goto(`${s.url}/#/checkpoints/evil/nope`);
    const text = await page.locator('.error-text').textContent({ timeout: 10_000 });
    assert.match(text ?? '', /Not found/);
    // this page's 404 is the expected answer; nothing else may have logged an error
    const unexpected = consoleErrors.filter((e) => !/404/.test(e));
    assert.deepEqual(unexpected, []);
    consoleErrors.length = 0;
  });

  it('serves the API docs viewer under its Content-Security-Policy, refusing to be framed', async () => {
    const violations: string[] = [];
    const docs = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      docs.on('console', (m) => {
        if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) violations.push(m.text());
      });
      docs.on('pageerror', (e) => violations.push(e.message));
      const r = await docs.goto(`${s.url}/docs`);
      assert.match(r?.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      await docs.locator('.swagger-ui .info .title', { hasText: 'Brine' }).waitFor({ timeout: 20_000 });
      // an operation opens and shows its parameters (Swagger UI's own scripts and styles are allowed)
      await docs
        .locator('.opblock-summary-path', { hasText: '/checkpoints/{name}/{version}' })
        .first()
        .click();
      await docs.locator('.opblock-body .parameters').first().waitFor({ timeout: 10_000 });
      await docs.waitForLoadState('networkidle');
      await docs.screenshot({ path: join(SHOTS, 'docs.png') });
      // no page can frame the docs (or the dashboard, where the token lives)
      for (const path of ['/docs', '/']) {
        const host = await browser.newPage();
        try {
          await host.setContent(`<iframe src="${s.url}${path}" width="800" height="600"></iframe>`);
          await host.waitForTimeout(1500);
          const inside = await Promise.all(
            host
              .frames()
              .filter((f) => f !== host.mainFrame())
              .map((f) =>
                f
                  .locator('.swagger-ui, header.top')
                  .count()
                  .catch(() => 0),
              ),
          );
          assert.deepEqual(
            inside.filter((n) => n > 0),
            [],
            `${path} rendered inside a frame`,
          );
        } finally {
          await host.close();
        }
      }
      assert.deepEqual(violations, [], 'no CSP violation or error while the docs render');
    } finally {
      await docs.close();
    }
  });

  it('lays every page out at 390 px wide without horizontal overflow', async () => {
    // this file is compiled without the DOM's types
    type Doc = {
      document: { documentElement: { scrollWidth: number }; querySelector(s: string): unknown };
    };
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [name, path] of [
        ['checkpoints', '#/'],
        ['checkpoints-lineage', '#/?gitCommit=0123456'],
        ['checkpoint', '#/checkpoints/resnet'],
        ['retention', '#/checkpoints/pruned'],
        ['report-dangerous', '#/checkpoints/evil/v1'],
        ['report-safe', '#/checkpoints/trainer/e1'],
        ['report-lineage', '#/checkpoints/precise/p2'],
        ['report-user-class', '#/checkpoints/userclass/u1'],
        ['diff', '#/checkpoints/differ/diff'],
        ['webhooks', '#/webhooks'],
        ['settings', '#/settings'],
      ]) {
        await page.goto(`${s.url}/${path}`);
        await page.waitForFunction(() => {
          const d = (globalThis as unknown as Doc).document;
          return d.querySelector('main .loading') === null && d.querySelector('main h1') !== null;
        });
        await page.waitForLoadState('networkidle');
        const width = await page.evaluate(
          () => (globalThis as unknown as Doc).document.documentElement.scrollWidth,
        );
        const target = join(SHOTS, `narrow-${name}.png`);
        await page.screenshot({ path: target, fullPage: true });
        assert.ok(statSync(target).size > 0, `${target} is written`);
        assert.ok(width <= 390, `${path} is ${width} px wide at a 390 px viewport`);
      }
    } finally {
      await page.setViewportSize({ width: 1366, height: 900 });
    }
  });

  it('logged no console errors on any page', async () => {
    for (const path of [
      '#/',
      '#/checkpoints/evil',
      '#/checkpoints/evil/v1',
      '#/checkpoints/resnet',
      '#/webhooks',
      '#/settings',
    ]) {
      await page.goto(`${s.url}/${path}`);
      await page.waitForLoadState('networkidle');
    }
    await shot('settings');
    assert.deepEqual(consoleErrors, []);
  });
});
