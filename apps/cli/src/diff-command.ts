import { ENDPOINTS, type VersionDiff } from '@brine/contracts';
import { parseCommand, REMOTE_OPTIONS } from './arguments';
import { call, parseRef, remote } from './client';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { bold, dim, green, red, verdictLabel } from './format';
import { resolveVersion } from './resolve';
import { UsageError } from './usage-error';

export const DIFF_USAGE = `usage: brine diff NAME:A B        (or NAME:A NAME:B, or NAME A B)  [--json] [--url URL] [--token TOKEN]

What changed from version A to version B of checkpoint NAME (A and B may be tags, like best or production):
tensors added, removed, reshaped and with new values (from the stored checksums: no tensor data is read),
parameters, imports, findings, verdicts and what torch.load(weights_only=True) does.
  --json   print the registry's JSON

${EXIT_USAGE}`;

export async function diffCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    { json: { type: 'boolean', default: false }, ...REMOTE_OPTIONS },
    DIFF_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  let name: string;
  let a: string;
  let b: string;
  if (positionals.length === 3 && !positionals[0].includes(':')) [name, a, b] = positionals;
  else if (positionals.length === 2) {
    const first = parseRef(positionals[0]);
    const second = parseRef(positionals[1]);
    if (first.ref === null) throw new UsageError(`diff needs NAME:A B\n\n${DIFF_USAGE}`);
    if (second.ref !== null && second.name !== first.name)
      throw new UsageError(
        `diff compares two versions of one checkpoint, not ${first.name} and ${second.name}`,
      );
    name = first.name;
    a = first.ref;
    b = second.ref ?? second.name;
  } else throw new UsageError(`diff needs NAME:A B\n\n${DIFF_USAGE}`);
  const r = remote(values);
  let d: VersionDiff;
  try {
    const [from, to] = await Promise.all([resolveVersion(r, name, a), resolveVersion(r, name, b)]);
    d = await call(r, ENDPOINTS.diff, { params: { name }, query: { from, to } });
  } catch (e) {
    return failed(e);
  }
  if (values.json) {
    console.log(JSON.stringify(d, null, 2));
    return EXIT.ok;
  }
  const shown = (ref: string, v: string) => (ref === v ? v : `${v} (${ref})`);
  console.log(bold(`${name}: ${shown(a, d.from)} → ${shown(b, d.to)}`));
  for (const s of d.summary) console.log(`  ${s}`);
  const c = d.counts;
  console.log(
    `  ${dim('tensors')}  ${c.added} added, ${c.removed} removed, ${c.reshaped} reshaped, ${c.bytesChanged} with new values, ${c.unchanged} unchanged${c.unknown ? `, ${c.unknown} not comparable` : ''}`,
  );
  console.log(
    `  ${dim('parameters')}  ${d.parameters.from} → ${d.parameters.to} (${d.parameters.delta >= 0 ? '+' : ''}${d.parameters.delta})`,
  );
  console.log(
    `  ${dim('verdict')}  ${verdictLabel(d.verdict.from)} → ${verdictLabel(d.verdict.to)}${d.verdict.changed ? '' : dim(' (unchanged)')}`,
  );
  for (const w of d.weightsOnly)
    console.log(
      `  ${dim(`torch ${w.torch} weights_only`)}  ${w.from ? 'loads' : 'refuses'} → ${w.to ? 'loads' : 'refuses'}`,
    );
  const list = (label: string, items: string[]) => {
    if (items.length === 0) return;
    console.log(`  ${dim(label)}`);
    for (const x of items.slice(0, 20)) console.log(`    ${x}`);
    if (items.length > 20) console.log(dim(`    … ${items.length - 20} more (--json shows them)`));
  };
  list(
    'added',
    d.tensors.added.map((t) => green(`+ ${t.name} ${t.dtype} [${t.shape.join(', ')}]`)),
  );
  list(
    'removed',
    d.tensors.removed.map((t) => red(`- ${t.name} ${t.dtype} [${t.shape.join(', ')}]`)),
  );
  list(
    'reshaped',
    d.tensors.reshaped.map((t) => `~ ${t.name} [${t.from.shape.join(', ')}] → [${t.to.shape.join(', ')}]`),
  );
  list('new values', d.tensors.bytesChanged);
  list(
    'imports added',
    d.imports.added.map((i) => `+ ${i.module}.${i.name} (${i.class})`),
  );
  list(
    'imports removed',
    d.imports.removed.map((i) => `- ${i.module}.${i.name} (${i.class})`),
  );
  list(
    'findings added',
    d.findings.added.map((f) => `+ ${f.severity} ${f.rule}: ${f.message}`),
  );
  list(
    'findings removed',
    d.findings.removed.map((f) => `- ${f.severity} ${f.rule}: ${f.message}`),
  );
  if (!d.complete) console.log(dim(`  incomplete: ${d.incompleteBecause.join('; ')}`));
  return EXIT.ok;
}
