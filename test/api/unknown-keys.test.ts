import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROUTES, type Route, type RouteName } from '@brine/contracts';
import { FIXTURES } from '../helpers/paths';
import { put, startStack, type Stack } from '../helpers/stack';

/**
 * Unknown keys are refused, never ignored: every JSON body and every query string the route table declares is
 * checked strictly (derived from the contract once, in the API's ContractInterceptor), and the 400 names the key.
 * The cases are generated from ROUTES, so a new route is covered the day it is declared.
 */
let s: Stack;
before(async () => {
  s = await startStack({ withWorker: false });
});
after(async () => {
  await s?.close();
});

const UUID = '00000000-0000-4000-8000-000000000000';
const PARAMS: Record<string, string> = {
  name: 'uk',
  version: 'v1',
  tag: 'mytag',
  id: UUID,
  deliveryId: UUID,
};

/** a valid body for every route that takes JSON: the test adds one key to it */
const EXAMPLES: Partial<Record<RouteName, Record<string, unknown>>> = {
  patchVersion: { metrics: { val_loss: 0.5 } },
  downloadLink: { acknowledgeRisk: false },
  setRetention: { keepNewest: 3, keepTagged: true, deleteUnsafeAfterDays: null },
  previewRetention: { keepNewest: 3 },
  setCheckpointCard: { markdown: '# hi' },
  setVersionCard: { markdown: '# hi' },
  setBestRule: { metric: 'val_loss', mode: 'min' },
  setTag: { version: 'v1' },
  createToken: { name: 'ci', scopes: ['read'] },
  addSafeGlobal: { note: 'ok' },
  createWebhook: { url: 'http://127.0.0.1:9/hook', events: ['tag.moved'] },
  updateWebhook: { enabled: true },
  rotateSecret: { graceSeconds: 10 },
};

const routes = Object.entries(ROUTES) as Array<[RouteName, Route]>;
const pathOf = (r: Route, query = '') =>
  r.path.replace(/\{(\w+)\}/g, (_, k: string) =>
    encodeURIComponent(k === 'name' && r.path.startsWith('/policy') ? 'argparse.Namespace' : PARAMS[k]),
  ) + query;

describe('unknown keys', () => {
  it('every route that takes a JSON body has an example here', () => {
    const json = routes.filter(([, r]) => r.body !== undefined && r.body !== 'binary').map(([n]) => n);
    assert.deepEqual(json.sort(), Object.keys(EXAMPLES).sort());
  });

  for (const [name, r] of routes) {
    if (r.body === undefined || r.body === 'binary') continue;
    it(`${name}: an extra key in the body is a 400 naming it`, async () => {
      const res = await s.api(pathOf(r), {
        method: r.method.toUpperCase(),
        json: { ...EXAMPLES[name], brineExtra: 1 },
      });
      const body = (await res.json()) as { message: string };
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(body)}`);
      assert.match(body.message, /"brineExtra"/);
    });
  }

  for (const [name, r] of routes) {
    it(`${name}: an unknown query parameter is a 400 naming it`, async () => {
      const res = await s.api(pathOf(r, '?brineExtra=1'), {
        method: r.method.toUpperCase(),
        ...(r.body === 'binary'
          ? { body: new Uint8Array([1]), headers: { 'content-type': 'application/octet-stream' } }
          : {}),
      });
      const body = (await res.json()) as { message: string };
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(body)}`);
      assert.match(body.message, /unknown query parameter "brineExtra"/);
    });
  }

  it('a body sent to a route that takes none may not hold keys either', async () => {
    const res = await s.api(pathOf(ROUTES.rescan), { method: 'POST', json: { force: true } });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /unknown key "force"/);
  });

  it('names a nested key with its path, and what is declared there', async () => {
    const res = await s.api('/webhooks', {
      method: 'POST',
      json: { url: 'http://127.0.0.1:9/hook', events: ['tag.moved'], filter: { checkpoints: 'x' } },
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /"checkpoints"/);
  });

  it('{"keep": 3} no longer replaces a retention rule with one that keeps nothing', async () => {
    assert.equal((await put(s, 'uk', 'v1', readFileSync(join(FIXTURES, 'twin', 'diff_a.pt')))).status, 201);
    const rule = { keepNewest: 5, keepTagged: true, deleteUnsafeAfterDays: 30 };
    assert.equal((await s.api('/checkpoints/uk/retention', { method: 'PUT', json: rule })).status, 200);
    const res = await s.api('/checkpoints/uk/retention', { method: 'PUT', json: { keep: 3 } });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { message: string }).message,
      'unknown key "keep": the body takes "keepNewest", "keepTagged", "deleteUnsafeAfterDays"',
    );
    const now = (await (await s.api('/checkpoints/uk/retention')).json()) as { rule: unknown };
    assert.deepEqual(now.rule, rule);
  });
});
