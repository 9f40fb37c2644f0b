import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileBodyStream, sha256File } from '@brine/storage/local-file';
import { ApiError, call, exchange, remote, retryWait, sleep, type Remote } from './client';
import { cliHints, EXIT, exitFor } from './exit';
import { bold, dim, ProgressBar, red, verdictLabel } from './format';
import {
  ENDPOINTS,
  METRIC_NAME,
  nameProblem,
  UploadHeaders,
  url,
  type Reply,
  type RequestInput,
  type ROUTES,
  type VersionView,
} from '@brine/contracts';
import { UsageError } from './usage-error';
import { parseCommand, REMOTE_OPTIONS } from './arguments';

export const PUSH_USAGE = `usage: brine push FILE --name NAME --version VERSION [--metric name=value]... [--parent VERSION] [--git-commit SHA] [--run-url URL] [--dataset NAME] [--metadata JSON] [--no-wait] [--url URL] [--token TOKEN]

Uploads FILE as a new version, showing progress, and waits for the scan verdict. The token and the names are
checked before the file is read; pushing the same bytes again with --metric updates the version's metrics.
  --metric name=value   record a metric with the version (repeatable), e.g. --metric val_loss=0.231
  --parent VERSION      lineage: the version it was trained from (VERSION, or NAME:VERSION of another checkpoint)
  --git-commit SHA      lineage: the training code's commit (default: none; try --git-commit $(git rev-parse HEAD))
  --run-url URL         lineage: the training run's page
  --dataset NAME        lineage: the dataset it was trained on
  --metadata JSON       a JSON object kept with the version, e.g. --metadata '{"optimizer":"adamw"}' (or @FILE)
  --no-wait             do not wait for the verdict
  --timeout SECONDS     how long to wait for the verdict (default 600)
Exit status:
  0  stored, and safe (with --no-wait: stored)
  1  stored, but not safe (or no verdict within --timeout)
  2  nothing stored: a usage error
  3  nothing stored: the token is missing, wrong, revoked or may not upload
  4  nothing stored: the registry refused the upload (bad name or metadata, a different file under this
     version, too large, checksum mismatch)
  5  nothing stored: the registry cannot be reached or is unavailable (a 503 is tried again after its
     Retry-After, 3 times at most)`;

/** exit statuses of `brine push`: 0 and 1 say the version is stored; the others that nothing was */
export const PUSH_EXIT = { ...EXIT, safe: EXIT.ok } as const;

type VersionRecord = VersionView;

/** the exit status for a request that stored nothing, by the registry's answer (0: no answer at all) */
const failureStatus = (status: number) => exitFor(status);

export async function pushCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      name: { type: 'string' },
      version: { type: 'string' },
      metric: { type: 'string', multiple: true, default: [] },
      parent: { type: 'string' },
      'git-commit': { type: 'string' },
      'run-url': { type: 'string' },
      dataset: { type: 'string' },
      metadata: { type: 'string' },
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
  const problem = nameProblem('name', values.name) ?? nameProblem('version', values.version);
  if (problem) throw new UsageError(problem);
  const metrics: Record<string, number> = {};
  for (const m of values.metric ?? []) {
    const match = /^([^=]+)=(.+)$/.exec(m);
    if (!match || !METRIC_NAME.test(match[1]) || !Number.isFinite(Number(match[2])))
      throw new UsageError(`--metric takes name=number, like val_loss=0.231; got "${m}"`);
    metrics[match[1]] = Number(match[2]);
  }
  const lineage: Lineage = {
    'x-brine-parent': values.parent || undefined,
    'x-brine-git-commit': values['git-commit'] || undefined,
    'x-brine-run-url': values['run-url'] || undefined,
    'x-brine-dataset': values.dataset || undefined,
    'x-brine-metadata': values.metadata ? await metadataHeader(values.metadata) : undefined,
  };
  // the registry checks these too; here a mistake is named by its flag before a byte is read or sent
  const checked = UploadHeaders.safeParse(lineage);
  if (!checked.success) throw new UsageError(cliHints(checked.error.issues.map((i) => i.message).join('; ')));
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
  const { name, version } = values;
  const params = { name, version };

  // before reading a byte of a file that may be many GB: may this token upload, and is the version free?
  let existing: VersionRecord | null = null;
  try {
    const me = await call(r, ENDPOINTS.me, {});
    if (!me.scopes.includes('write') && !me.scopes.includes('admin')) {
      console.error(
        red(`the token "${me.name}" may not upload (scopes: ${me.scopes.join(', ')}); it needs write`),
      );
      return PUSH_EXIT.auth;
    }
    existing = await call(r, ENDPOINTS.getVersion, { params }).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    });
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError(0, 'Error', String(e));
    console.error(red(err.status === 401 ? `the registry refused the token: ${err.message}` : err.message));
    return failureStatus(err.status);
  }
  if (existing && existing.size !== size) {
    console.error(
      red(
        `${name}:${version} already exists with other content (${existing.size} bytes, this file has ${size}); versions are immutable — push it as a new version`,
      ),
    );
    return PUSH_EXIT.refused;
  }

  process.stderr.write(dim(`hashing ${file}…\n`));
  const sha256 = await sha256File(file);
  let record: VersionRecord;
  if (existing) {
    if (existing.sha256 !== sha256) {
      console.error(
        red(
          `${name}:${version} already exists with SHA-256 ${existing.sha256}, this file is ${sha256}; versions are immutable — push it as a new version`,
        ),
      );
      return PUSH_EXIT.refused;
    }
    // the same bytes are there already: nothing to upload; new metrics are recorded
    if (Object.keys(metrics).length > 0) {
      try {
        record = await call(r, ENDPOINTS.patchVersion, { params, body: { metrics } });
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, 'Error', String(e));
        console.error(red(`the metrics were not recorded: ${err.message}`));
        return failureStatus(err.status);
      }
      console.log(
        `${bold(`${name}:${version}`)} already there (same bytes); metrics updated: ${JSON.stringify(metrics)}`,
      );
    } else {
      record = existing;
      console.log(`${bold(`${name}:${version}`)} already there (same bytes)  sha256 ${sha256}`);
    }
  } else {
    const uploaded = await upload(r, params, file, size, sha256, metrics, lineage);
    if (typeof uploaded === 'number') return uploaded;
    record = uploaded;
  }
  if (values['no-wait']) return PUSH_EXIT.safe;
  const done = await waitForVerdict(r, record, timeout);
  if (!done) return PUSH_EXIT.notSafe;
  console.log(
    `${verdictLabel(done.scan.verdict ?? 'unknown')}  ${done.scan.summary ?? done.scan.error ?? ''}`,
  );
  return done.scan.verdict === 'safe' ? PUSH_EXIT.safe : PUSH_EXIT.notSafe;
}

