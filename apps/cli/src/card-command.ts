import { readFile } from 'node:fs/promises';
import { ENDPOINTS, type CardView } from '@brine/contracts';
import { parseCommand, REMOTE_OPTIONS } from './arguments';
import { call, parseRef, remote } from './client';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { dim } from './format';
import { UsageError } from './usage-error';

export const CARD_USAGE = `usage: brine card NAME[:VERSION] [--set FILE] [--json] [--url URL] [--token TOKEN]

Prints the model card of a checkpoint (or of one version) as markdown; with --set, writes it from FILE ("-" reads
standard input; markdown, at most 64 KiB; needs a write token). A version's file stays immutable: its card does not.

${EXIT_USAGE}`;

export async function cardCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    { set: { type: 'string' }, json: { type: 'boolean', default: false }, ...REMOTE_OPTIONS },
    CARD_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`card needs NAME or NAME:VERSION\n\n${CARD_USAGE}`);
  const { name, ref: version } = parseRef(positionals[0]);
  let markdown: string | undefined;
  if (values.set !== undefined) {
    try {
      markdown = values.set === '-' ? await readStdin() : await readFile(values.set, 'utf8');
    } catch {
      throw new UsageError(`--set ${values.set}: no such file`);
    }
  }
  const r = remote(values);
  let card: CardView;
  try {
    if (markdown !== undefined)
      card = version
        ? await call(r, ENDPOINTS.setVersionCard, { params: { name, version }, body: { markdown } })
        : await call(r, ENDPOINTS.setCheckpointCard, { params: { name }, body: { markdown } });
    else
      card = version
        ? await call(r, ENDPOINTS.getVersionCard, { params: { name, version } })
        : await call(r, ENDPOINTS.getCheckpointCard, { params: { name } });
  } catch (e) {
    return failed(e);
  }
  if (values.json) console.log(JSON.stringify(card, null, 2));
  else if (markdown !== undefined)
    console.log(`card of ${positionals[0]} written (${Buffer.byteLength(markdown)} bytes)`);
  else if (card.markdown === null)
    console.log(dim(`${positionals[0]} has no card yet (brine card ${positionals[0]} --set README.md)`));
  else process.stdout.write(card.markdown.endsWith('\n') ? card.markdown : `${card.markdown}\n`);
  return EXIT.ok;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
