import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { LINK_TTL_SECONDS } from '@brine/registry';
import { linkTarget } from '../../apps/api/src/auth.guard';
import { FIXTURES } from '../helpers/paths';
import { put, scanned, startStack, type Stack } from '../helpers/stack';

/**
 * The edge under hostile or careless input: every request gets a JSON answer at once, nothing is half-written,
 * links cannot be forged from a copy of the database, `latest` follows the commit order.
 */
let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s?.close();
});

const file = (f: string) => readFileSync(join(FIXTURES, 'files', f));

/** one raw HTTP/1.1 exchange: what Node's parser says to what fetch would never send */
function raw(
  request: string | Buffer,
  timeoutMs = 5000,
): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(t);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: rest.join('\r\n\r\n') });
    });
    sock.write(request);
  });
}

/**
 * What a request left behind for one checkpoint: its versions and upload rows, and (for the whole store) objects
 * that no version points at. A refused request changes none of them.
 */
async function leftovers(name: string): Promise<{ versions: number; uploads: number; orphans: number }> {
  const db = new Client({ connectionString: s.directDatabaseUrl });
  await db.connect();
  try {
    const v = await db.query(
      'SELECT count(*)::int AS n FROM versions v JOIN checkpoints c ON c.id = v.checkpoint_id WHERE c.name = $1',
      [name],
    );
    const u = await db.query('SELECT count(*)::int AS n FROM uploads WHERE checkpoint = $1', [name]);
    const keys = new Set(
      ((await db.query('SELECT object_key FROM versions')).rows as Array<{ object_key: string }>).map(
        (r) => r.object_key,
      ),
    );
    return {
      versions: (v.rows[0] as { n: number }).n,
      uploads: (u.rows[0] as { n: number }).n,
      orphans: (await s.rt.store.keys('objects/')).filter((k) => !keys.has(k)).length,
    };
  } finally {
    await db.end();
  }
}

