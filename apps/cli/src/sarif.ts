import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCANNER_VERSION, type Finding, type ScanReport, type Severity } from '@brine/scanner';

/**
 * SARIF 2.1.0 for code scanning (GitHub and any SARIF viewer): one run, one rule per finding rule id, one result
 * per finding that is not merely informational, located in the scanned file (the archive entry as a logical
 * location, the byte offset as a region when the finding has one).
 */

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  dangerous: 'error',
  suspicious: 'warning',
  unknown: 'warning',
  info: 'note',
};

/** GitHub's security-severity scale (critical ≥ 9, high ≥ 7, medium ≥ 4) */
const SECURITY_SEVERITY: Record<Severity, string> = {
  dangerous: '9.8',
  suspicious: '5.0',
  unknown: '5.0',
  info: '1.0',
};

const HELP: Record<string, string> = {
  'import-dangerous':
    'The pickle imports a callable that can run code, start processes, write files, open sockets or load another pickle.',
  'import-not-allowed':
    'The pickle imports a name outside the weights-only allowlist of the target torch version.',
  'weights-only-refused': 'torch.load(weights_only=True) of the target torch version refuses this file.',
  'pickle-error': 'The pickle cannot be read to its end; everything before the failure was scanned.',
  'unrecognised-format': 'The file is not a format Brine recognises; it is never reported safe.',
};

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: unknown[];
}

function uriOf(path: string): string {
  const rel = relative(process.cwd(), path);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return encodeURI(rel.split(sep).join('/'));
  return pathToFileURL(path).href;
}

function fingerprint(report: ScanReport, f: Finding): string {
  return createHash('sha256')
    .update([report.path, f.rule, f.entry ?? '', f.offset ?? '', f.module ?? '', f.name ?? ''].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The SARIF log of the reports. `accepted` names the policy that let a file through (`--allow-format numpy`):
 * its torch.load refusal is then a suppressed note (code scanning shows no alert for it), the other findings stay.
 */
export function toSarif(
  reports: ScanReport[],
  fileOf: (r: ScanReport) => string,
  accepted: (r: ScanReport) => string | null = () => null,
): SarifLog {
  const rules: Array<Record<string, unknown>> = [];
  const ruleIndex = new Map<string, number>();
  const results: unknown[] = [];
  const artifacts = reports.map((r) => ({
    location: { uri: uriOf(fileOf(r)) },
    length: r.size,
    ...(r.sha256 ? { hashes: { 'sha-256': r.sha256 } } : {}),
  }));
  reports.forEach((r, artifact) => {
    const policy = accepted(r);
    for (const f of r.findings) {
      if (f.severity === 'info') continue;
      const suppressed = policy !== null && f.rule === 'weights-only-refused';
      let index = ruleIndex.get(f.rule);
      if (index === undefined) {
        index = rules.length;
        ruleIndex.set(f.rule, index);
        const text = HELP[f.rule] ?? f.message.replace(/\s+/g, ' ').slice(0, 200);
        rules.push({
          id: f.rule,
          name: f.rule.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase()),
          shortDescription: { text: f.rule.replace(/-/g, ' ') },
          fullDescription: { text },
          help: { text },
          defaultConfiguration: { level: LEVEL[f.severity] },
          properties: {
            tags: ['security', 'supply-chain'],
            'security-severity': SECURITY_SEVERITY[f.severity],
          },
        });
      }
      const where = [f.entry ? `in ${f.entry}` : null, f.offset !== null ? `at byte ${f.offset}` : null]
        .filter(Boolean)
        .join(' ');
      const onFile = f.offset !== null && f.entry === null;
      results.push({
        ruleId: f.rule,
        ruleIndex: index,
        level: suppressed ? 'note' : LEVEL[f.severity],
        ...(suppressed
          ? {
              suppressions: [
                {
                  kind: 'external',
                  justification: `accepted by ${policy}: its own loader reads it without unpickling`,
                },
              ],
            }
          : {}),
        message: { text: `${f.message}${where ? ` (${where})` : ''} — verdict ${r.verdict}: ${r.summary}` },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: uriOf(fileOf(r)), index: artifact },
              region: onFile
                ? { byteOffset: f.offset, byteLength: 1 }
                : { byteOffset: 0, byteLength: r.size },
            },
            ...(f.entry ? { logicalLocations: [{ fullyQualifiedName: f.entry, kind: 'member' }] } : {}),
          },
        ],
        partialFingerprints: { 'brineFinding/v1': fingerprint(r, f) },
        properties: { verdict: r.verdict, format: r.format, kind: r.kind },
      });
    }
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Brine',
            semanticVersion: SCANNER_VERSION,
            rules,
          },
        },
        artifacts,
        results,
        columnKind: 'unicodeCodePoints',
      },
    ],
  };
}
