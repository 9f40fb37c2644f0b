import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CARD_USAGE } from '../../apps/cli/src/card-command';
import { DIFF_USAGE } from '../../apps/cli/src/diff-command';
import { LS_USAGE } from '../../apps/cli/src/ls-command';
import { PULL_USAGE } from '../../apps/cli/src/pull-command';
import { PUSH_USAGE } from '../../apps/cli/src/push-command';
import { RETENTION_USAGE } from '../../apps/cli/src/retention-command';
import { SCAN_USAGE } from '../../apps/cli/src/scan-usage';
import { TAG_USAGE } from '../../apps/cli/src/tag-command';
import { TOKENS_USAGE } from '../../apps/cli/src/tokens-command';
import { REPO_ROOT } from '../helpers/paths';

/** The README keeps up with the clients: every CLI command and flag, and every function of the Python client. */
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('the README and the clients', () => {
  it('documents every brine command and every flag of their usages', () => {
    const usages = [
      SCAN_USAGE,
      PUSH_USAGE,
      PULL_USAGE,
      TAG_USAGE,
      LS_USAGE,
      DIFF_USAGE,
      CARD_USAGE,
      RETENTION_USAGE,
      TOKENS_USAGE,
    ];
    const missing: string[] = [];
    for (const usage of usages) {
      assert.ok(usage);
      const command = /^usage: brine (\w+)/.exec(usage)![1];
      if (!README.includes(`\`brine ${command}`)) missing.push(`brine ${command}`);
      for (const [flag] of usage.matchAll(/--[a-z][a-z-]+/g)) {
        if (['--help', '--url', '--token', '--json'].includes(flag)) continue;
        if (!README.includes(flag)) missing.push(`${flag} (brine ${command})`);
      }
    }
    assert.deepEqual([...new Set(missing)], [], 'every command and flag is in the README');
    for (const code of [0, 1, 2, 3, 4, 5]) assert.match(README, new RegExp(`^\\| ${code} \\| `, 'm'));
    assert.ok(README.includes('`brine --version`'));
  });

  it("documents the hook's default args and the action's inputs", () => {
    const hooks = parse(readFileSync(join(REPO_ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Array<{
      args: string[];
    }>;
    assert.ok(
      README.includes(`[${hooks[0].args.map((a) => (a.startsWith('-') ? a : `'${a}'`)).join(', ')}]`),
    );
    const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    for (const input of Object.keys(action.inputs))
      if (!['sarif', 'upload', 'fail'].includes(input)) assert.ok(README.includes(`\`${input}\``), input);
  });

  it('documents every function of the Python client', () => {
    const init = readFileSync(join(REPO_ROOT, 'clients', 'python', 'brine', '__init__.py'), 'utf8');
    const all = /__all__ = \[([\s\S]*?)\]/.exec(init)![1];
    const functions = [...all.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
    assert.ok(functions.length >= 14, functions.join(','));
    assert.deepEqual(
      functions.filter((f) => !README.includes(`brine.${f}(`)),
      [],
      'every function is in the README',
    );
  });
});
