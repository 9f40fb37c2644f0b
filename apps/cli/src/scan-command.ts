import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { SourceReadError } from '@brine/bytes';
import { isTorchVersion, scan, TORCH_VERSIONS, type ScanReport, type TorchVersion } from '@brine/scanner';
import { LocalFileSource, sha256File } from '@brine/storage/local-file';
import { parseCommand } from './arguments';
import { bold, dim, green, humanBytes, humanCount, recipeLines, red, verdictLabel, yellow } from './format';
import { SCAN_USAGE } from './scan-usage';
import { fails, policyVerdict, scanPolicy, type ScanPolicy } from './scan-policy';
import { collectTargets, type Skipped } from './scan-targets';
import { UsageError } from './usage-error';

/** the scan stopped because a file could not be read: exit status 3 */
class ReadFailure extends Error {}

export async function scanCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      json: { type: 'boolean', default: false },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      torch: { type: 'string', default: '2.14' },
      allow: { type: 'string', multiple: true, default: [] },
      include: { type: 'string', multiple: true, default: [] },
      exclude: { type: 'string', multiple: true, default: [] },
      'no-hash': { type: 'boolean', default: false },
      'fail-on': { type: 'string', default: 'unknown' },
      'allow-format': { type: 'string', multiple: true, default: [] },
    },
    SCAN_USAGE,
  );
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError(`no file given\n\n${SCAN_USAGE}`);
  const format = values.format ?? (values.json ? 'json' : 'text');
  if (!['text', 'json', 'sarif'].includes(format))
    throw new UsageError(`--format must be text, json or sarif, not "${format}"`);
  if (values.json && values.format && values.format !== 'json')
    throw new UsageError('--json and --format disagree: give one of them');
  if (values.output && format === 'text') throw new UsageError('--output goes with --format json or sarif');
  const target = values.torch ?? '2.14';
  if (!isTorchVersion(target))
    throw new UsageError(`--torch must be one of ${TORCH_VERSIONS.join(', ')}, not "${target}"`);
  for (const a of values.allow ?? []) {
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(a))
      throw new UsageError(`--allow takes a dotted name like module.Name, not "${a}"`);
  }
  const policy = scanPolicy(values['fail-on'], values['allow-format'] ?? []);
  const targets = await collectTargets(positionals, values.include ?? [], values.exclude ?? []);
  const reports: ScanReport[] = [];
  const files = new Map<ScanReport, string>();
  const skipped: Skipped[] = [...targets.skipped];
  try {
    for (const { path, named } of targets.files) {
      const report = await scanFile(path, target, values.allow ?? [], !values['no-hash']);
      if (!named && isPlainText(report)) {
        skipped.push({ path, why: 'text that is not a pickle' });
        continue;
      }
      reports.push(report);
      files.set(report, path);
      if (format === 'text') printReport(report, policy);
    }
  } catch (e) {
    if (!(e instanceof ReadFailure)) throw e;
    console.error(`brine scan: ${e.message}`);
    return 3;
  }
  if (format === 'text') printSummary(reports, skipped, policy);
  else {
    // the SARIF writer is loaded only when asked for (start-up time counts for every scan)
    const out =
      format === 'json'
        ? JSON.stringify(reports, null, 2)
        : JSON.stringify(
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            (require('./sarif') as typeof import('./sarif.js')).toSarif(
              reports,
              (r) => files.get(r) as string,
              (r) =>
                r.verdict !== 'safe' && policyVerdict(r, policy) === 'safe'
                  ? `--allow-format ${r.format}`
                  : null,
            ),
            null,
            2,
          );
    if (values.output) await writeFile(values.output, `${out}\n`);
    else console.log(out);
    if (skipped.length > 0) console.error(skippedLine(skipped));
  }
  return reports.some((r) => fails(r, policy)) ? 1 : 0;
}

/** a text file the scanner could make nothing of: not a model, and not a pickle either */
function isPlainText(r: ScanReport): boolean {
  return (
    r.format === 'unknown' &&
    r.details.text === true &&
    r.findings.every(
      (f) => f.severity === 'info' || f.rule === 'unrecognised-format' || f.rule === 'weights-only-refused',
    )
  );
}

async function scanFile(
  file: string,
  target: TorchVersion,
  allow: string[],
  hash: boolean,
): Promise<ScanReport> {
  let src: LocalFileSource;
  try {
    src = await LocalFileSource.open(file);
  } catch (e) {
    throw new ReadFailure(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const [report, sha256] = await Promise.all([
      scan(src, {
        path: relative(process.cwd(), file) || file,
        filename: file,
        target,
        allow,
        failOnReadError: true,
      }),
      hash ? sha256File(file) : Promise.resolve(null),
    ]);
    report.sha256 = sha256;
    return report;
  } catch (e) {
    if (e instanceof SourceReadError || (e as NodeJS.ErrnoException).code)
      throw new ReadFailure(`cannot read ${file}: ${(e as Error).message}`);
    throw e;
  } finally {
    await src.close();
  }
}

function skippedLine(skipped: Skipped[]): string {
  const byWhy = new Map<string, number>();
  for (const s of skipped) byWhy.set(s.why, (byWhy.get(s.why) ?? 0) + 1);
  return `skipped ${skipped.length} path${skipped.length === 1 ? '' : 's'}: ${[...byWhy]
    .map(([why, n]) => `${n} ${why}`)
    .join(', ')}`;
}

function printSummary(reports: ScanReport[], skipped: Skipped[], policy: ScanPolicy): void {
  if (skipped.length > 0) {
    console.log(dim(skippedLine(skipped)));
    for (const s of skipped.slice(0, 20)) console.log(dim(`  ${s.path}: ${s.why}`));
    if (skipped.length > 20) console.log(dim(`  … ${skipped.length - 20} more`));
  }
  if (reports.length > 1 || skipped.length > 0) {
    const unsafe = reports.filter((r) => r.verdict !== 'safe').length;
    const failing = reports.filter((r) => fails(r, policy)).length;
    console.log(
      `${reports.length} files scanned, ${unsafe === 0 ? 'all safe' : `${unsafe} not safe`}${unsafe > 0 ? `, ${failing} fail${failing === 1 ? 's' : ''} --fail-on ${policy.failOn}` : ''}`,
    );
  }
}

function printReport(r: ScanReport, policy: ScanPolicy): void {
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
  if (r.verdict !== 'safe' && policyVerdict(r, policy) === 'safe')
    console.log(
      `  ${green('accepted')} ${dim(`(--allow-format ${r.format}): only torch.load refuses it; its own loader reads it without unpickling, and nothing else was found`)}`,
    );
  else if (r.verdict !== 'safe' && !fails(r, policy))
    console.log(`  ${dim(`passes --fail-on ${policy.failOn}`)}`);
  for (const line of recipeLines(r.weightsOnly.target, r.howToLoad[r.weightsOnly.target])) console.log(line);
  if (r.sha256) console.log(`  ${dim(`sha256 ${r.sha256}`)}`);
  console.log('');
}
