import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH_VERSIONS } from '@brine/scanner';
import { SHARED } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * Conformance: for every labelled file in shared/vectors and each torch version, our prediction of
 * torch.load(path, weights_only=True, map_location="cpu") must equal what that torch really did.
 */
const VECTORS = join(SHARED, 'vectors');
const present = existsSync(join(VECTORS, 'oracle.json'));

describe('conformance with shared/vectors', () => {
  it(
    'predicts weights_only loading exactly as torch 1.13, 2.6 and 2.14 did',
    { skip: present ? false : `shared vectors not found at ${VECTORS} (set BRINE_SHARED_DIR)` },
    async () => {
      const oracle = JSON.parse(readFileSync(join(VECTORS, 'oracle.json'), 'utf8')).files as Record<
        string,
        Record<string, { ok: boolean; error?: string }>
      >;
      const files = readdirSync(join(VECTORS, 'files')).sort();
      assert.equal(files.length, Object.keys(oracle).length);
      let agree = 0;
      const mismatches: string[] = [];
      for (const f of files) {
        const r = await scanFile(join(VECTORS, 'files', f));
        for (const v of TORCH_VERSIONS) {
          const want = oracle[f][v].ok;
          const got = r.weightsOnly.byVersion[v];
          if (got.loads === want) agree++;
          else
            mismatches.push(
              `${f} @ ${v}: torch ${want ? 'loads' : `raises ${oracle[f][v].error?.slice(-120)}`}; we predict ${got.loads ? 'loads' : got.reason}`,
            );
        }
      }
      const total = files.length * TORCH_VERSIONS.length;
      console.log(
        `conformance: ${agree} of ${total} predictions agree with torch (${files.length} files × ${TORCH_VERSIONS.length} versions)`,
      );
      assert.deepEqual(mismatches, []);
      assert.equal(agree, total);
    },
  );
});
