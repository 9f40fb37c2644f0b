import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { z } from 'zod';
import { RESOURCES, ROUTES, type Route } from '@brine/contracts';
import { FIXTURES } from '../helpers/paths';
import { put, scanned, startStack, type Stack } from '../helpers/stack';

/**
 * The API is declared once, in @brine/contracts: Nest serves exactly the routes of the table, the OpenAPI
 * document is generated from it, and what the server answers matches the response schemas exactly.
 */
let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s?.close();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

function registeredRoutes(): Set<string> {
  const express = s.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  const stack = (express.router ?? express._router)?.stack ?? [];
  const out = new Set<string>();
  for (const layer of stack) {
    // middleware mounted on every path (request logging) is no route
    if (!layer.route || layer.route.path === '{/*splat}' || layer.route.path === '/*') continue;
    const path = layer.route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on && method !== '_all') out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

/** parses `value` and checks nothing was dropped or changed: the answer has exactly the declared shape */
function assertShape(schema: z.ZodType, value: unknown, what: string): void {
  const r = schema.safeParse(value);
  assert.ok(r.success, `${what}: ${r.success ? '' : JSON.stringify(r.error.issues.slice(0, 3))}`);
  assert.deepEqual(r.data, value, `${what} has fields its schema does not declare`);
}

function ok(route: Route, status = 200): z.ZodType {
  const body = route.responses[status]?.body;
  assert.ok(body && typeof body !== 'string', `${route.path} declares a JSON ${status}`);
  return body;
}

describe('the API declared once', () => {
  it('serves exactly the routes of the table, and documents each', async () => {
    const doc = (await (await s.api('/docs/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths))
      for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    const declared = new Set(Object.values(ROUTES).map((r) => `${r.method.toUpperCase()} ${r.path}`));
    assert.deepEqual([...documented].sort(), [...declared].sort(), 'the document is the table');
    const served = registeredRoutes();
    // the docs and the dashboard's own files are not part of the API
    for (const r of [...served])
      if (
        r.startsWith('GET /docs') ||
        !/^[A-Z]+ \/(checkpoints|health|metrics|tokens|policy|webhooks)/.test(r)
      )
        served.delete(r);
    assert.deepEqual([...served].filter((r) => !declared.has(r)).sort(), [], 'served but not declared');
    assert.deepEqual([...declared].filter((r) => !served.has(r)).sort(), [], 'declared but not served');
  });

  it('groups the operations by resource (tags), each with a summary, from the route table', async () => {
    const doc = (await (await s.api('/docs/openapi.json', { token: null })).json()) as {
      tags: Array<{ name: string; description: string }>;
      paths: Record<string, Record<string, { operationId: string; tags?: string[]; summary?: string }>>;
    };
    const names = doc.tags.map((t) => t.name);
    assert.deepEqual(names, Object.keys(RESOURCES));
    for (const t of doc.tags) assert.ok(t.description, `tag ${t.name} is described`);
    const used = new Set<string>();
    for (const ops of Object.values(doc.paths))
      for (const op of Object.values(ops)) {
        const route = (ROUTES as Record<string, Route>)[op.operationId];
        assert.deepEqual(op.tags, [route.tag], `${op.operationId} is filed under its resource`);
        assert.ok(names.includes(op.tags[0]), `${op.operationId}: ${op.tags[0]} is a declared tag`);
        assert.ok(op.summary && op.summary.length >= 10, `${op.operationId} has a summary`);
        used.add(op.tags[0]);
      }
    assert.deepEqual([...used].sort(), [...names].sort(), 'every resource has operations');
    const ops = (path: string) => Object.values(doc.paths[path]).map((o) => o.tags?.[0]);
    assert.deepEqual(ops('/checkpoints/{name}/retention/preview'), ['Retention']);
    assert.deepEqual(ops('/webhooks/{id}'), ['Webhooks', 'Webhooks', 'Webhooks']);
  });

  it('answers with exactly the declared shapes', async () => {
    assert.equal(
      (
        await put(s, 'shapes', 'v1', readFileSync(join(FIXTURES, 'files', 'b_state_dict.pt')), {
          'x-brine-metrics': '{"val_loss":0.5}',
        })
      ).status,
      201,
    );
    await scanned(s, 'shapes', 'v1');
    await s.api('/checkpoints/shapes/best-rule', {
      method: 'PUT',
      json: { metric: 'val_loss', mode: 'min' },
    });
    const get = async (path: string) => (await (await s.api(path)).json()) as unknown;
    assertShape(ok(ROUTES.getVersion), await get('/checkpoints/shapes/v1'), 'a version');
    assertShape(ok(ROUTES.listCheckpoints), await get('/checkpoints'), 'the checkpoint list');
    assertShape(ok(ROUTES.getCheckpoint), await get('/checkpoints/shapes'), 'a checkpoint');
    assertShape(ok(ROUTES.listTags), await get('/checkpoints/shapes/tags'), 'the tags');
    assertShape(ok(ROUTES.tagHistory), await get('/checkpoints/shapes/tag-history'), 'the tag history');
    assertShape(ok(ROUTES.getBestRule), await get('/checkpoints/shapes/best-rule'), 'the best rule');
    assertShape(ok(ROUTES.listTokens), await get('/tokens'), 'the tokens');
    assertShape(ok(ROUTES.me), await get('/tokens/me'), 'the calling token');
    assertShape(ok(ROUTES.listSafeGlobals), await get('/policy/safe-globals'), 'the safe globals');
    assertShape(ok(ROUTES.ready), await get('/health/ready'), 'readiness');
    const hook = (await (
      await s.api('/webhooks', {
        method: 'POST',
        json: { url: 'http://127.0.0.1:9/x', events: ['scan.unsafe'] },
      })
    ).json()) as { id: string };
    assertShape(ok(ROUTES.createWebhook, 201), hook, 'a new webhook');
    assertShape(ok(ROUTES.listWebhooks), await get('/webhooks'), 'the webhooks');
    assertShape(ok(ROUTES.deliveries), await get(`/webhooks/${hook.id}/deliveries`), 'the deliveries');
    const link = await s.api('/checkpoints/shapes/v1/download-link', { method: 'POST', json: {} });
    assertShape(ok(ROUTES.downloadLink, 201), await link.json(), 'a download link');
    const err = await s.api('/checkpoints/shapes/nope');
    assertShape(ok(ROUTES.getVersion, 404), await err.json(), 'an error');
  });

  it('validates requests with the declared schemas, and says what to send', async () => {
    const r = await s.api('/checkpoints?limit=9999');
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /limit must be from 1 to 500/);
    const bad = await s.api('/checkpoints/shapes/v1', {
      method: 'PATCH',
      json: { metrics: { 'bad name': 1 } },
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /metric names must start/);
    const rule = await s.api('/checkpoints/shapes/best-rule', {
      method: 'PUT',
      json: { metric: 'x', mode: 'up' },
    });
    assert.equal(rule.status, 400);
    assert.match(((await rule.json()) as { message: string }).message, /mode must be "min" or "max"/);
  });

  it('serves the document and a viewer without a token', async () => {
    const page = await s.api('/docs', { token: null });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger-ui/);
    assert.equal((await s.api('/docs/assets/swagger-ui-bundle.js', { token: null })).status, 200);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await s.api('/nope');
    assert.equal(r.status, 404);
    const j = (await r.json()) as { statusCode: number; message: string };
    assert.equal(j.statusCode, 404);
  });
});
