import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { FIXTURES } from '../helpers/paths';
import { RetentionService } from '@brine/registry';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/** Retention rules end to end: the dry run, the worker applying them, the audit log and the event. */
let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s?.close();
});

const fx = (f: string) => readFileSync(join(FIXTURES, f));
interface Plan {
  rule: { keepNewest: number | null; keepTagged: boolean; deleteUnsafeAfterDays: number | null } | null;
  delete: Array<{ version: string; reason: string }>;
  keep: number;
}

describe('retention', () => {
  it('keeps the newest N and tagged versions, deleting the rest with their files, an audit entry and an event', async () => {
    await put(s, 'rt', 'v1', fx('twin/diff_a.pt'));
    await put(s, 'rt', 'v2', fx('twin/diff_b.pt'));
    await put(s, 'rt', 'v3', fx('twin/sd_views.pt'));
    for (const v of ['v1', 'v2', 'v3']) await scanned(s, 'rt', v);
    assert.equal(
      (await s.api('/checkpoints/rt/tags/prod', { method: 'PUT', json: { version: 'v1' } })).status,
      200,
    );
    const none = (await (await s.api('/checkpoints/rt/retention')).json()) as Plan;
    assert.deepEqual(none, { rule: null, delete: [], keep: 3 });
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    try {
      const [{ object_key: key }] = (
        await db.query(
          `SELECT object_key FROM versions v JOIN checkpoints c ON c.id = v.checkpoint_id WHERE c.name = 'rt' AND v.version = 'v2'`,
        )
      ).rows as Array<{ object_key: string }>;
      const r = await s.api('/checkpoints/rt/retention', { method: 'PUT', json: { keepNewest: 1 } });
      assert.equal(r.status, 200);
      const plan = (await r.json()) as Plan;
      assert.deepEqual(plan.rule, { keepNewest: 1, keepTagged: true, deleteUnsafeAfterDays: null });
      assert.deepEqual(
        plan.delete,
        [{ version: 'v2', reason: 'not among the newest 1' }],
        'v1 is tagged prod',
      );
      // the worker's reconciler applies it
      await eventually(async () => ((await s.api('/checkpoints/rt/v2')).status === 404 ? true : undefined));
      assert.equal((await s.api('/checkpoints/rt/v1')).status, 200);
      assert.equal((await s.api('/checkpoints/rt/v3')).status, 200);
      assert.equal(await s.rt.store.size(key), null, 'its file is gone');
      const log = (await (await s.api('/checkpoints/rt/retention/log')).json()) as Array<{
        version: string;
        reason: string;
      }>;
      assert.deepEqual(
        log.map((x) => [x.version, x.reason]),
        [['v2', 'not among the newest 1']],
      );
      // the tag history marks the moves naming v2 (latest and latest-safe passed over it)
      const history = (await (await s.api('/checkpoints/rt/tag-history')).json()) as Array<{
        tag: string;
        from: string | null;
        to: string | null;
        deletedByRetention: { from: boolean; to: boolean };
      }>;
      const latest = history.filter((h) => h.tag === 'latest');
      assert.deepEqual(
        latest.map((h) => [h.from, h.to, h.deletedByRetention.from, h.deletedByRetention.to]),
        [
          ['v2', 'v3', true, false],
          ['v1', 'v2', false, true],
          [null, 'v1', false, false],
        ],
      );
      const events = (await db.query(`SELECT payload FROM events WHERE type = 'version.deleted' ORDER BY id`))
        .rows as Array<{ payload: { version: string; reason?: string } }>;
      assert.deepEqual(
        events.map((e) => [e.payload.version, e.payload.reason]),
        [['v2', 'retention: not among the newest 1']],
      );
    } finally {
      await db.end();
    }
  });

  it('previews a rule that is not saved: what it would delete, nothing saved or deleted', async () => {
    await put(s, 'rp', 'p1', fx('twin/diff_a.pt'));
    await put(s, 'rp', 'p2', fx('twin/diff_b.pt'));
    await put(s, 'rp', 'p3', fx('twin/sd_views.pt'));
    for (const v of ['p1', 'p2', 'p3']) await scanned(s, 'rp', v);
    const preview = (json: unknown, name = 'rp') =>
      s.api(`/checkpoints/${name}/retention/preview`, { method: 'POST', json });
    const r = await preview({ keepNewest: 1, keepTagged: false });
    assert.equal(r.status, 200);
    assert.deepEqual((await r.json()) as Plan, {
      rule: { keepNewest: 1, keepTagged: false, deleteUnsafeAfterDays: null },
      delete: [
        { version: 'p2', reason: 'not among the newest 1' },
        { version: 'p1', reason: 'not among the newest 1' },
      ],
      keep: 1,
    });
    // the same planner as the saved rule's: tagged versions stay by default
    const tagged = (await (await preview({ keepNewest: 1 })).json()) as Plan;
    assert.deepEqual(
      tagged.delete.map((d) => d.version),
      ['p2', 'p1'],
      'p3 is tagged latest',
    );
    assert.deepEqual(((await (await s.api('/checkpoints/rp/retention')).json()) as Plan).rule, null);
    for (const v of ['p1', 'p2', 'p3']) assert.equal((await s.api(`/checkpoints/rp/${v}`)).status, 200);
    assert.equal((await preview({ keepNewest: 0 })).status, 400);
    assert.match(
      ((await (await preview({ keep: 1 })).json()) as { message: string }).message,
      /unknown key "keep"/,
    );
    assert.equal((await preview({ keepNewest: 1 }, 'nope')).status, 404);
  });

  it('deletes unsafe versions only once they are old enough, and checks the rule at the edge', async () => {
    await put(s, 'rt2', 'evil', fx('files/h_os_system_zip.pt'));
    await scanned(s, 'rt2', 'evil');
    const r = await s.api('/checkpoints/rt2/retention', {
      method: 'PUT',
      json: { deleteUnsafeAfterDays: 1 },
    });
    assert.deepEqual(((await r.json()) as Plan).delete, [], 'a dangerous version of today stays for now');
    await new Promise((res) => setTimeout(res, 2500)); // two reconciler passes
    assert.equal((await s.api('/checkpoints/rt2/evil')).status, 200);
    const bad = await s.api('/checkpoints/rt2/retention', { method: 'PUT', json: { keepNewest: 0 } });
    assert.equal(bad.status, 400);
    assert.equal((await s.api('/checkpoints/nope/retention', { method: 'PUT', json: {} })).status, 404);
    assert.equal((await s.api('/checkpoints/rt2/retention', { method: 'DELETE' })).status, 204);
    assert.equal(((await (await s.api('/checkpoints/rt2/retention')).json()) as Plan).rule, null);
  });
});

