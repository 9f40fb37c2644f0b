import { SCAN_USAGE, scanCommand } from './scan-command';
import { UsageError } from './usage-error';

const USAGE = `usage: brine <command> [options]

commands:
  scan PATH...                     scan checkpoint files offline (no registry needed)
  push FILE --name N --version V   upload to a registry and wait for the verdict
  pull NAME[:VERSION|:TAG] [-o F]  download a version and verify its SHA-256
  tag NAME TAG VERSION             point a tag at a version

Run \`brine <command> --help\` for a command's options.

${SCAN_USAGE}`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  scan: async () => scanCommand,
};

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
    return await (
      await load()
    )(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`brine ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
