import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { Reconciler, twinObjectKey } from '@brine/jobs';
import { FIXTURES } from '../helpers/paths';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/**
 * The object store fails (refuses, then stops answering) while a safetensors twin is being written: the twin waits
 * for it — pending, with the reason — and is never marked failed or skipped; once S3 is back it is written, the
 * same bytes as before.
 */
let s: Stack;
before(async () => {
  s = await startStack({
    faults: ['s3'],
    env: { BRINE_S3_TIMEOUT_MS: '1500', BRINE_S3_CONNECT_TIMEOUT_MS: '1000' },
  });
});
after(async () => {
  await s?.proxies.s3?.set('pass');
  await s?.close();
});

interface TwinRow {
  status: string;
  sha256: string | null;
  error: string | null;
}

describe('S3 outage during a safetensors conversion', () => {
  it('waits for the store instead of failing, then writes the same twin', async () => {
    await put(s, 'tout', 'v1', readFileSync(join(FIXTURES, 'twin', 'sd_views.pt')));
    assert.equal((await scanned(s, 'tout', 'v1')).scan.verdict, 'safe');
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    try {
      const row = async () =>
        ((await db.query('SELECT status, sha256, error FROM twins')).rows as TwinRow[])[0] as
          TwinRow | undefined;
      const first = await eventually(async () => {
        const r = await row();
        return r?.status === 'done' ? r : undefined;
      }, 30_000);
      // the twin must be written again, and S3 goes away first
      const [{ version_id: id }] = (await db.query('SELECT version_id FROM twins')).rows as Array<{
        version_id: string;
      }>;
      await s.rt.store.delete(twinObjectKey(id));
      await db.query(`UPDATE twins SET status = 'pending', object_key = NULL, sha256 = NULL`);
      for (const mode of ['refuse', 'hang'] as const) {
        await s.proxies.s3!.set(mode);
        await s.app.get(Reconciler).tick();
        const waiting = await eventually(
          async () => {
            const r = await row();
            return r && /waiting for s3/.test(r.error ?? '') ? r : undefined;
          },
          30_000,
          `the twin to wait for S3 (${mode})`,
        ).catch(async (e: Error) => {
          throw new Error(`${e.message}; the row: ${JSON.stringify(await row())}`);
        });
        assert.equal(waiting.status, 'pending', `${mode}: an outage is not a failure`);
        await db.query(`UPDATE twins SET error = NULL`);
      }
      // a long outage: the worker and the reconciler retry many times, and none of that counts against the twin
      await new Promise((r) => setTimeout(r, 12_000));
      const still = (await row())!;
      assert.ok(
        ['pending', 'converting'].includes(still.status),
        `never failed or skipped: ${JSON.stringify(still)}`,
      );
      await s.proxies.s3!.set('pass');
      const done = await eventually(
        async () => {
          const r = await row();
          return r?.status === 'done' ? r : undefined;
        },
        90_000,
        'the twin once S3 is back',
      );
      assert.equal(done.sha256, first.sha256);
      const v = (await (await s.api('/checkpoints/tout/v1')).json()) as { scan: { verdict: string } };
      assert.equal(v.scan.verdict, 'safe', 'the version kept its verdict');
    } finally {
      await db.end();
    }
  });
});
