import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/paths';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/** Metrics, tags and the best rule, end to end. */
let s: Stack;
before(async () => {
  s = await startStack({ env: { BRINE_WORKER_CONCURRENCY: '4' } });
});
after(async () => {
  await s?.close();
});

const file = (f: string) => readFileSync(join(FIXTURES, 'files', f));
/** distinct safe files: the same state_dict with a trailing byte pattern after the zip would break it, so use several fixtures */
const SAFE = [
  'b_state_dict.pt',
  'b_tensor.pt',
  'b_parameter.pt',
  'b_state_dict_dtypes.pt',
  'b_legacy_state_dict.pt',
  'b_legacy_checkpoint.pt',
  'b_train_checkpoint.pt',
];

async function tagOf(name: string, tag: string): Promise<string | null> {
  const r = await s.api(`/checkpoints/${name}/tags/${tag}`);
  if (r.status === 404) return null;
  return ((await r.json()) as { version: string }).version;
}

function metrics(m: Record<string, number>): Record<string, string> {
  return { 'x-brine-metrics': JSON.stringify(m) };
}

describe('metrics and tags', () => {
  it('moves best as the rule says, only onto safe versions, ties to the earlier version', async () => {
    const n = 'run-a';
    assert.equal((await put(s, n, 'e1', file(SAFE[0]), metrics({ val_loss: 0.5, epoch: 1 }))).status, 201);
    await scanned(s, n, 'e1');
    assert.equal(
      (
        await s.api(`/checkpoints/${n}/best-rule`, {
          method: 'PUT',
          json: { metric: 'val_loss', mode: 'min' },
        })
      ).status,
      200,
    );
    assert.equal(await tagOf(n, 'best'), 'e1', 'setting the rule evaluates existing versions');
    await put(s, n, 'e2', file(SAFE[1]), metrics({ val_loss: 0.3, epoch: 2 }));
    await scanned(s, n, 'e2');
    assert.equal(await tagOf(n, 'best'), 'e2');
    // an unsafe version with the best metric never becomes best
    await put(s, n, 'e3-evil', file('h_os_system_zip.pt'), metrics({ val_loss: 0.01, epoch: 3 }));
    assert.equal((await scanned(s, n, 'e3-evil')).scan.verdict, 'dangerous');
    assert.equal(await tagOf(n, 'best'), 'e2');
    // a worse version does not move it; a tie keeps the earlier version
    await put(s, n, 'e4', file(SAFE[2]), metrics({ val_loss: 0.4 }));
    await put(s, n, 'e5', file(SAFE[3]), metrics({ val_loss: 0.3 }));
    await scanned(s, n, 'e4');
    await scanned(s, n, 'e5');
    assert.equal(await tagOf(n, 'best'), 'e2');
    // new metrics later (PATCH) re-evaluate
    const patched = await s.api(`/checkpoints/${n}/e4`, {
      method: 'PATCH',
      json: { metrics: { val_loss: 0.1 } },
    });
    assert.equal(patched.status, 200);
    assert.equal(((await patched.json()) as { metrics: Record<string, number> }).metrics.val_loss, 0.1);
    assert.equal(await tagOf(n, 'best'), 'e4');
    // max mode
    const r = (await (
      await s.api(`/checkpoints/${n}/best-rule`, { method: 'PUT', json: { metric: 'epoch', mode: 'max' } })
    ).json()) as { best: string };
    assert.equal(r.best, 'e2', 'highest epoch among safe versions');
    // latest follows the newest version
    assert.equal(await tagOf(n, 'latest'), 'e5');
    // every move is in the history, with who and why
    const history = (await (await s.api(`/checkpoints/${n}/tag-history`)).json()) as Array<{
      tag: string;
      from: string | null;
      to: string | null;
      actor: string;
      reason: string;
    }>;
    const best = history.filter((h) => h.tag === 'best').reverse();
    assert.deepEqual(
      best.map((h) => `${h.from}->${h.to}`),
      ['null->e1', 'e1->e2', 'e2->e4', 'e4->e2'],
    );
    assert.ok(best.every((h) => h.actor === 'rule' && h.reason.length > 10));
    assert.equal(history.filter((h) => h.tag === 'latest').length, 5);
    // tag.moved events went to the outbox
    const [ev] = (await s.rt.dataSource.query(
      `SELECT count(*)::int AS n FROM events WHERE type = 'tag.moved' AND checkpoint = $1`,
      [n],
    )) as Array<{ n: number }>;
    assert.equal(ev.n, history.length);
  });

  it('leaves best on the right version when scans finish at the same time', async () => {
    for (let round = 0; round < 3; round++) {
      const n = `race-${round}`;
      await put(s, n, 'seed', file(SAFE[0]), metrics({ val_loss: 0.9 }));
      await scanned(s, n, 'seed');
      await s.api(`/checkpoints/${n}/best-rule`, {
        method: 'PUT',
        json: { metric: 'val_loss', mode: 'min' },
      });
      const losses = [0.7, 0.2, 0.5, 0.3];
      await Promise.all(
        losses.map((l, i) =>
          put(s, n, `v${i}`, file(SAFE[(i + round + 1) % SAFE.length]), metrics({ val_loss: l })),
        ),
      );
      for (let i = 0; i < losses.length; i++) await scanned(s, n, `v${i}`);
      await eventually(
        async () => ((await tagOf(n, 'best')) === 'v1' ? true : undefined),
        10_000,
        `best of ${n}`,
      );
    }
  });

  it('resolves, downloads and reports through tags; manual moves need the right scope', async () => {
    const n = 'tagged';
    const body = file(SAFE[0]);
    await put(s, n, 'v1', body);
    await put(s, n, 'v2', file(SAFE[1]));
    await scanned(s, n, 'v1');
    await scanned(s, n, 'v2');
    assert.equal(
      (
        await s.api(`/checkpoints/${n}/tags/production`, {
          method: 'PUT',
          json: { version: 'v1', reason: 'canary passed' },
        })
      ).status,
      200,
    );
    assert.equal(await tagOf(n, 'production'), 'v1');
    const dl = await s.api(`/checkpoints/${n}/tags/production/file`);
    assert.deepEqual(Buffer.from(await dl.arrayBuffer()), body);
    assert.equal((await s.api(`/checkpoints/${n}/tags/production/report`)).status, 200);
    const tags = (await (await s.api(`/checkpoints/${n}/tags`)).json()) as Array<{
      tag: string;
      version: string;
    }>;
    assert.deepEqual(tags.map((t) => `${t.tag}=${t.version}`).sort(), [
      'latest-safe=v2',
      'latest=v2',
      'production=v1',
    ]);
    const writer = (await (
      await s.api('/tokens', { method: 'POST', json: { name: 'ci', scopes: ['write'] } })
    ).json()) as { token: string };
    assert.equal(
      (
        await s.api(`/checkpoints/${n}/tags/best`, {
          method: 'PUT',
          json: { version: 'v1' },
          token: writer.token,
        })
      ).status,
      403,
    );
    assert.equal(
      (
        await s.api(`/checkpoints/${n}/tags/best`, {
          method: 'PUT',
          json: { version: 'v1', reason: 'picked by hand' },
        })
      ).status,
      200,
    );
    const manual = (
      (await (await s.api(`/checkpoints/${n}/tag-history`)).json()) as Array<{
        tag: string;
        actor: string;
        token: string;
        reason: string;
      }>
    ).find((h) => h.tag === 'best');
    assert.deepEqual([manual?.actor, manual?.reason], ['manual', 'picked by hand']);
    assert.equal(
      (await s.api(`/checkpoints/${n}/tags/latest`, { method: 'PUT', json: { version: 'v1' } })).status,
      400,
    );
    assert.equal(
      (await s.api(`/checkpoints/${n}/tags/production`, { method: 'DELETE', token: writer.token })).status,
      204,
    );
    assert.equal(await tagOf(n, 'production'), null);
  });

  it('keeps a best moved by hand where it was put (pinned) until the rule is set again', async () => {
    const n = 'pinned';
    assert.equal((await put(s, n, 'p1', file(SAFE[0]), metrics({ val_loss: 0.5 }))).status, 201);
    assert.equal((await put(s, n, 'p2', file(SAFE[1]), metrics({ val_loss: 0.4 }))).status, 201);
    await scanned(s, n, 'p1');
    await scanned(s, n, 'p2');
    const rule = { metric: 'val_loss', mode: 'min' };
    assert.equal((await s.api(`/checkpoints/${n}/best-rule`, { method: 'PUT', json: rule })).status, 200);
    assert.equal(await tagOf(n, 'best'), 'p2');
    const moved = await s.api(`/checkpoints/${n}/tags/best`, { method: 'PUT', json: { version: 'p1' } });
    assert.equal(moved.status, 200);
    assert.equal(((await moved.json()) as { pinned: boolean }).pinned, true);
    const bestTag = async () =>
      (
        (await (await s.api(`/checkpoints/${n}/tags`)).json()) as Array<{ tag: string; pinned: boolean }>
      ).find((t) => t.tag === 'best');
    assert.equal((await bestTag())?.pinned, true);
    // new metrics make the rule decide again: a pinned best stays
    assert.equal(
      (await s.api(`/checkpoints/${n}/p2`, { method: 'PATCH', json: { metrics: { val_loss: 0.1 } } })).status,
      200,
    );
    assert.equal(await tagOf(n, 'best'), 'p1');
    // setting the rule again hands best back to it
    const again = await s.api(`/checkpoints/${n}/best-rule`, { method: 'PUT', json: rule });
    assert.equal(((await again.json()) as { best: string }).best, 'p2');
    assert.equal(await tagOf(n, 'best'), 'p2');
    assert.equal((await bestTag())?.pinned, false);
  });

  it('sorts versions by a metric', async () => {
    const n = 'sorted';
    await put(s, n, 'a', file(SAFE[0]), metrics({ val_loss: 0.3 }));
    await put(s, n, 'b', file(SAFE[1]), metrics({ val_loss: 0.1 }));
    await put(s, n, 'c', file(SAFE[2]));
    await put(s, n, 'd', file(SAFE[3]), metrics({ val_loss: 0.2 }));
    const page = (await (await s.api(`/checkpoints/${n}?sort=metrics.val_loss&order=asc`)).json()) as {
      versions: Array<{ version: string }>;
    };
    assert.deepEqual(
      page.versions.map((v) => v.version),
      ['b', 'd', 'a', 'c'],
    );
    const desc = (await (await s.api(`/checkpoints/${n}?sort=metrics.val_loss&order=desc`)).json()) as {
      versions: Array<{ version: string }>;
    };
    assert.deepEqual(
      desc.versions.map((v) => v.version),
      ['a', 'd', 'b', 'c'],
    );
    assert.equal((await s.api(`/checkpoints/${n}?sort=bogus`)).status, 400);
  });

  it('answers invalid tag names, rules and metric values with a 400 that says why', async () => {
    await put(s, 'invalid', 'v1', file(SAFE[0]));
    const cases: Array<[string, RequestInit & { json?: unknown }]> = [
      ['/checkpoints/invalid/tags/Has%20Caps', { method: 'PUT', json: { version: 'v1' } }],
      ['/checkpoints/invalid/tags/ok', { method: 'PUT', json: {} }],
      ['/checkpoints/invalid/best-rule', { method: 'PUT', json: { metric: 'val_loss', mode: 'lowest' } }],
      ['/checkpoints/invalid/best-rule', { method: 'PUT', json: { metric: '1bad' } }],
      ['/checkpoints/invalid/v1', { method: 'PATCH', json: { metrics: { val_loss: 'low' } } }],
      ['/checkpoints/invalid/v1', { method: 'PATCH', json: { metrics: { 'bad name': 1 } } }],
      ['/checkpoints/invalid/v1', { method: 'PATCH', json: { val_loss: 1 } }],
    ];
    for (const [path, init] of cases) {
      const r = await s.api(path, init);
      const j = (await r.json()) as { message: string };
      assert.equal(r.status, 400, `${path} ${JSON.stringify(init.json)}: ${j.message}`);
      assert.ok(j.message.length > 15, j.message);
    }
    const bad = await put(s, 'invalid', 'v2', file(SAFE[1]), { 'x-brine-metrics': '{"val_loss": null}' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /finite number/);
    const nan = await s.api('/checkpoints/invalid/v1', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"metrics": {"loss": NaN}}',
    });
    assert.equal(nan.status, 400);
  });
});
