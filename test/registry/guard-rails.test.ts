import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { FIXTURES } from '../helpers/paths';
import { put, scanned, startStack, type Stack } from '../helpers/stack';

/** Where a person can point production at a bad file, the registry makes them say so. */
let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s?.close();
});

const file = (f: string) => readFileSync(join(FIXTURES, 'files', f));

async function tagOf(name: string, tag: string): Promise<string | null> {
  const r = await s.api(`/checkpoints/${name}/tags/${tag}`);
  if (r.status === 404) return null;
  return ((await r.json()) as { version: string }).version;
}

async function events(name: string): Promise<Array<{ type: string; payload: Record<string, unknown> }>> {
  const db = new Client({ connectionString: s.directDatabaseUrl });
  await db.connect();
  try {
    return (await db.query('SELECT type, payload FROM events WHERE checkpoint = $1 ORDER BY id', [name]))
      .rows as Array<{ type: string; payload: Record<string, unknown> }>;
  } finally {
    await db.end();
  }
}

describe('guard rails', () => {
  it('pointing a tag at a version that is not safe needs acknowledgeRisk, and the event says so', async () => {
    assert.equal((await put(s, 'guarded', 'good', file('b_state_dict.pt'))).status, 201);
    assert.equal((await put(s, 'guarded', 'bad', file('h_os_system_zip.pt'))).status, 201);
    await scanned(s, 'guarded', 'good');
    await scanned(s, 'guarded', 'bad');
    const refused = await s.api('/checkpoints/guarded/tags/production', {
      method: 'PUT',
      json: { version: 'bad' },
    });
    assert.equal(refused.status, 403);
    assert.match(
      ((await refused.json()) as { message: string }).message,
      /not known to be safe.*acknowledgeRisk/,
    );
    assert.equal(await tagOf('guarded', 'production'), null);
    const ok = await s.api('/checkpoints/guarded/tags/production', {
      method: 'PUT',
      json: { version: 'bad', acknowledgeRisk: true, reason: 'forensics' },
    });
    assert.equal(ok.status, 200);
    assert.equal(await tagOf('guarded', 'production'), 'bad');
    const moved = (await events('guarded')).filter(
      (e) => e.type === 'tag.moved' && e.payload.tag === 'production',
    );
    assert.equal(moved.length, 1);
    assert.equal(moved[0].payload.acknowledgedRisk, true);
    assert.equal(moved[0].payload.verdict, 'dangerous');
    // a safe version needs no acknowledgement
    assert.equal(
      (await s.api('/checkpoints/guarded/tags/staging', { method: 'PUT', json: { version: 'good' } })).status,
      200,
    );
    assert.equal(
      (await s.api('/checkpoints/guarded/tags/latest-safe', { method: 'PUT', json: { version: 'good' } }))
        .status,
      400,
      'latest-safe is moved by the registry only',
    );
  });

  it('keeps latest-safe on the newest safe version, through uploads, scans and deletions', async () => {
    const n = 'newest-safe';
    await put(s, n, 'v1', file('b_state_dict.pt'));
    await scanned(s, n, 'v1');
    assert.equal(await tagOf(n, 'latest-safe'), 'v1');
    await put(s, n, 'v2', file('h_os_system.pkl'));
    await scanned(s, n, 'v2');
    assert.equal(await tagOf(n, 'latest'), 'v2');
    assert.equal(await tagOf(n, 'latest-safe'), 'v1', 'a dangerous upload does not take it');
    await put(s, n, 'v3', file('b_tensor.pt'));
    await scanned(s, n, 'v3');
    assert.equal(await tagOf(n, 'latest-safe'), 'v3');
    assert.equal((await s.api(`/checkpoints/${n}/v3`, { method: 'DELETE' })).status, 204);
    assert.equal(await tagOf(n, 'latest-safe'), 'v1', 'it falls back when its version goes');
  });

  it('names the checkpoint and the version in every event payload', async () => {
    const all = await events('newest-safe');
    const types = new Set(all.map((e) => e.type));
    for (const t of ['version.created', 'version.deleted', 'tag.moved', 'scan.completed'])
      assert.ok(types.has(t), t);
    for (const e of all) {
      assert.equal(e.payload.checkpoint, 'newest-safe', `${e.type} names its checkpoint`);
      assert.ok('version' in e.payload, `${e.type} names its version: ${JSON.stringify(e.payload)}`);
    }
  });

  it('refuses code-execution primitives and anything every victim has that is not vetted, and accepts a harmless class', async () => {
    for (const name of [
      'posix.system',
      'os.system',
      'builtins.eval',
      'subprocess.Popen',
      'runpy._run_code',
      // on no gadget list, and not proven harmless: a numpy class that creates files, a private C module
      'numpy.memmap',
      '_sqlite3.connect',
      'torch.serialization._open_zipfile_writer',
    ]) {
      const r = await s.api(`/policy/safe-globals/${name}`, { method: 'PUT', json: {} });
      assert.equal(r.status, 400, name);
      assert.match(((await r.json()) as { message: string }).message, /cannot be a safe global/);
    }
    const vetted = await s.api('/policy/safe-globals/argparse.Namespace', { method: 'PUT', json: {} });
    assert.ok(vetted.status === 200 || vetted.status === 201, String(vetted.status));
    assert.equal((await s.api('/policy/safe-globals/argparse.Namespace', { method: 'DELETE' })).status, 200);
    const ok = await s.api('/policy/safe-globals/mylib.layers.Config', {
      method: 'PUT',
      json: { note: 'vetted' },
    });
    assert.ok(ok.status === 200 || ok.status === 201, String(ok.status));
    const list = (await (await s.api('/policy/safe-globals')).json()) as Array<{
      name: string;
      addedBy: string;
    }>;
    assert.deepEqual(
      list.map((g) => `${g.name} by ${g.addedBy}`),
      ['mylib.layers.Config by bootstrap-admin'],
    );
  });

  it('takes a best rule before the first push', async () => {
    const r = await s.api('/checkpoints/not-yet/best-rule', {
      method: 'PUT',
      json: { metric: 'val_loss', mode: 'min' },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(((await r.json()) as { rule: unknown }).rule, { metric: 'val_loss', mode: 'min' });
    await put(s, 'not-yet', 'v1', file('b_state_dict.pt'), { 'x-brine-metrics': '{"val_loss":0.3}' });
    await scanned(s, 'not-yet', 'v1');
    assert.equal(await tagOf('not-yet', 'best'), 'v1');
  });
});
