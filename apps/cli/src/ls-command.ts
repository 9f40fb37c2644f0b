import { ENDPOINTS, type CheckpointSummary, type VersionListing, type VersionView } from '@brine/contracts';
import { parseCommand, REMOTE_OPTIONS } from './arguments';
import { call, remote } from './client';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { dim, humanBytes, verdictLabel } from './format';
import { UsageError } from './usage-error';

export const LS_USAGE = `usage: brine ls [--query TEXT] [--verdict V] [--limit N] [--json] [--url URL] [--token TOKEN]
       brine ls NAME [--parent VERSION] [--git-commit SHA] [--dataset NAME] [--run-url URL]
                     [--sort created|version|size|metrics.NAME] [--order asc|desc] [--limit N] [--json]

Without NAME: the checkpoints, with their version counts, latest and best versions and verdicts.
With NAME: its versions, newest first, with verdict, size, tags (a hand-moved best marked "(pinned)"), metrics
and lineage; the lineage flags keep only
the versions trained from that parent, commit, dataset or run.
  --limit N   show at most N (default 50)
  --json      print the registry's JSON

${EXIT_USAGE}`;

export async function lsCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      query: { type: 'string', short: 'q' },
      verdict: { type: 'string' },
      parent: { type: 'string' },
      'git-commit': { type: 'string' },
      dataset: { type: 'string' },
      'run-url': { type: 'string' },
      sort: { type: 'string' },
      order: { type: 'string' },
      limit: { type: 'string', default: '50' },
      json: { type: 'boolean', default: false },
      ...REMOTE_OPTIONS,
    },
    LS_USAGE,
  );
  if (parsed === null) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`ls takes at most one NAME\n\n${LS_USAGE}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit takes a whole number from 1');
  const [name] = positionals;
  if (!name) {
    for (const k of ['parent', 'git-commit', 'dataset', 'run-url', 'sort', 'order'] as const)
      if (values[k] !== undefined)
        throw new UsageError(`--${k} goes with NAME: it filters a checkpoint's versions`);
  } else if (values.query !== undefined || values.verdict !== undefined)
    throw new UsageError('--query and --verdict filter the list of checkpoints: give them without NAME');
  if (values.verdict && !['safe', 'suspicious', 'dangerous', 'unknown', 'pending'].includes(values.verdict))
    throw new UsageError('--verdict must be safe, suspicious, dangerous, unknown or pending');
  if (values.order && values.order !== 'asc' && values.order !== 'desc')
    throw new UsageError('--order must be asc or desc');
  const r = remote(values);
  try {
    if (!name) {
      const items: CheckpointSummary[] = [];
      let after: string | undefined;
      do {
        const page = await call(r, ENDPOINTS.listCheckpoints, {
          query: {
            q: values.query,
            verdict: values.verdict as 'safe' | undefined,
            limit: Math.min(500, limit - items.length),
            after,
          },
        });
        items.push(...page.items);
        after = page.next ?? undefined;
      } while (after && items.length < limit);
      if (values.json) console.log(JSON.stringify(items, null, 2));
      else printCheckpoints(items);
      return EXIT.ok;
    }
    const versions: VersionView[] = [];
    let offset: number | undefined = 0;
    do {
      const page: VersionListing = await call(r, ENDPOINTS.getCheckpoint, {
        params: { name },
        query: {
          parent: values.parent,
          gitCommit: values['git-commit'],
          dataset: values.dataset,
          runUrl: values['run-url'],
          sort: values.sort,
          order: values.order as 'asc' | undefined,
          limit: Math.min(500, limit - versions.length),
          offset,
        },
      });
      versions.push(...page.versions);
      offset = page.next ?? undefined;
    } while (offset !== undefined && versions.length < limit);
    if (values.json) console.log(JSON.stringify(versions, null, 2));
    else {
      const tags = await call(r, ENDPOINTS.listTags, { params: { name } });
      printVersions(versions, new Set(tags.filter((t) => t.pinned).map((t) => t.tag)));
    }
    return EXIT.ok;
  } catch (e) {
    return failed(e);
  }
}

function printCheckpoints(items: CheckpointSummary[]): void {
  if (items.length === 0) {
    console.log(dim('no checkpoints'));
    return;
  }
  for (const c of items) {
    const v = c.verdicts;
    const notSafe = v.suspicious + v.dangerous + v.unknown;
    console.log(
      `${c.name.padEnd(24)} ${String(c.versions).padStart(4)} version${c.versions === 1 ? ' ' : 's'}  latest ${(c.latest ?? '-').padEnd(12)} best ${(c.best ?? '-').padEnd(12)} ${v.safe} safe${notSafe ? `, ${notSafe} not safe` : ''}${v.pending ? `, ${v.pending} pending` : ''}`,
    );
  }
}

/** `pinned`: the tags a best rule leaves where they were put by hand, shown as "best (pinned)" */
function printVersions(versions: VersionView[], pinned: Set<string>): void {
  if (versions.length === 0) {
    console.log(dim('no versions'));
    return;
  }
  for (const v of versions) {
    const verdict = v.scan.status === 'done' ? verdictLabel(v.scan.verdict ?? 'unknown') : v.scan.status;
    const metrics = Object.entries(v.metrics)
      .map(([k, x]) => `${k}=${x}`)
      .join(' ');
    const lineage = [
      v.lineage.parent ? `parent ${v.lineage.parent}` : '',
      v.lineage.gitCommit ? `commit ${v.lineage.gitCommit.slice(0, 12)}` : '',
      v.lineage.dataset ? `dataset ${v.lineage.dataset}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    console.log(
      `${v.version.padEnd(20)} ${verdict.padEnd(10)} ${humanBytes(v.size).padStart(9)}  ${v.createdAt}${v.tags.length ? `  [${v.tags.map((t) => (pinned.has(t) ? `${t} (pinned)` : t)).join(', ')}]` : ''}${metrics ? `  ${metrics}` : ''}${lineage ? `  ${dim(lineage)}` : ''}`,
    );
  }
}
