import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../helpers/stack';

/** The OpenAPI document and the routes Nest registers must describe the same API. */
let s: Stack;
before(async () => {
  s = await startStack({ withWorker: false });
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

describe('OpenAPI document', () => {
  it('lists exactly the routes the API serves', async () => {
    const doc = (await (await s.api('/docs/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths))
      for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    const served = registeredRoutes();
    assert.ok(served.size > 30, `routes read from the router: ${served.size}`);
    // the docs' own assets are not part of the API
    for (const r of [...served]) if (r.includes('/docs')) served.delete(r);
    for (const r of [...served].filter(
      (x) =>
        x.startsWith('GET /') &&
        !x.includes('/checkpoints') &&
        !x.includes('/health') &&
        !x.includes('/metrics') &&
        !x.includes('/tokens') &&
        !x.includes('/policy') &&
        !x.includes('/webhooks'),
    ))
      served.delete(r);
    assert.deepEqual([...served].filter((r) => !documented.has(r)).sort(), [], 'served but not documented');
    assert.deepEqual([...documented].filter((r) => !served.has(r)).sort(), [], 'documented but not served');
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
