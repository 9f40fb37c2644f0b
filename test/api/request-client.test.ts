import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ApiError,
  ENDPOINTS,
  request,
  ROUTES,
  send,
  type RequestInput,
  type Route,
  type RouteName,
} from '@brine/contracts';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { scanned, startStack, type Stack } from '../helpers/stack';

/**
 * The clients' request() (libs/contracts: the CLI and the dashboard call the API only through it) against a
 * running registry: every route of the table is reached through it with its method and its path filled in — the
 * route Nest serves for that request is the route asked for —, each success has the declared shape, and an error
 * answer becomes an ApiError carrying the registry's message. The copy the browser loads does the same.
 */
let s: Stack;
const realFetch = globalThis.fetch;
/** the requests fetch was asked to send, in order */
const sent: Array<{ method: string; url: string }> = [];

before(async () => {
  s = await startStack();
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    sent.push({ method: init?.method ?? 'GET', url: String(input) });
    return realFetch(input, init);
  };
});
after(async () => {
  globalThis.fetch = realFetch;
  await s?.close();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/** the table path (OpenAPI style) of the route Express dispatches this request to, the first that matches */
function servedBy(method: string, pathname: string): string | null {
  const express = s.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  for (const layer of (express.router ?? express._router)?.stack ?? []) {
    if (!layer.route || layer.route.path === '{/*splat}' || layer.route.path === '/*') continue;
    if (layer.route.methods[method.toLowerCase()] && layer.match(pathname))
      return layer.route.path.replace(/:([A-Za-z]+)/g, '{$1}');
  }
  return null;
}

/** the one request fetch sent since `sent` was emptied: its method, and the route that served it */
function lastSent(): { method: string; route: string | null; url: URL } {
  assert.equal(sent.length, 1, `one request was sent: ${JSON.stringify(sent)}`);
  const url = new URL(sent[0].url);
  return { method: sent[0].method, route: servedBy(sent[0].method, url.pathname), url };
}

const reached = new Set<RouteName>();

/** a request through send(), checked: the route that served it is `name`'s, and the answer is a declared success */
async function call<K extends RouteName>(name: K, input: RequestInput<(typeof ROUTES)[K]>) {
  sent.length = 0;
  const reply = await send(ENDPOINTS[name], input, { baseUrl: s.url, token: s.adminToken });
  const route: Route = ROUTES[name];
  const { method, route: served } = lastSent();
  assert.equal(method, route.method.toUpperCase(), `${name} is sent as ${route.method}`);
  assert.equal(served, route.path, `${name} is served by ${route.path}`);
  const declared = route.responses[reply.status];
  assert.ok(declared && reply.status < 300, `${name} answered ${reply.status}, a declared success`);
  if (typeof declared.body === 'object') {
    const parsed = declared.body.safeParse(reply.body);
    assert.ok(
      parsed.success,
      `${name}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))}`,
    );
  } else if (declared.body === 'binary')
    assert.ok(reply.body instanceof Response, `${name} answers a stream`);
  else if (declared.body === 'text') assert.equal(typeof reply.body, 'string', `${name} answers text`);
  else assert.equal(reply.body, undefined, `${name} answers nothing`);
  reached.add(name);
  return reply;
}

const NAME = 'client-model';
const file = readFileSync(join(FIXTURES, 'files', 'b_state_dict.pt'));
const sha256 = createHash('sha256').update(file).digest('hex');
const v1 = { name: NAME, version: 'v1' };
const v2 = { name: NAME, version: 'v2' };

describe('request(): the clients reach the API through the route table', () => {
  it('reaches every route of the table, with its method and filled path, and answers its declared shapes', async () => {
    await call('health', {});
    await call('ready', {});
    await call('live', {});
    assert.match((await call('metrics', {})).body, /brine_/);
    assert.deepEqual((await call('me', {})).body.scopes, ['admin']);

    // bytes in memory, then a stream
    const up = await call('upload', {
      params: v1,
      headers: { 'x-checksum-sha256': sha256, 'x-brine-metrics': '{"val_loss":0.5}' },
      body: new Uint8Array(file),
    });
    assert.equal(up.status, 201);
    assert.equal(up.body.sha256, sha256);
    const streamed = await call('upload', {
      params: v2,
      headers: { 'content-length': String(file.length), 'x-brine-parent': 'v1' },
      body: new Blob([file]).stream(),
    });
    assert.equal(streamed.body.size, file.length);
    await scanned(s, NAME, 'v1');
    await scanned(s, NAME, 'v2');

    assert.equal((await call('getVersion', { params: v1 })).body.version, 'v1');
    assert.deepEqual(
      (await call('patchVersion', { params: v1, body: { metrics: { val_loss: 0.4 } } })).body.metrics,
      {
        val_loss: 0.4,
      },
    );
    assert.equal((await call('report', { params: v1 })).body.sha256, sha256);
    const got = (await call('file', { params: v1, query: { acknowledgeRisk: true } })).body;
    assert.equal(
      createHash('sha256')
        .update(Buffer.from(await got.arrayBuffer()))
        .digest('hex'),
      sha256,
    );
    assert.match(
      (await call('downloadLink', { params: v1, body: { acknowledgeRisk: false } })).body.path,
      /link=/,
    );
    const found = await call('listCheckpoints', { query: { q: NAME, limit: 5 } });
    assert.deepEqual(
      found.body.items.map((c) => c.name),
      [NAME],
    );
    const listing = await call('getCheckpoint', {
      params: { name: NAME },
      query: { sort: 'created', order: 'asc', limit: 10, parent: 'v1' },
    });
    assert.deepEqual(
      listing.body.versions.map((v) => v.version),
      ['v2'],
      'the query reached the server',
    );
    await call('diff', { params: { name: NAME }, query: { from: 'v1', to: 'v2' } });

    await call('listTags', { params: { name: NAME } });
    const tag = { name: NAME, tag: 'prod' };
    assert.equal(
      (await call('setTag', { params: tag, body: { version: 'v1', reason: 'test' } })).body.version,
      'v1',
    );
    assert.equal((await call('getTag', { params: tag })).body.version, 'v1');
    await call('tagReport', { params: tag });
    await (await call('tagFile', { params: tag })).body.arrayBuffer();
    await call('tagHistory', { params: { name: NAME }, query: { limit: 10 } });
    await call('deleteTag', { params: tag });

    await call('getBestRule', { params: { name: NAME } });
    await call('setBestRule', { params: { name: NAME }, body: { metric: 'val_loss', mode: 'min' } });
    await call('clearBestRule', { params: { name: NAME } });
    await call('getRetention', { params: { name: NAME } });
    await call('setRetention', { params: { name: NAME }, body: { keepNewest: 1000 } });
    await call('previewRetention', { params: { name: NAME }, body: { keepNewest: 1 } });
    await call('retentionLog', { params: { name: NAME }, query: { limit: 10 } });
    await call('clearRetention', { params: { name: NAME } });
    await call('setCheckpointCard', { params: { name: NAME }, body: { markdown: '# A model' } });
    assert.equal((await call('getCheckpointCard', { params: { name: NAME } })).body.markdown, '# A model');
    await call('setVersionCard', { params: v1, body: { markdown: '# Version 1' } });
    assert.equal((await call('getVersionCard', { params: v1 })).body.markdown, '# Version 1');

    const token = (await call('createToken', { body: { name: 'client-test', scopes: ['read'] } })).body;
    await call('listTokens', {});
    await call('revokeToken', { params: { id: token.id } });

    await call('listSafeGlobals', {});
    await call('addSafeGlobal', { params: { name: 'mylib.layers.Config' } });
    await call('removeSafeGlobal', { params: { name: 'mylib.layers.Config' } });

    const hook = (
      await call('createWebhook', { body: { url: 'http://127.0.0.1:9/x', events: ['scan.unsafe'] } })
    ).body;
    const id = { id: hook.id };
    await call('listWebhooks', {});
    await call('getWebhook', { params: id });
    await call('updateWebhook', { params: id, body: { description: 'from the client test' } });
    await call('rotateSecret', { params: id, body: { graceSeconds: 0 } });
    const delivery = (await call('testWebhook', { params: id })).body;
    await call('deliveries', { params: id, query: { limit: 10 } });
    await call('redeliver', { params: { id: hook.id, deliveryId: delivery.id } });
    await call('deleteWebhook', { params: id });

    await call('rescan', { params: v2 });
    await call('deleteVersion', { params: v2 });

    assert.deepEqual(
      Object.keys(ROUTES).filter((r) => !reached.has(r as RouteName)),
      [],
      'every route of the table was reached',
    );
  });

  it('turns an error answer into an ApiError with the registry’s status, error and message', async () => {
    sent.length = 0;
    const missing = await request(
      ENDPOINTS.getVersion,
      { params: { name: NAME, version: 'nope' } },
      {
        baseUrl: s.url,
        token: s.adminToken,
      },
    ).catch((e: unknown) => e);
    assert.equal(lastSent().route, ROUTES.getVersion.path);
    const raw = (await (await s.api(`/checkpoints/${NAME}/nope`)).json()) as {
      error: string;
      message: string;
    };
    assert.ok(missing instanceof ApiError, String(missing));
    assert.equal(missing.status, 404);
    assert.equal(missing.error, raw.error);
    assert.equal(missing.message, raw.message);

    // parameters are percent-encoded: the name reaches the server whole, which refuses it with its own words
    sent.length = 0;
    const bad = await request(
      ENDPOINTS.getVersion,
      { params: { name: 'a b/c?', version: 'v1' } },
      {
        baseUrl: s.url,
        token: s.adminToken,
      },
    ).catch((e: unknown) => e);
    const { route, url } = lastSent();
    assert.equal(url.pathname, '/checkpoints/a%20b%2Fc%3F/v1');
    assert.equal(route, ROUTES.getVersion.path);
    assert.ok(bad instanceof ApiError);
    assert.equal(bad.status, 400);
    assert.equal(bad.error, 'Bad Request');
    assert.match(bad.message, /^name must be .*; got "a b\/c\?"$/);

    const noToken = await request(ENDPOINTS.me, {}, { baseUrl: s.url }).catch((e: unknown) => e);
    assert.ok(noToken instanceof ApiError);
    assert.equal(noToken.status, 401);
    assert.match(noToken.message, /token/i);

    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const unreachable = await request(ENDPOINTS.live, {}, { baseUrl: `http://127.0.0.1:${port}` }).catch(
      (e: unknown) => e,
    );
    assert.ok(unreachable instanceof ApiError);
    assert.equal(unreachable.status, 0);
    assert.match(unreachable.message, /ECONNREFUSED/);
  });

  it('is what the browser loads: request.js standing alone, and the table as data equal to ENDPOINTS', async () => {
    const dir = join(REPO_ROOT, 'dist', 'apps', 'dashboard', 'contracts', 'src');
    const code = readFileSync(join(dir, 'request.js'), 'utf8');
    assert.doesNotMatch(code, /^\s*import\s/m, 'request.js imports nothing');
    // ES modules in a CommonJS package: Node loads them as the browser does, from their text
    const load = (f: string) =>
      import(
        `data:text/javascript;base64,${readFileSync(join(dir, f)).toString('base64')}`
      ) as Promise<unknown>;
    const browser = (await load('request.js')) as { request: typeof request; ApiError: typeof ApiError };
    const table = (await load('endpoints.js')) as { ENDPOINTS: typeof ENDPOINTS };
    assert.deepEqual(table.ENDPOINTS, JSON.parse(JSON.stringify(ENDPOINTS)));
    const options = { baseUrl: s.url, token: s.adminToken };
    assert.deepEqual((await browser.request(table.ENDPOINTS.me, {}, options)).scopes, ['admin']);
    const err = await browser
      .request(table.ENDPOINTS.getVersion, { params: { name: NAME, version: 'nope' } }, options)
      .catch((e: unknown) => e);
    assert.ok(err instanceof browser.ApiError, String(err));
    assert.equal(err.status, 404);
  });
});