describe('answers at once, stores nothing', () => {
  it('refuses metadata and metrics PostgreSQL cannot store with a 400 naming the problem', async () => {
    const body = file('b_state_dict.pt');
    for (const [header, value] of [
      ['x-brine-metadata', '{"a":"\\u0000"}'],
      ['x-brine-metadata', '{"a":"\\ud800"}'],
      ['x-brine-metadata', '{"\\udfff":1}'],
      ['x-brine-metadata', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`],
      ['x-brine-metrics', '{"\\u0000":1}'],
    ] as const) {
      const started = Date.now();
      const r = await put(s, 'jsonb', 'v1', body, { [header]: value });
      assert.equal(r.status, 400, `${header}: ${value}`);
      assert.ok(Date.now() - started < 3000, 'answered at once');
      const { message } = (await r.json()) as { message: string };
      assert.match(message, new RegExp(header.replace('-', '.')));
    }
    // a lone surrogate in a metric name sent as JSON
    const patchTarget = await put(s, 'jsonb', 'ok', body);
    assert.equal(patchTarget.status, 201);
    const r = await s.api('/checkpoints/jsonb/ok', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"metrics":{"\\ud83d":1}}',
    });
    assert.equal(r.status, 400);
    assert.deepEqual(await leftovers('jsonb'), { versions: 1, uploads: 0, orphans: 0 });
  });

  it('refuses an empty body with 400, with or without Content-Length', async () => {
    const r = await put(s, 'empty', 'v1', new Uint8Array(0));
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /body is empty/);
    // chunked with no chunks: the emptiness shows only after streaming
    const chunked = await raw(
      `PUT /checkpoints/empty/v2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.adminToken}\r\n` +
        'Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
    );
    assert.equal(chunked.status, 400, chunked.headers);
    assert.match(chunked.body, /body is empty/);
    assert.deepEqual(await leftovers('empty'), { versions: 0, uploads: 0, orphans: 0 });
  });

  it('answers what Node’s HTTP parser rejects with JSON', async () => {
    const badLength = await raw(
      'PUT /checkpoints/x/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\n',
    );
    assert.equal(badLength.status, 400);
    assert.match(badLength.headers, /content-type: application\/json/i);
    assert.equal((JSON.parse(badLength.body) as { statusCode: number }).statusCode, 400);

    const huge = await raw(
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(80 * 1024)}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(huge.status, 431);
    assert.match((JSON.parse(huge.body) as { message: string }).message, /headers are limited to 64 KiB/);

    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    assert.equal(garbage.status, 400);
    assert.doesNotThrow(() => JSON.parse(garbage.body));
  });

  it('lets the 16 KB metadata limit speak for itself (Node no longer answers 431 first)', async () => {
    const big = JSON.stringify({ notes: 'x'.repeat(17 * 1024) });
    const r = await put(s, 'meta', 'v1', file('b_state_dict.pt'), { 'x-brine-metadata': big });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /at most 16384 bytes/);
    const fits = JSON.stringify({ notes: 'x'.repeat(15 * 1024) });
    const ok = await put(s, 'meta', 'v2', file('b_state_dict.pt'), { 'x-brine-metadata': fits });
    assert.equal(ok.status, 201);
    assert.equal(((await ok.json()) as { metadata: { notes: string } }).metadata.notes.length, 15 * 1024);
  });
});

describe('download links', () => {
  it('cannot be forged with what the database holds, nor made to live longer than 5 minutes', async () => {
    assert.equal((await put(s, 'forge', 'v1', file('b_state_dict.pt'))).status, 201);
    await scanned(s, 'forge', 'v1');
    const made = (await (
      await s.api('/tokens', { method: 'POST', json: { name: 'forge-reader', scopes: ['read'] } })
    ).json()) as { id: string };
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    let hash: string;
    try {
      hash = (
        (await db.query('SELECT hash FROM tokens WHERE id = $1', [made.id])).rows[0] as { hash: string }
      ).hash;
    } finally {
      await db.end();
    }
    const target = linkTarget('forge', 'v1', false);
    const sign = (key: string, expires: number) =>
      `${made.id}.${expires}.${createHmac('sha256', key)
        .update(`brine-link\n${made.id}\n${target}\n${expires}`)
        .digest('base64url')}`;
    const soon = Math.floor(Date.now() / 1000) + 60;
    const get = (link: string) => fetch(`${s.url}/checkpoints/forge/v1/file?link=${link}`);

    // the server's own key makes a working link: the forgeries below fail only because of what they change
    assert.equal((await get(sign(s.rt.secret(), soon))).status, 200);
    assert.equal((await get(sign(hash, soon))).status, 401, 'keyed with the stored token hash');
    assert.equal((await get(sign('', soon))).status, 401, 'keyed with nothing');
    const tooLong = Math.floor(Date.now() / 1000) + LINK_TTL_SECONDS + 3600;
    assert.equal((await get(sign(s.rt.secret(), tooLong))).status, 401, 'an hour past the maximum');
    const past = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await get(sign(s.rt.secret(), past))).status, 401, 'expired');

    // the secret lives in the data folder, readable by its owner only, and not in the database
    const dir = s.config.dataDir;
    assert.ok(readdirSync(dir).includes('secret'));
    const db2 = new Client({ connectionString: s.directDatabaseUrl });
    await db2.connect();
    try {
      const dump = (await db2.query(
        `SELECT string_agg(t::text, '') AS all FROM (SELECT * FROM tokens) t`,
      )) as { rows: Array<{ all: string }> };
      assert.ok(!dump.rows[0].all.includes(s.rt.secret()));
    } finally {
      await db2.end();
    }
  });
});

describe('latest under concurrent uploads', () => {
  it('points at the version committed last, the same one the checkpoint reports', async () => {
    const body = file('b_state_dict.pt');
    for (let round = 0; round < 3; round++) {
      const name = `race-${round}`;
      const versions = Array.from({ length: 24 }, (_, i) => `v${i + 1}`);
      const answers = await Promise.all(
        versions.map((v, i) => put(s, name, v, Buffer.concat([body, Buffer.from([i])]))),
      );
      assert.deepEqual(
        answers.map((r) => r.status),
        versions.map(() => 201),
      );
      const tags = (await (await s.api(`/checkpoints/${name}/tags`)).json()) as Array<{
        tag: string;
        version: string;
      }>;
      const listed = (await (await s.api(`/checkpoints?q=${name}`)).json()) as {
        items: Array<{ name: string; latest: string }>;
      };
      const summary = listed.items.find((c) => c.name === name);
      const byCreated = (await (
        await s.api(`/checkpoints/${name}?sort=created&order=desc&limit=1`)
      ).json()) as {
        versions: Array<{ version: string }>;
      };
      const latest = tags.find((t) => t.tag === 'latest')?.version;
      assert.equal(latest, summary?.latest, `round ${round}: tag vs summary`);
      assert.equal(latest, byCreated.versions[0].version, `round ${round}: tag vs newest by creation`);
    }
  });
});

describe('keys JavaScript cannot hold', () => {
  it('refuses "__proto__" in JSON headers and bodies with a 400 naming it, instead of dropping it', async () => {
    const body = file('b_state_dict.pt');
    for (const [header, value] of [
      ['x-brine-metrics', '{"__proto__":1}'],
      ['x-brine-metrics', '{"val_loss":0.5,"__proto__":2}'],
      ['x-brine-metadata', '{"__proto__":{"polluted":true}}'],
      ['x-brine-metadata', '{"run":{"__proto__":1}}'],
    ] as const) {
      const r = await put(s, 'proto', 'v1', body, { [header]: value });
      const text = await r.text();
      assert.equal(r.status, 400, `${header}: ${value} → ${r.status} ${text}`);
      const { message } = JSON.parse(text) as { message: string };
      assert.match(message, /__proto__/, message);
      assert.match(message, new RegExp(header.replace('-', '.')), message);
    }
    assert.deepEqual(await leftovers('proto'), { versions: 0, uploads: 0, orphans: 0 });
    assert.equal((await put(s, 'proto', 'ok', body, { 'x-brine-metrics': '{"acc":0.5}' })).status, 201);
    for (const json of ['{"metrics":{"__proto__":1}}', '{"metrics":{"acc":0.7},"__proto__":{"x":1}}']) {
      const r = await s.api('/checkpoints/proto/ok', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: json,
      });
      const text = await r.text();
      assert.equal(r.status, 400, `PATCH ${json} → ${r.status} ${text}`);
      assert.match((JSON.parse(text) as { message: string }).message, /__proto__/);
    }
    const v = (await (await s.api('/checkpoints/proto/ok')).json()) as { metrics: Record<string, number> };
    assert.deepEqual(v.metrics, { acc: 0.5 }, 'nothing was changed');
  });
});

describe('security headers', () => {
  const csp = (r: Response | { headers: string }) =>
    r instanceof Response
      ? (r.headers.get('content-security-policy') ?? '')
      : (/^content-security-policy: (.*)$/im.exec(r.headers)?.[1] ?? '');

  it('every answer has a Content-Security-Policy with frame-ancestors none, and nosniff', async () => {
    assert.equal((await put(s, 'hdr', 'v1', file('b_state_dict.pt'))).status, 201);
    const answers: Array<[string, Response]> = [];
    for (const [path, token] of [
      ['/health', null],
      ['/health/live', null],
      ['/checkpoints', undefined],
      ['/checkpoints/hdr/v1', undefined],
      ['/checkpoints/hdr/v1/file?acknowledgeRisk=true', undefined],
      ['/checkpoints/hdr/v1/report', undefined],
      ['/checkpoints/nope', undefined],
      ['/checkpoints', null],
      ['/no/such/route', undefined],
      ['/metrics', null],
      ['/docs', null],
      ['/docs/init.js', null],
      ['/docs/openapi.json', null],
      ['/docs/assets/swagger-ui.css', null],
      ['/docs/assets/swagger-ui-bundle.js', null],
      ['/', null],
      ['/ui/main.js', null],
      ['/ui/style.css', null],
    ] as const)
      answers.push([path, await s.api(path, { token })]);
    answers.push(['PUT upload', await put(s, 'hdr', 'v2', file('b_state_dict.pt'))]);
    for (const [what, r] of answers) {
      await r.arrayBuffer();
      assert.match(csp(r), /frame-ancestors 'none'/, `${what} (${r.status}): CSP ${csp(r)}`);
      assert.match(csp(r), /default-src '(none|self)'/, `${what}: ${csp(r)}`);
      assert.doesNotMatch(csp(r), /script-src[^;]*'unsafe-(inline|eval)'/, `${what}: ${csp(r)}`);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what);
    }
    // an API answer is never a document: it may load nothing at all
    const json = answers.find(([w]) => w === '/checkpoints/hdr/v1')![1];
    assert.match(csp(json), /default-src 'none'/);
    // what Node's parser refuses before any route runs
    const bad = await raw('PUT /checkpoints/x/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n');
    assert.equal(bad.status, 400);
    assert.match(csp(bad), /frame-ancestors 'none'/);
    assert.match(bad.headers, /^x-content-type-options: nosniff$/im);
  });
});

describe('model cards that cannot be rendered', () => {
  it('are refused at write time with a 400 saying what to fix, quickly', async () => {
    assert.equal((await put(s, 'cards', 'v1', file('b_state_dict.pt'))).status, 201);
    const shapes: Array<[string, string]> = [
      ['60 000 nested blockquotes', '>'.repeat(60_000)],
      ['nested blockquotes with spaces', '> '.repeat(30_000) + 'x'],
      ['nested lists on one line', '- '.repeat(30_000) + 'x'],
      ['nested numbered lists', '1. '.repeat(20_000) + 'x'],
      ['blockquotes in lists', '> - '.repeat(15_000) + 'x'],
      ['a long run of emphasis marks', '*'.repeat(30_000) + 'x' + '*'.repeat(30_000)],
      ['nested strong emphasis', '**a '.repeat(5_000) + 'b' + ' c**'.repeat(5_000)],
      ['nested emphasis', '*a _'.repeat(4_000) + 'b' + '_ c*'.repeat(4_000)],
      // not nested, but marked takes seconds over them (7 s and 25 s on this machine): the time limit refuses them
      ['60 000 "!"', '!'.repeat(60_000)],
      ['strikes and underscores', '~~a__'.repeat(12_000)],
    ];
    for (const [what, markdown] of shapes) {
      for (const path of ['/checkpoints/cards/v1/card', '/checkpoints/cards/card']) {
        const started = Date.now();
        const r = await s.api(path, { method: 'PUT', json: { markdown } });
        const text = await r.text();
        assert.equal(r.status, 400, `${what} on ${path}: ${r.status} ${text.slice(0, 300)}`);
        // a nesting check answers at once; the rest within the render limit (2 s) and a worker's start
        assert.ok(Date.now() - started < 6000, `${what}: answered in ${Date.now() - started} ms`);
        assert.match((JSON.parse(text) as { message: string }).message, /nest|run of|takes more than/, text);
      }
    }
    // nothing was stored, and reads still work
    for (const path of ['/checkpoints/cards/v1/card', '/checkpoints/cards/card']) {
      const r = await s.api(path);
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { markdown: string | null }).markdown, null);
    }
    // what a real card does is accepted, and rendered
    const fine = [
      '# Card',
      '> > > quoted three deep',
      '- a',
      '  - b',
      '    - c **bold** and *em* and `*args, **kwargs`',
      '',
      '***',
      '',
      '| a | b |',
      '|---|---|',
      '| **x** | _y_ |',
      '',
      '```',
      '>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>> inside code',
      '```',
    ].join('\n');
    const ok = await s.api('/checkpoints/cards/v1/card', { method: 'PUT', json: { markdown: fine } });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.match(((await ok.json()) as { html: string }).html, /<blockquote>/);
  });

  it('a card stored before it was checked never makes a read fail', async () => {
    assert.equal((await put(s, 'cards2', 'v1', file('b_state_dict.pt'))).status, 201);
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    const hostile = '>'.repeat(60_000);
    try {
      await db.query(
        `UPDATE versions SET card = $1, card_updated_at = now() WHERE version = 'v1'
            AND checkpoint_id = (SELECT id FROM checkpoints WHERE name = 'cards2')`,
        [hostile],
      );
      await db.query(`UPDATE checkpoints SET card = $1, card_updated_at = now() WHERE name = 'cards2'`, [
        hostile,
      ]);
    } finally {
      await db.end();
    }
    for (const path of ['/checkpoints/cards2/v1/card', '/checkpoints/cards2/card']) {
      for (let i = 0; i < 2; i++) {
        const r = await s.api(path);
        const text = await r.text();
        assert.equal(r.status, 200, `${path}: ${r.status} ${text.slice(0, 200)}`);
        const card = JSON.parse(text) as { markdown: string; html: string };
        assert.equal(card.markdown, hostile);
        assert.equal(typeof card.html, 'string');
      }
    }
  });
});