describe('retention racing tag moves and rescans', () => {
  it('re-checks each version where it deletes it: a tag put and a rescan during a pass save theirs', async () => {
    // a stack of its own without a worker: no reconciler runs, the test starts the pass itself (the real code)
    const r = await startStack({ withWorker: false });
    const db = new Client({ connectionString: r.directDatabaseUrl });
    await db.connect();
    let pass: Promise<void> | undefined;
    try {
      // 150 scanned safe versions, oldest first (rows written directly: only the pass's behaviour is under test)
      const [{ id }] = (await db.query(`INSERT INTO checkpoints (name) VALUES ('race') RETURNING id`))
        .rows as Array<{ id: string }>;
      await db.query(
        `INSERT INTO versions (checkpoint_id, version, sha256, size, object_key, scan_status, verdict, created_at)
         SELECT $1, 'v' || lpad(i::text, 3, '0'), repeat('a', 64), 1, 'objects/race-' || i, 'done', 'safe',
                now() - (200 - i) * interval '1 minute'
           FROM generate_series(0, 149) i`,
        [id],
      );
      const set = await r.api('/checkpoints/race/retention', { method: 'PUT', json: { keepNewest: 1 } });
      assert.equal(set.status, 200);
      const plan = (await set.json()) as Plan;
      assert.equal(plan.delete.length, 149);
      assert.equal(plan.delete.at(-1)?.version, 'v000', 'the oldest go last');

      pass = r.app.get(RetentionService).applyAll();
      const deleted = async () =>
        Number(((await db.query('SELECT count(*)::int AS n FROM retention_log')).rows[0] as { n: number }).n);
      // the pass has planned and is deleting; the two oldest are still there
      await eventually(async () => ((await deleted()) >= 3 ? true : undefined), 30_000, 'the pass to start');
      const tag = await r.api('/checkpoints/race/tags/keep', { method: 'PUT', json: { version: 'v000' } });
      assert.equal(tag.status, 200, 'the tag was put while v000 still existed');
      const rescan = await r.api('/checkpoints/race/v001/rescan', { method: 'POST' });
      assert.equal(rescan.status, 202, 'the rescan was asked while v001 still existed');
      const during = await deleted();
      assert.ok(during < 147, `the pass was still running (${during} deleted)`);
      await pass;

      const left = (
        await db.query(
          `SELECT v.version, v.scan_status FROM versions v WHERE v.checkpoint_id = $1 ORDER BY v.version`,
          [id],
        )
      ).rows as Array<{ version: string; scan_status: string }>;
      assert.deepEqual(
        left.map((v) => `${v.version}:${v.scan_status}`),
        ['v000:done', 'v001:pending', 'v149:done'],
        'the tagged and the rescanned versions stay',
      );
      const tags = (await (await r.api('/checkpoints/race/tags')).json()) as Array<{
        tag: string;
        version: string;
      }>;
      assert.deepEqual(
        tags.filter((t) => t.tag === 'keep').map((t) => t.version),
        ['v000'],
        'the new tag is still there',
      );
      assert.equal(await deleted(), 147);
      const logged = (await db.query(`SELECT version FROM retention_log WHERE version IN ('v000', 'v001')`))
        .rows;
      assert.deepEqual(logged, [], 'no audit entry for what stayed');
    } finally {
      await pass?.catch(() => undefined);
      await db.end();
      await r.close();
    }
  });
});
