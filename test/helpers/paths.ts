import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** the repository root (tests run from dist/test/…) */
export const REPO_ROOT = (() => {
  let d = __dirname;
  while (!existsSync(join(d, 'nest-cli.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
})();

export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

/** the shared reference material beside the project (present on CI, maybe not on a new machine) */
export const SHARED = resolve(process.env.BRINE_SHARED_DIR ?? join(REPO_ROOT, '..', 'shared'));
