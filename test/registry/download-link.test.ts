import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TokensService } from '@brine/registry';
import { FIXTURES } from '../helpers/paths';
import { put, scanned, startStack, type Stack } from '../helpers/stack';

/** Signed download links: what the dashboard uses because a browser link cannot carry the Authorization header. */
let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s?.close();
});

const file = (f: string) => readFileSync(join(FIXTURES, 'files', f));

async function link(path: string, body: unknown, token?: string): Promise<Response> {
  return s.api(`${path}/download-link`, { method: 'POST', json: body, token });
}

describe('download links', () => {
  it('download a version without a header, only that version, and only while the token lives', async () => {
    const bytes = file('b_state_dict.pt');
    assert.equal((await put(s, 'dl', 'v1', bytes)).status, 201);
    assert.equal((await put(s, 'dl', 'v2', file('b_tensor.pt'))).status, 201);
    await scanned(s, 'dl', 'v1');
    const made = await s.api('/tokens', { method: 'POST', json: { name: 'reader', scopes: ['read'] } });
    const reader = (await made.json()) as { token: string };
    const r = await link('/checkpoints/dl/v1', {}, reader.token);
    assert.equal(r.status, 201);
    const { path, expiresAt } = (await r.json()) as { path: string; expiresAt: string };
    assert.ok(Date.parse(expiresAt) > Date.now());

    const got = await fetch(`${s.url}${path}`);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);

    // the same signature on another version, or changed by one character, is refused
    assert.equal((await fetch(`${s.url}${path.replace('/v1/', '/v2/')}`)).status, 401);
    const sig = new URL(path, s.url).searchParams.get('link')!;
    const flipped = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
    assert.equal((await fetch(`${s.url}/checkpoints/dl/v1/file?link=${flipped}`)).status, 401);
    // a link is no use on other routes
    assert.equal((await fetch(`${s.url}/checkpoints/dl/v1/report?link=${sig}`)).status, 401);

    // revoking the token kills its links
    const id = ((await (await s.api('/tokens')).json()) as Array<{ id: string; name: string }>).find(
      (t) => t.name === 'reader',
    )!.id;
    assert.equal((await s.api(`/tokens/${id}`, { method: 'DELETE' })).ok, true);
    const after = await fetch(`${s.url}${path}`);
    assert.equal(after.status, 401);
    assert.match(((await after.json()) as { message: string }).message, /invalid or has expired/);
  });

  it('expire after their time', async () => {
    const tokens = s.app.get(TokensService);
    const made = await tokens.create('short', ['read']);
    const then = Date.now() - 10 * 60_000;
    const l = tokens.signLink(made.token, 'file\ndl\nv1\nfalse', 300, then);
    assert.notEqual(await tokens.verifyLink(l, 'file\ndl\nv1\nfalse', then + 1000), null);
    assert.equal(await tokens.verifyLink(l, 'file\ndl\nv1\nfalse'), null, 'ten minutes later');
  });

  it('need the acknowledgement for a version that is not safe', async () => {
    assert.equal((await put(s, 'dl', 'bad', file('h_os_system.pkl'))).status, 201);
    await scanned(s, 'dl', 'bad');
    const refused = await link('/checkpoints/dl/bad', {});
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { message: string }).message, /not known to be safe/);
    assert.equal((await link('/checkpoints/dl/bad', { acknowledgeRisk: 'yes' })).status, 400);
    const ok = await link('/checkpoints/dl/bad', { acknowledgeRisk: true });
    assert.equal(ok.status, 201);
    const { path } = (await ok.json()) as { path: string };
    assert.match(path, /acknowledgeRisk=true/);
    assert.equal((await fetch(`${s.url}${path}`)).status, 200);
    // dropping the acknowledgement from a link made with it breaks the signature
    assert.equal((await fetch(`${s.url}${path.replace('acknowledgeRisk=true&', '')}`)).status, 401);
  });
});
