import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/paths';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/** End to end against the real PostgreSQL, Redis and the embedded S3 server. */
let s: Stack;
const MAX = 4 * 1024 * 1024;

before(async () => {
  s = await startStack({ env: { BRINE_MAX_UPLOAD_BYTES: String(MAX) } });
});
after(async () => {
  await s?.close();
});

const fixture = (f: string) => readFileSync(join(FIXTURES, 'files', f));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function objects(): Promise<string[]> {
  return s.rt.store.keys('objects/');
}
async function versionCount(): Promise<number> {
  const [r] = (await s.rt.dataSource.query('SELECT count(*)::int AS n FROM versions')) as Array<{
    n: number;
  }>;
  return r.n;
}
async function nothingStoredSince(before: { objects: number; versions: number }): Promise<void> {
  assert.equal((await objects()).length, before.objects, 'no new object');
  assert.equal(await versionCount(), before.versions, 'no new version');
  const [u] = (await s.rt.dataSource.query('SELECT count(*)::int AS n FROM uploads')) as Array<{ n: number }>;
  assert.equal(u.n, 0, 'no upload left in progress');
}
async function snapshot() {
  return { objects: (await objects()).length, versions: await versionCount() };
}

describe('uploads and scans', () => {
  it('scans every fixture kind through S3 range reads and reports what the scanner reports', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
      string,
      { format: string; kind: string; verdict: string }
    >;
    const oracle = JSON.parse(readFileSync(join(FIXTURES, 'oracle.json'), 'utf8')).files as Record<
      string,
      Record<string, { ok: boolean }>
    >;
    const files = readdirSync(join(FIXTURES, 'files')).filter((f) => f !== 'h_deep_nesting.pkl');
    const versionOf = (f: string) => f.replace(/[^A-Za-z0-9._-]/g, '-');
    for (const f of files) {
      const r = await put(s, 'fixtures', versionOf(f), fixture(f), { 'x-brine-filename': f });
      assert.equal(r.status, 201, `${f}: ${await r.text()}`);
    }
    for (const f of files) {
      const v = await scanned(s, 'fixtures', versionOf(f));
      const e = expected[f];
      assert.equal(v.scan.status, 'done', f);
      assert.equal(v.scan.verdict, e.verdict, `${f} verdict`);
      assert.equal(v.scan.kind, e.kind, `${f} kind`);
      assert.equal(v.scan.format, e.format, `${f} format`);
      const wo = v.scan.weightsOnly as { byVersion: Record<string, { loads: boolean }> };
      for (const tv of ['1.13', '2.6', '2.14'])
        assert.equal(wo.byVersion[tv].loads, oracle[f][tv].ok, `${f} @ ${tv}`);
    }
    const report = (await (
      await s.api(`/checkpoints/fixtures/${versionOf('h_os_system_zip.pt')}/report`)
    ).json()) as Record<string, unknown>;
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
    ]) {
      assert.ok(k in report, `report has ${k}`);
    }
    const finding = (report.findings as Array<Record<string, unknown>>).find(
      (x) => x.rule === 'import-dangerous',
    );
    assert.deepEqual(
      [finding?.module, finding?.name, finding?.entry, finding?.offset],
      ['os', 'system', 'archive/data.pkl', 2],
    );
    assert.equal(report.sha256, sha(fixture('h_os_system_zip.pt')));
  });

  it('keeps versions immutable: same bytes 200, other bytes 409', async () => {
    const a = fixture('b_tensor.pt');
    assert.equal((await put(s, 'imm', 'v1', a)).status, 201);
    const again = await put(s, 'imm', 'v1', a);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { sha256: string }).sha256, sha(a));
    const before = await snapshot();
    const other = await put(s, 'imm', 'v1', fixture('b_parameter.pt'));
    assert.equal(other.status, 409);
    assert.match(((await other.json()) as { message: string }).message, /immutable/);
    const otherWithHeader = await put(s, 'imm', 'v1', fixture('b_parameter.pt'), {
      'x-checksum-sha256': sha(fixture('b_parameter.pt')),
    });
    assert.equal(otherWithHeader.status, 409);
    await nothingStoredSince(before);
  });

  it('verifies x-checksum-sha256 and keeps nothing on a mismatch', async () => {
    const body = fixture('b_state_dict.pt');
    const before = await snapshot();
    const bad = await put(s, 'sums', 'v1', body, { 'x-checksum-sha256': 'ab'.repeat(32) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /does not match/);
    await nothingStoredSince(before);
    assert.equal(
      (await put(s, 'sums', 'v1', body, { 'x-checksum-sha256': sha(body).toUpperCase() })).status,
      201,
    );
  });

  it('lets exactly one of two concurrent uploads of a version win', async () => {
    const a = fixture('b_state_dict.pt');
    const b = fixture('b_train_checkpoint.pt');
    const before = await snapshot();
    const statuses = (await Promise.all([put(s, 'race', 'v1', a), put(s, 'race', 'v1', b)]))
      .map((r) => r.status)
      .sort();
    assert.deepEqual(statuses, [201, 409]);
    assert.equal((await objects()).length, before.objects + 1, 'the loser left no object');
    assert.equal(await versionCount(), before.versions + 1);
  });

  it('leaves nothing behind when an upload is cut off mid-stream', async () => {
    const before = await snapshot();
    const url = new URL(`${s.url}/checkpoints/cut/v1`);
    await new Promise<void>((resolve) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'PUT',
          headers: {
            authorization: `Bearer ${s.adminToken}`,
            'content-type': 'application/octet-stream',
            'content-length': String(3 * 1024 * 1024),
          },
        },
        () => resolve(),
      );
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1024 * 1024, 7), () => setTimeout(() => req.destroy(), 200));
    });
    await eventually(
      async () =>
        ((await s.rt.dataSource.query('SELECT count(*)::int AS n FROM uploads')) as Array<{ n: number }>)[0]
          .n === 0 || undefined,
      10_000,
      'the aborted upload to be cleaned up',
    );
    await nothingStoredSince(before);
    assert.equal((await s.api('/checkpoints/cut/v1')).status, 404);
  });

  it('refuses bodies over BRINE_MAX_UPLOAD_BYTES, declared or streamed, and stores nothing', async () => {
    const before = await snapshot();
    const big = Buffer.alloc(MAX + 1);
    const declared = await put(s, 'big', 'v1', big);
    assert.equal(declared.status, 413);
    const streamed = await s.api('/checkpoints/big/v2', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(1024 * 1024));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    await nothingStoredSince(before);
  });
});

