import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigService } from '@nestjs/config';
import { ConfigError, ENV_NAMES, loadConfig } from '@brine/config';
import { REPO_ROOT } from '../helpers/paths';
import { startStack, type Stack } from '../helpers/stack';

/** The configuration is declared once (@brine/config's ENV schema); the README and Nest's ConfigService follow it. */
let s: Stack;
before(async () => {
  s = await startStack({ withWorker: false });
});
after(async () => {
  await s?.close();
});

describe('configuration', () => {
  it('documents exactly the variables the schema declares', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Production'));
    // the variables named in the first column of the table
    const firstCells = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|')[1]);
    const documented = new Set(
      firstCells.flatMap((c) => [...c.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])),
    );
    const declared = new Set<string>(ENV_NAMES);
    assert.deepEqual(
      [...declared].filter((n) => !documented.has(n)).sort(),
      [],
      'declared but not in the README',
    );
    assert.deepEqual(
      [...documented].filter((n) => !declared.has(n)).sort(),
      [],
      'in the README but not declared',
    );
  });

  it('names every variable that is wrong, at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', S3_BUCKET: 'No', BRINE_SECRET: 'short' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /PORT must be a whole number/.test(e.message) &&
        /S3_BUCKET must be a valid bucket name/.test(e.message) &&
        /BRINE_SECRET must be at least 32 characters/.test(e.message),
    );
  });

  it("serves the process's configuration through Nest's ConfigService", () => {
    const cs = s.app.get(ConfigService);
    assert.equal(cs.get<string>('queuePrefix'), s.config.queuePrefix);
    assert.equal(cs.get<{ bucket: string }>('s3')?.bucket, s.config.s3.bucket);
  });
});
