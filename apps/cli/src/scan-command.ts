import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isTorchVersion, scan, TORCH_VERSIONS, type ScanReport, type TorchVersion } from '@brine/scanner';
import { LocalFileSource, sha256File } from '@brine/storage';
import { bold, dim, humanBytes, humanCount, red, verdictLabel, yellow } from './format';
import { UsageError } from './usage-error';
import { parseCommand } from './arguments';

export const SCAN_USAGE = `usage: brine scan [--json] [--torch 1.13|2.6|2.14] [--allow module.Name]... PATH...

Scans checkpoint files (folders are walked) without executing anything.
  --json          print one JSON array of reports
  --torch V       the torch version the verdict is about (default 2.14)
  --allow NAME    treat NAME as a safe global, as torch.serialization.add_safe_globals would (repeatable)
  --no-hash       skip the SHA-256 of each file
Exit status: 0 when every file is safe, 1 when any is not, 2 on a usage error.`;

/** files under the given paths, folders walked recursively in name order */
async function collect(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const visit = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).sort();
      for (const n of names) await visit(join(p, n));
    } else if (st.isFile()) out.push(p);
  };
  for (const p of paths) await visit(p);
  return out;
}

export async function scanCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      json: { type: 'boolean', default: false },
      torch: { type: 'string', default: '2.14' },
      allow: { type: 'string', multiple: true, default: [] },
      'no-hash': { type: 'boolean', default: false },
    },
    SCAN_USAGE,
  );
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError(`no file given\n\n${SCAN_USAGE}`);
  const target = values.torch ?? '2.14';
  if (!isTorchVersion(target))
    throw new UsageError(`--torch must be one of ${TORCH_VERSIONS.join(', ')}, not "${target}"`);
  for (const a of values.allow ?? []) {
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(a))
      throw new UsageError(`--allow takes a dotted name like module.Name, not "${a}"`);
  }
  const files = await collect(positionals);
  const reports: ScanReport[] = [];
  for (const file of files) {
    const report = await scanFile(file, target, values.allow ?? [], !values['no-hash']);
    reports.push(report);
    if (!values.json) printReport(report);
  }
  if (values.json) console.log(JSON.stringify(reports, null, 2));
  else if (reports.length > 1) {
    const unsafe = reports.filter((r) => r.verdict !== 'safe').length;
    console.log(`${reports.length} files scanned, ${unsafe === 0 ? 'all safe' : `${unsafe} not safe`}`);
  }
  return reports.every((r) => r.verdict === 'safe') ? 0 : 1;
}

async function scanFile(
  file: string,
  target: TorchVersion,
  allow: string[],
  hash: boolean,
): Promise<ScanReport> {
  const src = await LocalFileSource.open(file);
  try {
    const [report, sha256] = await Promise.all([
      scan(src, { path: relative(process.cwd(), file) || file, filename: file, target, allow }),
      hash ? sha256File(file) : Promise.resolve(null),
    ]);
    report.sha256 = sha256;
    return report;
  } finally {
    await src.close();
  }
}

function printReport(r: ScanReport): void {
  const wo = TORCH_VERSIONS.map((v) => {
    const x = r.weightsOnly.byVersion[v];
    return `${v} ${x.loads ? 'loads' : red('refuses')}`;
  }).join('  ');
  console.log(`${bold(r.path)}  ${verdictLabel(r.verdict)}`);
  console.log(`  ${dim('format')}  ${r.format} / ${r.kind}   ${dim('size')} ${humanBytes(r.size)}`);
  console.log(`  ${dim('weights_only')}  ${wo}`);
  const reason = r.weightsOnly.byVersion[r.weightsOnly.target].reason;
  if (reason)
    console.log(
      `  ${dim(`torch ${r.weightsOnly.target}:`)} ${reason.length > 200 ? `${reason.slice(0, 200)}…` : reason}`,
    );
  if (r.tensors.count > 0) {
    console.log(
      `  ${dim('tensors')}  ${r.tensors.count} (${humanCount(r.tensors.parameters)} parameters, ${humanBytes(r.tensors.bytes)})`,
    );
  }
  for (const f of r.findings.filter((x) => x.severity !== 'info').slice(0, 8)) {
    const where = [f.entry, f.offset !== null ? `@${f.offset}` : null].filter(Boolean).join(' ');
    const sev = f.severity === 'dangerous' ? red(f.severity) : yellow(f.severity);
    console.log(`  ${sev} ${f.rule}${where ? ` ${dim(where)}` : ''}: ${f.message}`);
  }
  const more = r.findings.filter((x) => x.severity !== 'info').length - 8;
  if (more > 0) console.log(`  ${dim(`… ${more} more findings (--json shows all)`)}`);
  console.log(`  ${r.summary}`);
  if (r.sha256) console.log(`  ${dim(`sha256 ${r.sha256}`)}`);
  console.log('');
}