describe('edge validation and auth', () => {
  it('answers bad names, versions and headers with 400 and a message that says what to send', async () => {
    const before = await snapshot();
    const body = fixture('b_tensor.pt');
    const cases: Array<[string, string, Record<string, string>]> = [
      ['-lead', 'v1', {}],
      ['ok', 'v1 space', {}],
      ['ok', 'tags', {}],
      ['x'.repeat(129), 'v1', {}],
      ['ok', 'v1', { 'x-checksum-sha256': 'nothex' }],
      ['ok', 'v1', { 'x-brine-metadata': '[1,2]' }],
      ['ok', 'v1', { 'x-brine-metrics': '{"val_loss": "low"}' }],
      ['ok', 'v1', { 'x-brine-filename': '../etc/passwd' }],
    ];
    for (const [n, v, h] of cases) {
      const r = await put(s, encodeURIComponent(n), encodeURIComponent(v), body, h);
      const j = (await r.json()) as { statusCode: number; message: string; error: string };
      assert.equal(r.status, 400, `${n}/${v} ${JSON.stringify(h)}: ${j.message}`);
      assert.equal(j.statusCode, 400);
      assert.ok(j.message.length > 10);
    }
    await nothingStoredSince(before);
  });

  it('requires a valid token with the right scope', async () => {
    const before = await snapshot();
    const body = fixture('b_tensor.pt');
    assert.equal((await put(s, 'auth', 'v1', body, {}, null)).status, 401);
    assert.equal((await put(s, 'auth', 'v1', body, {}, 'brine_not_a_real_token_0123456789')).status, 401);
    const created = (await (
      await s.api('/tokens', { method: 'POST', json: { name: 'reader', scopes: ['read'] } })
    ).json()) as { token: string; id: string };
    assert.match(created.token, /^brine_/);
    const forbidden = await put(s, 'auth', 'v1', body, {}, created.token);
    assert.equal(forbidden.status, 403);
    assert.match(((await forbidden.json()) as { message: string }).message, /"write" scope/);
    assert.equal((await s.api('/checkpoints', { token: created.token })).status, 200);
    assert.equal((await s.api('/tokens', { token: created.token })).status, 403);
    await nothingStoredSince(before);
    const list = (await (await s.api('/tokens')).json()) as Array<Record<string, unknown>>;
    assert.ok(
      list.every((t) => !('token' in t) && !('hash' in t)),
      'secrets are never listed',
    );
    assert.equal((await s.api(`/tokens/${created.id}`, { method: 'DELETE' })).status, 200);
    assert.equal((await s.api('/checkpoints', { token: created.token })).status, 401);
    assert.equal((await s.api('/health', { token: null })).status, 200);
  });
});

