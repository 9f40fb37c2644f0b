import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileBodyStream, sha256File } from '@brine/storage/local-file';
import { apiError, ApiError, call, remote, type Remote } from './client';
import { bold, dim, ProgressBar, red, verdictLabel } from './format';
import { UsageError } from './usage-error';
import { parseCommand, REMOTE_OPTIONS } from './arguments';

export const PUSH_USAGE = `usage: brine push FILE --name NAME --version VERSION [--metric name=value]... [--no-wait] [--url URL] [--token TOKEN]

Uploads FILE as a new version, showing progress, and waits for the scan verdict.
  --metric name=value   record a metric with the version (repeatable), e.g. --metric val_loss=0.231
  --no-wait             do not wait for the verdict
  --timeout SECONDS     how long to wait for the verdict (default 600)
Exit status: 0 when the version is safe (or --no-wait), 1 when it is not or the upload failed, 2 on a usage error.`;

interface VersionRecord {
  name: string;
  version: string;
  sha256: string;
  scan: { status: string; verdict: string | null; summary: string | null; error: string | null };
}

export async function pushCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      name: { type: 'string' },
      version: { type: 'string' },
      metric: { type: 'string', multiple: true, default: [] },
      'no-wait': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
      ...REMOTE_OPTIONS,
    },
    PUSH_USAGE,
  );
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !values.name || !values.version)
    throw new UsageError(`push needs one FILE, --name and --version\n\n${PUSH_USAGE}`);
  const metrics: Record<string, number> = {};
  for (const m of values.metric ?? []) {
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.+)$/.exec(m);
    if (!match || !Number.isFinite(Number(match[2])))
      throw new UsageError(`--metric takes name=number, like val_loss=0.231; got "${m}"`);
    metrics[match[1]] = Number(match[2]);
  }
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout takes a number of seconds');
  const r = remote(values);
  const file = positionals[0];
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw new UsageError(`${file}: no such file`);
  }

  process.stderr.write(dim(`hashing ${file}…\n`));
  const sha256 = await sha256File(file);
  const bar = new ProgressBar(`uploading ${basename(file)}`, size);
  let sent = 0;
  const body = fileBodyStream(file, { onChunk: (n) => bar.update((sent += n)) });
  let res: Response;
  try {
    res = await fetch(
      `${r.url}/checkpoints/${encodeURIComponent(values.name)}/${encodeURIComponent(values.version)}`,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${r.token}`,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          'x-checksum-sha256': sha256,
          'x-brine-filename': encodeURIComponent(basename(file)),
          ...(Object.keys(metrics).length ? { 'x-brine-metrics': JSON.stringify(metrics) } : {}),
        },
        body,
        duplex: 'half',
      } as RequestInit,
    );
  } catch (e) {
    bar.done();
    console.error(red(`upload failed: cannot reach ${r.url} (${(e as Error).message})`));
    return 1;
  }
  bar.done();
  if (!res.ok) {
    console.error(red(`upload refused: ${(await apiError(res)).message}`));
    return 1;
  }
  const record = (await res.json()) as VersionRecord;
  console.log(
    `${bold(`${record.name}:${record.version}`)} ${res.status === 201 ? 'uploaded' : 'already there (same bytes)'}  sha256 ${record.sha256}`,
  );
  if (values['no-wait']) return 0;
  const done = await waitForVerdict(r, record, timeout);
  if (!done) return 1;
  console.log(
    `${verdictLabel(done.scan.verdict ?? 'unknown')}  ${done.scan.summary ?? done.scan.error ?? ''}`,
  );
  return done.scan.verdict === 'safe' ? 0 : 1;
}

async function waitForVerdict(r: Remote, v: VersionRecord, timeoutS: number): Promise<VersionRecord | null> {
  const deadline = Date.now() + timeoutS * 1000;
  let shown = '';
  for (;;) {
    let cur: VersionRecord;
    try {
      cur = await call<VersionRecord>(
        r,
        `/checkpoints/${encodeURIComponent(v.name)}/${encodeURIComponent(v.version)}`,
      );
    } catch (e) {
      console.error(red(e instanceof ApiError ? e.message : String(e)));
      return null;
    }
    if (cur.scan.status === 'done' || cur.scan.status === 'failed') return cur;
    if (cur.scan.status !== shown && process.stderr.isTTY)
      process.stderr.write(dim(`scan ${cur.scan.status}…\n`));
    shown = cur.scan.status;
    if (Date.now() > deadline) {
      console.error(
        red(
          `no verdict after ${timeoutS} s (scan ${cur.scan.status}); check later with GET ${r.url}/checkpoints/${v.name}/${v.version}`,
        ),
      );
      return null;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}
