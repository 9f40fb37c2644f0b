import { SCAN_USAGE } from './scan-usage';
import { UsageError } from './usage-error';

const USAGE = `usage: brine <command> [options]

commands:
  scan PATH...                     scan checkpoint files offline (no registry needed)
  push FILE --name N --version V   upload to a registry and wait for the verdict
  pull NAME[:VERSION|:TAG] [-o F]  download a version and verify its SHA-256
  tag NAME TAG VERSION             point a tag at a version

The registry commands read BRINE_URL (default http://127.0.0.1:3000) and BRINE_TOKEN, or --url and --token.

Run \`brine <command> --help\` for a command's options.

${SCAN_USAGE}`;

type Command = (argv: string[]) => Promise<number>;

/** each command's module is loaded only when it runs: `brine scan` never pays for the HTTP client, and so on */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading is the point */
const COMMANDS: Record<string, () => Command> = {
  scan: () => (require('./scan-command') as typeof import('./scan-command.js')).scanCommand,
  push: () => (require('./push-command') as typeof import('./push-command.js')).pushCommand,
  pull: () => (require('./pull-command') as typeof import('./pull-command.js')).pullCommand,
  tag: () => (require('./tag-command') as typeof import('./tag-command.js')).tagCommand,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
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
    throw e;
  }
}