/** the version's lineage and metadata headers (x-brine-parent …) */
type Lineage = Pick<
  NonNullable<RequestInput<typeof ROUTES.upload>['headers']>,
  'x-brine-parent' | 'x-brine-git-commit' | 'x-brine-run-url' | 'x-brine-dataset' | 'x-brine-metadata'
>;

/** --metadata: a JSON object, given inline or as @FILE; sent compact as the x-brine-metadata header */
async function metadataHeader(arg: string): Promise<string> {
  let text = arg;
  if (arg.startsWith('@')) {
    try {
      text = await readFile(arg.slice(1), 'utf8');
    } catch {
      throw new UsageError(`--metadata ${arg}: no such file`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `--metadata must be a JSON object, e.g. '{"optimizer":"adamw"}': ${(e as Error).message}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--metadata must be a JSON object, e.g. '{"optimizer":"adamw"}'`);
  return JSON.stringify(value);
}

/** the PUT itself, with a progress bar; the stored version, or the exit status when nothing was stored */
async function upload(
  r: Remote,
  params: { name: string; version: string },
  file: string,
  size: number,
  sha256: string,
  metrics: Record<string, number>,
  lineage: Lineage,
): Promise<VersionRecord | number> {
  let bar = new ProgressBar(`uploading ${basename(file)}`, size);
  let reply: Reply<typeof ROUTES.upload>;
  for (let attempt = 0; ; attempt++) {
    let sent = 0;
    try {
      reply = await exchange(r, ENDPOINTS.upload, {
        params,
        headers: {
          'content-length': String(size),
          'x-checksum-sha256': sha256,
          'x-brine-filename': encodeURIComponent(basename(file)),
          'x-brine-metrics': Object.keys(metrics).length ? JSON.stringify(metrics) : undefined,
          ...lineage,
        },
        body: fileBodyStream(file, { onChunk: (n) => bar.update((sent += n)) }),
      });
      break;
    } catch (e) {
      bar.done();
      if (!(e instanceof ApiError)) throw e;
      // a stream is sent once: on a 503 the file is opened and sent again, after the Retry-After
      const wait = retryWait(e, attempt);
      if (wait !== null) {
        await sleep(wait);
        bar = new ProgressBar(`uploading ${basename(file)}`, size);
        continue;
      }
      console.error(
        red(
          e.status === 0
            ? `upload failed: ${e.message}; nothing was stored`
            : `upload refused (${e.status}): ${e.message}`,
        ),
      );
      return failureStatus(e.status);
    }
  }
  bar.done();
  const record = reply.body;
  console.log(
    `${bold(`${record.name}:${record.version}`)} ${reply.status === 201 ? 'uploaded' : 'already there (same bytes)'}  sha256 ${record.sha256}`,
  );
  return record;
}

async function waitForVerdict(r: Remote, v: VersionRecord, timeoutS: number): Promise<VersionRecord | null> {
  const deadline = Date.now() + timeoutS * 1000;
  let shown = '';
  for (;;) {
    let cur: VersionRecord;
    try {
      cur = await call(r, ENDPOINTS.getVersion, { params: { name: v.name, version: v.version } });
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
          `no verdict after ${timeoutS} s (scan ${cur.scan.status}); check later with GET ${url(ENDPOINTS.getVersion, { params: { name: v.name, version: v.version } }, r.url)}`,
        ),
      );
      return null;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}
