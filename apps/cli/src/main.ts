import { SCAN_USAGE } from './scan-usage';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_USAGE } from './exit';
import { CommandFailure, UsageError } from './usage-error';

const USAGE = `usage: brine <command> [options]

commands:
  scan PATH...                     scan checkpoint files offline (no registry needed)
  push FILE --name N --version V   upload to a registry and wait for the verdict
  pull NAME[:VERSION|:TAG] [-o F]  download a version and verify its SHA-256
  ls [NAME]                        list checkpoints, or a checkpoint's versions
  tag NAME TAG VERSION             point a tag at a version (tag -d NAME TAG removes it; tag NAME lists them)
  diff NAME:A B                    what changed between two versions (or tags)
  card NAME[:VERSION] [--set F]    show or write a model card
  retention NAME [--keep-newest N] show or set the retention rule, and what it deletes
  tokens [create|revoke]           list, create or revoke API tokens (admin)
  --version                        print brine's version

The registry commands read BRINE_URL (default http://127.0.0.1:3000) and BRINE_TOKEN, or --url and --token.
A 503 is tried again after its Retry-After (3 times at most).

Run \`brine <command> --help\` for a command's options.

The registry commands' ${EXIT_USAGE.replace(/^Exit/, 'exit')}

${SCAN_USAGE}`;

type Command = (argv: string[]) => Promise<number>;

/** each command's module is loaded only when it runs: `brine scan` never pays for the HTTP client, and so on */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading is the point */
const COMMANDS: Record<string, () => Command> = {
  scan: () => (require('./scan-command') as typeof import('./scan-command.js')).scanCommand,
  push: () => (require('./push-command') as typeof import('./push-command.js')).pushCommand,
  pull: () => (require('./pull-command') as typeof import('./pull-command.js')).pullCommand,
  tag: () => (require('./tag-command') as typeof import('./tag-command.js')).tagCommand,
  ls: () => (require('./ls-command') as typeof import('./ls-command.js')).lsCommand,
  diff: () => (require('./diff-command') as typeof import('./diff-command.js')).diffCommand,
  card: () => (require('./card-command') as typeof import('./card-command.js')).cardCommand,
  retention: () =>
    (require('./retention-command') as typeof import('./retention-command.js')).retentionCommand,
  tokens: () => (require('./tokens-command') as typeof import('./tokens-command.js')).tokensCommand,
};

/** the version in package.json (dist/apps/cli/src → the package root) */
export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(`brine ${version()}`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`brine: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await load()(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`brine ${name}: ${e.message}`);
      return 2;
    }
    if (e instanceof CommandFailure) {
      console.error(`brine ${name}: ${e.message}`);
      return e.status;
    }
    throw e;
  }
}
