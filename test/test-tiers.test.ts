import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/paths';

/** The test tiers are data (scripts/test-tiers.js): every compiled test file runs in exactly one tier. */
interface Tier {
  about: string;
  paths: string[];
}
const { TIERS, compiledTests, assignTiers } = createRequire(__filename)(
  join(REPO_ROOT, 'scripts', 'test-tiers.js'),
) as {
  TIERS: Record<string, Tier>;
  compiledTests: (root: string) => { files: string[]; stale: string[] };
  assignTiers: (
    files: string[],
    tiers?: Record<string, Tier>,
  ) => { byTier: Record<string, string[]>; problems: string[] };
};

describe('test tiers', () => {
  it('put every compiled test file in exactly one tier', () => {
    const { files } = compiledTests(REPO_ROOT);
    assert.ok(files.includes('test-tiers.test.js'), 'this file is among those found');
    const { byTier, problems } = assignTiers(files);
    assert.deepEqual(problems, []);
    assert.deepEqual(Object.keys(TIERS), ['unit', 'e2e', 'outages', 'browser', 'python']);
    assert.equal(Object.values(byTier).flat().length, files.length);
  });

  it('name a file in no tier, in two tiers, and an entry that names nothing', () => {
    const tiers = { a: { about: '', paths: ['x/', 'y/one.test.js'] }, b: { about: '', paths: ['y/', 'z/'] } };
    const { byTier, problems } = assignTiers(['x/1.test.js', 'y/one.test.js', 'w.test.js'], tiers);
    assert.deepEqual(byTier.a, ['x/1.test.js', 'y/one.test.js']);
    assert.deepEqual(problems, [
      'y/one.test.js belongs to several tiers: a (y/one.test.js), b (y/)',
      'w.test.js belongs to no tier: add it to TIERS in scripts/test-tiers.js',
      'b: "z/" names no compiled test file',
    ]);
  });
});
