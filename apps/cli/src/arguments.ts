import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error';

type Options = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** --url and --token, for the commands that talk to a registry */
export const REMOTE_OPTIONS = { url: { type: 'string' }, token: { type: 'string' } } as const;

/**
 * A command's arguments, with -h/--help added: null when help was asked for (the usage is printed), a
 * UsageError that shows the usage when the arguments are wrong.
 */
export function parseCommand<O extends Options>(argv: string[], options: O, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, ...HELP } });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return null;
  }
  return parsed;
}
