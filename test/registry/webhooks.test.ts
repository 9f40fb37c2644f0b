import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { blockedReason } from '@brine/webhooks';
import { FIXTURES } from '../helpers/paths';
import { spawnWorker, stopProcess } from '../helpers/processes';
import { startReceiver, subscribe, verify, type Created } from '../helpers/receiver';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/** Signed webhooks end to end: a real receiver on loopback checks every signature with its own verifier. */
const hostile = () => readFileSync(join(FIXTURES, 'files', 'h_os_system_zip.pt'));
const benign = () => readFileSync(join(FIXTURES, 'files', 'b_state_dict.pt'));

describe('webhooks', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ env: { BRINE_WEBHOOK_RETRY_SCALE: '0.002', BRINE_WEBHOOK_TIMEOUT_MS: '2000' } });
  });
  after(async () => {
    await s?.close();
  });

  it('sends exactly one signed scan.unsafe per matching subscription', async () => {
    const a = await startReceiver();
    const b = await startReceiver();
    const other = await startReceiver();
    try {
      const subA = await subscribe(s, { url: `${a.url}/hook`, events: ['scan.unsafe'] });
      const subB = await subscribe(s, {
        url: `${b.url}/hook`,
        events: ['scan.unsafe', 'scan.completed'],
        filter: { checkpoint: 'unsafe-*', minSeverity: 'dangerous' },
      });
      await subscribe(s, {
        url: `${other.url}/hook`,
        events: ['scan.unsafe'],
        filter: { checkpoint: 'nothing-*' },
      });
      assert.match(subA.secret, /^whsec_/);
      assert.equal((await put(s, 'unsafe-model', 'v1', hostile())).status, 201);
      assert.equal((await put(s, 'unsafe-model', 'v2', benign())).status, 201);
      await scanned(s, 'unsafe-model', 'v1');
      await scanned(s, 'unsafe-model', 'v2');
      await eventually(
        async () => (a.received.length >= 1 && b.received.length >= 2 ? true : undefined),
        20_000,
        'deliveries',
      );
      await new Promise((r) => setTimeout(r, 1500)); // anything extra would have arrived by now
      assert.equal(a.received.length, 1, 'one scan.unsafe to A');
      const ev = verify(subA.secret, a.received[0]);
      assert.equal(ev.type, 'scan.unsafe');
      assert.equal(ev.data.checkpoint, 'unsafe-model');
      assert.equal(ev.data.version, 'v1');
      assert.equal(ev.data.verdict, 'dangerous');
      assert.match(String(ev.data.sha256), /^[0-9a-f]{64}$/);
      assert.deepEqual(
        (ev.data.dangerousImports as Array<{ module: string; name: string; entry: string }>).map(
          (i) => `${i.module}.${i.name}@${i.entry}`,
        ),
        ['os.system@archive/data.pkl'],
      );
      assert.ok((ev.data.weightsOnly as { byVersion: Record<string, unknown> }).byVersion['2.14']);
      assert.match(String(ev.data.report), /\/checkpoints\/unsafe-model\/v1\/report$/);
      assert.ok(Buffer.byteLength(a.received[0].body) < 20 * 1024, 'thin payload');
      // B: scan.unsafe + scan.completed for v1 (dangerous), nothing for the safe v2 (minSeverity filters scan events)
      const types = b.received
        .map((r) => verify(subB.secret, r))
        .map((e) => `${e.type}:${String(e.data.version)}`)
        .sort();
      assert.deepEqual(types, ['scan.completed:v1', 'scan.unsafe:v1']);
      assert.equal(other.received.length, 0, 'the filtered subscription got nothing');
      // the delivery log names each delivery's checkpoint and version
      const log = (await (await s.api(`/webhooks/${subB.id}/deliveries`)).json()) as Array<{
        event: string;
        checkpoint: string | null;
        version: string | null;
      }>;
      assert.deepEqual(log.map((d) => `${d.event}:${d.checkpoint}:${d.version}`).sort(), [
        'scan.completed:unsafe-model:v1',
        'scan.unsafe:unsafe-model:v1',
      ]);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('retries with the same webhook-id until the receiver accepts, logging every attempt', async () => {
    const r = await startReceiver((_req, n) => ({ status: n <= 3 ? 500 : 200 }));
    try {
      const sub = await subscribe(s, { url: r.url, events: ['version.created'] });
      assert.equal((await put(s, 'retry-model', 'v1', benign())).status, 201);
      await eventually(async () => (r.received.length >= 4 ? true : undefined), 20_000, 'four attempts');
      const ids = new Set(r.received.map((x) => x.headers['webhook-id']));
      assert.equal(ids.size, 1, 'one webhook-id across retries');
      for (const x of r.received) assert.equal(verify(sub.secret, x).type, 'version.created');
      const log = await eventually(async () => {
        const d = (await (await s.api(`/webhooks/${sub.id}/deliveries`)).json()) as Array<{
          status: string;
          attempts: Array<{ statusCode: number; latencyMs: number; error: string | null }>;
        }>;
        return d[0]?.status === 'succeeded' ? d : undefined;
      });
      assert.deepEqual(
        log[0].attempts.map((a) => a.statusCode),
        [500, 500, 500, 200],
      );
      assert.ok(log[0].attempts.every((a) => typeof a.latencyMs === 'number'));
      assert.equal(log[0].attempts[0].error, 'HTTP 500');
      // redeliver: same webhook-id again
      const deliveryId = (
        (await (await s.api(`/webhooks/${sub.id}/deliveries`)).json()) as Array<{
          id: string;
          webhookId: string;
        }>
      )[0];
      assert.equal(
        (await s.api(`/webhooks/${sub.id}/deliveries/${deliveryId.id}/redeliver`, { method: 'POST' })).status,
        202,
      );
      await eventually(async () => (r.received.length >= 5 ? true : undefined), 10_000, 'the redelivery');
      assert.equal(r.received[4].headers['webhook-id'], deliveryId.webhookId);
    } finally {
      await r.close();
    }
  });

  it('disables a subscription on 410 Gone and says why', async () => {
    const r = await startReceiver(() => ({ status: 410 }));
    try {
      const sub = await subscribe(s, { url: r.url, events: ['version.created'] });
      await put(s, 'gone-model', 'v1', benign());
      const hook = await eventually(async () => {
        const h = (await (await s.api(`/webhooks/${sub.id}`)).json()) as {
          enabled: boolean;
          disabledReason: string;
        };
        return h.enabled ? undefined : h;
      });
      assert.match(hook.disabledReason, /410/);
      await put(s, 'gone-model', 'v2', benign());
      await new Promise((res) => setTimeout(res, 1500));
      assert.equal(r.received.length, 1, 'nothing more after the 410');
    } finally {
      await r.close();
    }
  });

  it('does not follow redirects', async () => {
    const elsewhere = await startReceiver();
    const r = await startReceiver(() => ({ status: 302, headers: { location: `${elsewhere.url}/stolen` } }));
    try {
      const sub = await subscribe(s, { url: r.url, events: ['version.created'] });
      await put(s, 'redirect-model', 'v1', benign());
      const log = await eventually(async () => {
        const d = (await (await s.api(`/webhooks/${sub.id}/deliveries`)).json()) as Array<{
          attempts: Array<{ statusCode: number; error: string }>;
        }>;
        return d[0]?.attempts.length ? d : undefined;
      });
      assert.equal(log[0].attempts[0].statusCode, 302);
      assert.match(log[0].attempts[0].error, /redirect .* not followed/);
      assert.equal(elsewhere.received.length, 0);
    } finally {
      await Promise.all([r.close(), elsewhere.close()]);
    }
  });

  it('refuses private, loopback, link-local and metadata targets while the guard is on', async () => {
    s.config.webhookAllowPrivate = false;
    try {
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://169.254.169.254/latest',
        'http://10.1.2.3/',
        'http://[::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://[::127.0.0.1]/', // IPv4-compatible loopback
        'http://[::a9fe:a9fe]/', // IPv4-compatible metadata address
        'http://[::ffff:a9fe:a9fe]/',
        'http://[64:ff9b::a9fe:a9fe]/', // NAT64
        'http://[2002:a9fe:a9fe::]/', // 6to4
        'http://[fe80::1]/',
        'http://[fd00::1]/',
        'http://0x7f.0.0.1/',
        'http://2130706433/',
        'http://localhost/',
        'ftp://example.com/',
        'http://user:pw@example.com/',
      ]) {
        const r = await s.api('/webhooks', { method: 'POST', json: { url, events: ['scan.unsafe'] } });
        assert.equal(r.status, 400, url);
      }
    } finally {
      s.config.webhookAllowPrivate = true;
    }
    assert.equal(blockedReason('8.8.8.8'), null);
    assert.ok(blockedReason('::ffff:a9fe:a9fe'), 'mapped metadata address');
    assert.ok(blockedReason('64:ff9b::7f00:1'), 'NAT64 loopback');
    assert.ok(blockedReason('::127.0.0.1'), 'IPv4-compatible loopback');
    assert.ok(blockedReason('::a9fe:a9fe'), 'IPv4-compatible metadata address');
    assert.ok(blockedReason('2002:7f00:1::'), '6to4 loopback');
    assert.ok(blockedReason('::'), 'unspecified');
    assert.equal(blockedReason('2606:4700:4700::1111'), null, 'a public IPv6 address passes');
  });

  it('sends a new subscription what happens after it is made, never an older backlog', async () => {
    // an event from a minute ago that no worker has fanned out yet (as a busy or restarted worker leaves it)
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO events (type, checkpoint, payload, created_at) VALUES ('tag.moved', 'backlog', $1, now() - interval '1 minute')`,
        [{ checkpoint: 'backlog', version: 'old', tag: 'planted' }],
      );
    } finally {
      await db.end();
    }
    const r = await startReceiver();
    try {
      const sub = await subscribe(s, {
        url: r.url,
        events: ['tag.moved'],
        filter: { checkpoint: 'backlog*' },
      });
      assert.equal((await put(s, 'backlog-new', 'v1', benign())).status, 201);
      await scanned(s, 'backlog-new', 'v1');
      const tagged = await s.api('/checkpoints/backlog-new/tags/fresh', {
        method: 'PUT',
        json: { version: 'v1' },
      });
      assert.equal(tagged.status, 200, await tagged.text());
      const tags = () => r.received.map((m) => String(verify(sub.secret, m).data.tag));
      await eventually(
        async () => (tags().includes('fresh') ? true : undefined),
        20_000,
        'the new tag.moved',
      );
      await new Promise((res) => setTimeout(res, 1500)); // the backlog would have arrived by now
      assert.ok(!tags().includes('planted'), `only events made after the subscription: ${tags().join(', ')}`);
    } finally {
      await r.close();
    }
  });

  it('deletes a subscription with its deliveries (admin only)', async () => {
    const r = await startReceiver();
    try {
      const sub = await subscribe(s, { url: `${r.url}/hook`, events: ['tag.moved'] });
      const t = await s.api(`/webhooks/${sub.id}/test`, { method: 'POST' });
      assert.equal(t.status, 202);
      const test = (await t.json()) as { checkpoint: string | null; version: string | null };
      assert.deepEqual([test.checkpoint, test.version], [null, null]);
      await eventually(async () => (r.received.length >= 1 ? true : undefined), 10_000, 'the test event');
      const reader = (await (
        await s.api('/tokens', { method: 'POST', json: { name: 'hooks-reader', scopes: ['read', 'write'] } })
      ).json()) as { token: string };
      assert.equal(
        (await s.api(`/webhooks/${sub.id}`, { method: 'DELETE', token: reader.token })).status,
        403,
      );
      assert.equal((await s.api(`/webhooks/${sub.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await s.api(`/webhooks/${sub.id}`)).status, 404);
      assert.equal((await s.api(`/webhooks/${sub.id}/deliveries`)).status, 404);
      assert.equal((await s.api(`/webhooks/${sub.id}`, { method: 'DELETE' })).status, 404);
      const db = new Client({ connectionString: s.directDatabaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query(
          'SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1',
          [sub.id],
        );
        assert.equal((rows[0] as { n: number }).n, 0, 'its deliveries went with it');
      } finally {
        await db.end();
      }
    } finally {
      await r.close();
    }
  });

  it('signs with both secrets during a rotation, and sends test events', async () => {
    const r = await startReceiver();
    try {
      const sub = await subscribe(s, { url: r.url, events: ['tag.moved'] });
      const rotated = (await (
        await s.api(`/webhooks/${sub.id}/rotate-secret`, { method: 'POST', json: { graceSeconds: 600 } })
      ).json()) as Created;
      assert.notEqual(rotated.secret, sub.secret);
      assert.equal((await s.api(`/webhooks/${sub.id}/test`, { method: 'POST' })).status, 202);
      await eventually(async () => (r.received.length >= 1 ? true : undefined));
      assert.equal(verify(rotated.secret, r.received[0]).type, 'webhook.test');
      assert.equal(
        verify(sub.secret, r.received[0]).type,
        'webhook.test',
        'the old secret still verifies during the grace period',
      );
      const listed = (await (await s.api('/webhooks')).json()) as Array<Record<string, unknown>>;
      assert.ok(
        listed.every((w) => !('secret' in w)),
        'secrets are never listed',
      );
    } finally {
      await r.close();
    }
  });
});