describe('downloads and lifecycle', () => {
  it('serves safe files, and unsafe ones only with acknowledgeRisk=true; ranges work', async () => {
    const safe = fixture('b_state_dict.pt');
    const bad = fixture('h_os_system_zip.pt');
    await put(s, 'dl', 'safe', safe);
    await put(s, 'dl', 'bad', bad);
    await scanned(s, 'dl', 'safe');
    await scanned(s, 'dl', 'bad');
    const r = await s.api('/checkpoints/dl/safe/file');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-checksum-sha256'), sha(safe));
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), safe);
    const refused = await s.api('/checkpoints/dl/bad/file');
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { message: string }).message, /acknowledgeRisk=true/);
    const ack = await s.api('/checkpoints/dl/bad/file?acknowledgeRisk=true');
    assert.deepEqual(Buffer.from(await ack.arrayBuffer()), bad);
    const part = await s.api('/checkpoints/dl/safe/file', { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), safe.subarray(10, 20));
    assert.equal(
      (await s.api('/checkpoints/dl/safe/file', { headers: { range: 'bytes=999999-' } })).status,
      416,
    );
  });

  it('deletes versions (admin only) with their file', async () => {
    await put(s, 'del', 'v1', fixture('b_tensor.pt'));
    const writer = (await (
      await s.api('/tokens', { method: 'POST', json: { name: 'writer', scopes: ['write'] } })
    ).json()) as { token: string };
    assert.equal((await s.api('/checkpoints/del/v1', { method: 'DELETE', token: writer.token })).status, 403);
    const before = (await objects()).length;
    assert.equal((await s.api('/checkpoints/del/v1', { method: 'DELETE' })).status, 204);
    assert.equal((await s.api('/checkpoints/del/v1')).status, 404);
    assert.equal((await objects()).length, before - 1);
  });

  it('re-scans the versions a safe-globals change affects', async () => {
    await put(s, 'ns', 'v1', fixture('s_ckpt_namespace.pt'));
    assert.equal((await scanned(s, 'ns', 'v1')).scan.verdict, 'suspicious');
    const add = await s.api('/policy/safe-globals/argparse.Namespace', {
      method: 'PUT',
      json: { note: 'our training args' },
    });
    assert.equal(add.status, 201);
    const [importers] = (await s.rt.dataSource.query(
      `SELECT count(DISTINCT version_id)::int AS n FROM imports WHERE module = 'argparse' AND name = 'Namespace'`,
    )) as Array<{ n: number }>;
    assert.ok(importers.n >= 1);
    assert.equal(((await add.json()) as { rescanning: number }).rescanning, importers.n);
    const after = await eventually(async () => {
      const v = (await (await s.api('/checkpoints/ns/v1')).json()) as {
        scan: { status: string; verdict: string };
      };
      return v.scan.status === 'done' && v.scan.verdict === 'safe' ? v : undefined;
    });
    assert.equal(after.scan.verdict, 'safe');
    assert.equal((await s.api('/policy/safe-globals/argparse.Namespace', { method: 'DELETE' })).status, 200);
    await eventually(async () => {
      const v = (await (await s.api('/checkpoints/ns/v1')).json()) as {
        scan: { status: string; verdict: string };
      };
      return v.scan.status === 'done' && v.scan.verdict === 'suspicious' ? v : undefined;
    });
    assert.equal((await s.api('/policy/safe-globals/not%20dotted', { method: 'PUT', json: {} })).status, 400);
  });

  it('lists checkpoints with verdict counts and filters them', async () => {
    const all = (await (await s.api('/checkpoints?limit=500')).json()) as {
      items: Array<{ name: string; verdicts: Record<string, number> }>;
    };
    const dl = all.items.find((c) => c.name === 'dl');
    assert.deepEqual([dl?.verdicts.safe, dl?.verdicts.dangerous], [1, 1]);
    const dangerous = (await (await s.api('/checkpoints?verdict=dangerous&limit=500')).json()) as {
      items: Array<{ name: string }>;
    };
    assert.ok(dangerous.items.some((c) => c.name === 'dl'));
    assert.ok(!dangerous.items.some((c) => c.name === 'imm'));
    assert.equal((await s.api('/checkpoints?verdict=bogus')).status, 400);
    assert.equal((await s.api('/health', { token: null })).status, 200);
  });
});
