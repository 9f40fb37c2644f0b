import { pullCommand } from './pull-command';
import { pushCommand } from './push-command';
import { SCAN_USAGE, scanCommand } from './scan-command';
import { tagCommand } from './tag-command';
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

const COMMANDS: Record<string, Command> = {
  scan: scanCommand,
  push: pushCommand,
  pull: pullCommand,
  tag: tagCommand,
};

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const run = COMMANDS[name];
  if (!run) {
    console.error(`brine: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`brine ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