describe('webhooks survive a dead worker', () => {
  let s: Stack;
  const workers: ChildProcess[] = [];
  before(async () => {
    s = await startStack({
      withWorker: false,
      env: { BRINE_WEBHOOK_TIMEOUT_MS: '1500', BRINE_WEBHOOK_RETRY_SCALE: '0.002' },
    });
  });
  after(async () => {
    await Promise.all(workers.map((w) => stopProcess(w, 'SIGKILL')));
    await s?.close();
  });

  it('delivers an event whose worker was killed between the verdict and the send', async () => {
    const r = await startReceiver((_req, n) => (n === 1 ? { status: 200, hold: true } : { status: 200 }));
    try {
      const sub = await subscribe(s, { url: r.url, events: ['scan.unsafe'] });
      const env = { BRINE_WEBHOOK_TIMEOUT_MS: '1500', BRINE_WEBHOOK_RETRY_SCALE: '0.002' };
      const first = spawnWorker(s.config, s.rt.embedded?.endpoint ?? '', env);
      workers.push(first);
      await put(s, 'killed-hook', 'v1', hostile());
      await eventually(async () => (r.received.length >= 1 ? true : undefined), 30_000, 'the first send');
      first.kill('SIGKILL');
      await new Promise((res) => first.once('exit', res));
      const v = await scanned(s, 'killed-hook', 'v1');
      assert.equal(v.scan.verdict, 'dangerous', 'the verdict was stored before the send');
      workers.push(spawnWorker(s.config, s.rt.embedded?.endpoint ?? '', env));
      await eventually(
        async () => (r.received.length >= 2 ? true : undefined),
        40_000,
        'the delivery after the restart',
      );
      assert.equal(r.received[1].headers['webhook-id'], r.received[0].headers['webhook-id']);
      assert.equal(verify(sub.secret, r.received[1]).data.version, 'v1');
      const d = await eventually(async () => {
        const x = (await (await s.api(`/webhooks/${sub.id}/deliveries`)).json()) as Array<{ status: string }>;
        return x[0]?.status === 'succeeded' ? x : undefined;
      });
      assert.equal(d.length, 1);
    } finally {
      await r.close();
    }
  });
});
