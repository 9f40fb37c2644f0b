import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { assertNothingOrphaned } from '../helpers/outage';
import { spawnApi, stopProcess } from '../helpers/processes';
import { eventually, startStack, type Stack } from '../helpers/stack';
import { streamedPut } from '../helpers/streaming';

/**
 * Multipart parts never outlive their upload: a refused upload aborts its own, and the sweeper (on start and
 * periodically) aborts those of an upload whose process was killed — on the embedded s3rver, which cannot abort,
 * by removing its part files.
 */
const MAX = 24 * 1024 * 1024;
let s: Stack;
before(async () => {
  s = await startStack({
    env: { BRINE_UPLOAD_STALE_SECONDS: '2', BRINE_MAX_UPLOAD_BYTES: String(MAX) },
  });
});
after(async () => {
  await s?.close();
});

/** bytes of multipart parts the S3 server holds, by upload */
function parts(): Map<string, number> {
  const dir = join(s.config.dataDir, 's3', s.config.s3.bucket, '._S3rver_uploads');
  const out = new Map<string, number>();
  if (!existsSync(dir)) return out;
  for (const id of readdirSync(dir)) {
    let bytes = 0;
    for (const f of readdirSync(join(dir, id))) bytes += statSync(join(dir, id, f)).size;
    out.set(id, bytes);
  }
  return out;
}

async function uploadRows(): Promise<number> {
  const db = new Client({ connectionString: s.directDatabaseUrl });
  await db.connect();
  try {
    return (await db.query('SELECT id FROM uploads')).rows.length;
  } finally {
    await db.end();
  }
}

describe('multipart parts', () => {
  it('an upload refused for its size leaves no part behind, at once', async () => {
    const r = await streamedPut(`${s.url}/checkpoints/leak/too-big`, s.adminToken, {
      chunks: 40,
      chunkBytes: 1024 * 1024,
    });
    assert.equal(r.status, 413, r.body);
    // straight away, not after a sweep: the failure path aborted the multipart upload itself
    assert.equal(parts().size, 0, 'no part files');
    assert.equal(await uploadRows(), 0, 'no upload row');
    await assertNothingOrphaned(s, 0);
  });

  it('an upload whose API process was killed -9 mid-body is swept: parts, row and object', async () => {
    const api = await spawnApi(s.config, s.s3.endpoint, s.adminToken, { BRINE_UPLOAD_STALE_SECONDS: '2' });
    try {
      let partsSeen = 0;
      const upload = streamedPut(`${api.url}/checkpoints/leak/killed`, s.adminToken, {
        chunks: 20,
        chunkBytes: 1024 * 1024,
        random: true,
        between: async (i) => {
          if (i === 18) {
            // once whole parts are on disk, kill the process that was writing them
            partsSeen = await eventually(
              async () => {
                const bytes = [...parts().values()].reduce((a, b) => a + b, 0);
                return bytes >= 8 * 1024 * 1024 ? bytes : undefined;
              },
              20_000,
              'a part on disk',
            );
            api.process.kill('SIGKILL');
            await new Promise((r) => api.process.once('exit', r));
          }
        },
      });
      const answer = await upload;
      assert.equal(answer.status, 0, 'the connection died with its process');
      assert.ok(partsSeen >= 8 * 1024 * 1024, `parts were on disk when it died (${partsSeen} bytes)`);
      assert.equal(await uploadRows(), 1, 'its upload row is left for the sweeper');
      await eventually(
        async () => (parts().size === 0 && (await uploadRows()) === 0 ? true : undefined),
        20_000,
        'the sweeper to remove the dead upload',
      );
      await assertNothingOrphaned(s, 0);
    } finally {
      await stopProcess(api.process, 'SIGKILL');
    }
  });
});
