import { createHash, randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Readable } from 'node:stream';
import { DataSource, type EntityManager } from 'typeorm';
import type { Config } from '@brine/config';
import {
  CheckpointsRepository,
  ObjectDeletionsRepository,
  RetentionLogRepository,
  ScanReportsRepository,
  TokensRepository,
  UploadsRepository,
  VersionsRepository,
  type CheckpointFilter,
  type LineageFilter,
  type TokenEntity,
  type VersionEntity,
} from '@brine/persistence';
import { abandonedUpload, ObjectStore, UploadTooLargeError } from '@brine/storage';
import { QuietLog, CONFIG } from '@brine/runtime';
import { ScanQueueService, twinObjectKey } from '@brine/jobs/producers';
import { EventsService } from './events.service';
import { twinServable, versionView, type VersionView } from './records';
import { TagsService } from './tags.service';
import { TelemetryService } from './telemetry.service';
import { checkName } from './validation';
import type { CheckpointList, CheckpointSummary, Query, ROUTES, VersionListing } from '@brine/contracts';

export interface UploadInput {
  name: string;
  version: string;
  body: AsyncIterable<Buffer>;
  contentLength: number | null;
  sha256: string | null;
  filename: string | null;
  frameworkVersion: string | null;
  metadata: Record<string, unknown>;
  metrics: Record<string, number>;
  /** parent (VERSION or NAME:VERSION, checked to exist), gitCommit, runUrl, dataset */
  lineage?: VersionEntity['lineage'];
  token: TokenEntity | null;
}

interface VersionRow extends VersionEntity {
  name: string;
}

/** what a download serves: a version's original file or its safetensors twin */
export interface DownloadFile {
  objectKey: string;
  size: number;
  sha256: string;
  filename: string;
  /** the verdict of the file served (x-brine-verdict) */
  verdict: string;
}

/** the most versions a lineage search across checkpoints lists */
const MAX_MATCHES = 500;

/** the lineage search a listing's query asks for, or null when it gives no lineage filter */
function lineageOf(q: LineageFilter): LineageFilter | null {
  const f: LineageFilter = {};
  if (q.parent) f.parent = q.parent;
  if (q.gitCommit) f.gitCommit = q.gitCommit;
  if (q.dataset !== undefined) f.dataset = q.dataset;
  if (q.runUrl !== undefined) f.runUrl = q.runUrl;
  return Object.keys(f).length ? f : null;
}

/** how long a failed upload's answer waits for the store to remove what the upload sent */
const CLEANUP_WAIT_MS = 1_000;

/** how often an upload's process refreshes its heartbeat: a quarter of the time after which it counts as dead */
export function uploadHeartbeatMs(config: Config): number {
  return Math.max(1_000, Math.floor((config.uploadStaleSeconds * 1000) / 4));
}

/** Checkpoints and their immutable versions: upload, read, download, delete, rescan. */
@Injectable()
export class CheckpointsService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Checkpoints');
  private readonly quiet = new QuietLog(this.log);
  /** uploads this process is streaming now */
  private readonly inFlight = new Set<string>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly scans: ScanQueueService,
    private readonly events: EventsService,
    private readonly tags: TagsService,
    @Inject(CONFIG) private readonly config: Config,
    private readonly telemetry: TelemetryService,
    private readonly checkpointRows: CheckpointsRepository,
    private readonly versions: VersionsRepository,
    private readonly uploads: UploadsRepository,
    private readonly deletions: ObjectDeletionsRepository,
    private readonly reports: ScanReportsRepository,
    private readonly retentionLog: RetentionLogRepository,
    private readonly tokens: TokensRepository,
  ) {}

  get baseUrl(): string {
    return this.config.publicUrl;
  }

  async findVersion(name: string, version: string): Promise<VersionRow | null> {
    const e = await this.versions.findByName(name, version);
    return e ? Object.assign(e, { name }) : null;
  }

  async requireVersion(name: string, version: string): Promise<VersionRow> {
    checkName('name', name);
    checkName('version', version);
    const v = await this.findVersion(name, version);
    if (!v) throw new NotFoundException(`checkpoint ${name} has no version ${version}`);
    return v;
  }

  async view(v: VersionRow): Promise<VersionView> {
    const names = await this.tokenNames([v.uploadedBy]);
    return versionView(v, v.name, this.baseUrl, await this.tags.tagsOf(v.id), names.get(v.uploadedBy ?? ''));
  }

  /** the names of the tokens that uploaded (a person reads "ci-pipeline", not a UUID) */
  private async tokenNames(ids: Array<string | null>): Promise<Map<string, string>> {
    return this.tokens.names([...new Set(ids.filter((x): x is string => x !== null))]);
  }

  /**
   * PUT /checkpoints/:name/:version. Streams the body to the object store while hashing it; the version row is
   * written only after every byte arrived and the checksum matched, in one transaction that also settles races:
   * two uploads of one version compete on the (checkpoint, version) unique key and exactly one wins.
   */
  async upload(input: UploadInput): Promise<{ created: boolean; record: VersionView }> {
    try {
      const r = await this.receive(input);
      this.telemetry.uploads.inc({ result: r.created ? 'created' : 'existing' });
      if (r.created) this.telemetry.uploadBytes.inc(r.record.size);
      return r;
    } catch (e) {
      this.telemetry.uploads.inc({ result: 'rejected' });
      throw e;
    }
  }

  private async receive(input: UploadInput): Promise<{ created: boolean; record: VersionView }> {
    const { name, version } = input;
    checkName('name', name);
    checkName('version', version);
    const max = this.config.maxUploadBytes;
    if (input.contentLength !== null && input.contentLength > max) {
      throw new PayloadTooLargeException(
        `the body is ${input.contentLength} bytes; this registry accepts at most ${max} (BRINE_MAX_UPLOAD_BYTES)`,
      );
    }

    const existing = await this.findVersion(name, version);
    if (existing) return this.reupload(existing, input);
    // a lineage parent must exist (checked before a byte is stored)
    const parent = input.lineage?.parent;
    if (parent) {
      const [pName, pVersion] = parent.includes(':') ? parent.split(':') : [name, parent];
      if (!(await this.findVersion(pName, pVersion)))
        throw new BadRequestException(
          `x-brine-parent names ${pName}:${pVersion}, which does not exist; push the parent first or leave the header out`,
        );
    }

    const uploadId = randomUUID();
    const key = `objects/${uploadId}`;
    await this.uploads.begin(uploadId, key, name, version);
    this.inFlight.add(uploadId);
    let result;
    try {
      result = await this.store.upload(key, input.body, max, undefined, async (multipartId) => {
        await this.uploads.setMultipart(uploadId, multipartId);
      });
    } catch (e) {
      this.inFlight.delete(uploadId);
      // the store aborts its multipart upload in the background; the row goes once that is done, and otherwise
      // stays for the sweeper. A healthy store has done it within moments, before the answer; one that hangs (S3
      // may be what failed) delays the answer by a second at most
      const cleaned = abandonedUpload(e)
        .then((clean) => (clean ? this.uploads.end(uploadId) : undefined))
        .catch(() => undefined);
      await Promise.race([cleaned, new Promise((r) => setTimeout(r, CLEANUP_WAIT_MS).unref())]);
      if (e instanceof UploadTooLargeError) {
        throw new PayloadTooLargeException(
          `the body exceeds ${max} bytes (BRINE_MAX_UPLOAD_BYTES); nothing was stored`,
        );
      }
      throw e;
    }
    this.inFlight.delete(uploadId);
    if (result.size === 0) {
      await this.discard(uploadId, key);
      throw new BadRequestException(
        'the body is empty: send the checkpoint file as the request body; nothing was stored',
      );
    }
    if (input.sha256 !== null && input.sha256 !== result.sha256) {
      await this.discard(uploadId, key);
      throw new BadRequestException(
        `x-checksum-sha256 does not match the body: it says ${input.sha256}, the body's SHA-256 is ${result.sha256}; nothing was stored`,
      );
    }

    let committed: string | null;
    try {
      committed = await this.db.transaction(async (tx) => {
        const checkpointId = await this.checkpointRows.in(tx).upsert(name);
        // created_at is taken after the checkpoint's row lock, so the order of versions is the commit order
        const id = await this.versions.in(tx).insertPending({
          checkpointId,
          version,
          sha256: result.sha256,
          size: result.size,
          objectKey: key,
          filename: input.filename,
          frameworkVersion: input.frameworkVersion,
          metadata: input.metadata,
          metrics: input.metrics,
          uploadedBy: input.token?.id ?? null,
          lineage: input.lineage ?? {},
        });
        if (id === null) return null; // the upload row stays until its object is gone (below)
        await this.uploads.in(tx).end(uploadId);
        await this.events.record(tx, 'version.created', name, {
          version,
          sha256: result.sha256,
          size: result.size,
        });
        await this.tags.onVersionCreated(tx, checkpointId, id, input.token);
        return id;
      });
    } catch (e) {
      // nothing half-written: the object goes, and with it the upload row (now, or by the sweeper)
      await this.discard(uploadId, key).catch(() => undefined);
      throw e;
    }

    if (committed === null) {
      // another upload of this version won the race
      await this.discard(uploadId, key);
      const winner = await this.findVersion(name, version);
      if (!winner)
        throw new ConflictException(
          `version ${version} of ${name} is being written by another upload; retry`,
        );
      return this.reupload(winner, { ...input, sha256: result.sha256 });
    }
    // Redis may be down: the version is pending in Postgres either way, and the reconciler queues it later
    await this.scans.enqueue(committed, 1);
    await this.events.nudge();
    const row = await this.requireVersion(name, version);
    return { created: true, record: await this.view(row) };
  }

  /** the version exists: the same bytes again are fine (200), different bytes are a conflict (409) */
  private async reupload(
    existing: VersionRow,
    input: UploadInput,
  ): Promise<{ created: boolean; record: VersionView }> {
    let sha = input.sha256;
    if (sha === null) {
      // no checksum header: hash the body to find out whether it is the same file, keeping nothing
      const h = createHash('sha256');
      let size = 0;
      for await (const chunk of input.body) {
        size += chunk.length;
        if (size > this.config.maxUploadBytes)
          throw new PayloadTooLargeException(`the body exceeds ${this.config.maxUploadBytes} bytes`);
        h.update(chunk);
      }
      sha = h.digest('hex');
    }
    if (sha !== existing.sha256) {
      throw new ConflictException(
        `version ${existing.version} of ${existing.name} already exists with SHA-256 ${existing.sha256}; versions are immutable — upload these bytes (${sha}) as a new version`,
      );
    }
    // the same bytes again, with metrics: the metrics are the news (a training job reporting a later
    // evaluation); they are merged in, and `best` follows — never dropped silently
    if (Object.keys(input.metrics).length > 0) {
      await this.db.transaction(async (tx) => {
        await this.versions.in(tx).mergeMetrics(existing.id, input.metrics);
        await this.tags.reevaluate(tx, existing.id, `metrics of ${existing.version} changed`);
      });
      await this.events.nudge();
      return {
        created: false,
        record: await this.view(await this.requireVersion(existing.name, existing.version)),
      };
    }
    return { created: false, record: await this.view(existing) };
  }

  /** removes what an upload that will not be committed wrote (the sweeper retries whatever this cannot do now) */
  private async discard(uploadId: string, key: string): Promise<void> {
    const deleted = await this.store
      .delete(key)
      .then(() => true)
      .catch((e: unknown) => {
        this.quiet.warn('discard', `could not delete ${key} (the sweeper will): ${(e as Error).message}`);
        return false;
      });
    if (deleted) await this.uploads.end(uploadId);
  }

  /** keeps the heartbeats of this process's uploads fresh, so the sweeper leaves them alone */
  private async beat(): Promise<void> {
    if (this.inFlight.size === 0) return;
    await this.uploads
      .heartbeat([...this.inFlight])
      .catch((e: unknown) =>
        this.quiet.warn('heartbeat', `could not refresh upload heartbeats: ${(e as Error).message}`),
      );
  }

  onModuleInit(): void {
    this.heartbeat = setInterval(() => void this.beat(), uploadHeartbeatMs(this.config));
    this.heartbeat.unref();
  }

  onModuleDestroy(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * GET /checkpoints (the query as the route declares and parses it). A lineage filter (parent, gitCommit, dataset,
   * runUrl) searches every checkpoint: the page holds the checkpoints with a matching version, and `matches` those
   * versions.
   */
  async list(q: Query<typeof ROUTES.listCheckpoints>): Promise<CheckpointList> {
    const { limit, verdict } = q;
    const lineage = lineageOf(q);
    const items = await this.summaries(
      { q: q.q, after: q.after, verdict, lineage: lineage ?? undefined },
      limit + 1,
    );
    const page = items.slice(0, limit);
    let matches: CheckpointList['matches'] = null;
    if (lineage) {
      const found = await this.versions.lineageMatches(
        page.map((c) => c.name),
        lineage,
        MAX_MATCHES,
      );
      matches = await this.views(found);
    }
    return { items: page, next: items.length > limit ? items[limit - 1].name : null, matches };
  }

  /** the views of versions by id, in the order given */
  private async views(found: Array<{ id: string; name: string }>): Promise<VersionView[]> {
    const ids = found.map((f) => f.id);
    const rows = await this.versions.findByIds(ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const tags = await this.tags.tagsOfMany(ids);
    const names = await this.tokenNames(rows.map((r) => r.uploadedBy));
    return found.flatMap(({ id, name }) => {
      const v = byId.get(id);
      return v ? [versionView(v, name, this.baseUrl, tags.get(id) ?? [], names.get(v.uploadedBy ?? ''))] : [];
    });
  }

  /** the checkpoint's id, or 404 */
  async checkpointId(name: string): Promise<string> {
    checkName('name', name);
    const id = await this.checkpointRows.idOf(name);
    if (id === null) throw new NotFoundException(`no checkpoint named ${name}`);
    return id;
  }

  async summary(name: string): Promise<CheckpointSummary> {
    const [found] = await this.summaries({ name }, 1);
    if (!found) throw new NotFoundException(`no checkpoint named ${name}`);
    return found;
  }

  private async summaries(filter: CheckpointFilter, limit: number): Promise<CheckpointSummary[]> {
    const rows = await this.checkpointRows.summaries(filter, limit);
    return rows.map((r) => ({
      name: r.name,
      createdAt: r.created_at.toISOString(),
      versions: r.versions,
      lastUpload: r.last_upload ? r.last_upload.toISOString() : null,
      latest: r.latest ?? null,
      best: r.best ?? null,
      verdicts: {
        safe: r.safe,
        suspicious: r.suspicious,
        dangerous: r.dangerous,
        unknown: r.unknown,
        pending: r.pending,
      },
    }));
  }

  /** GET /checkpoints/:name (the query as the route declares and parses it) */
  async get(name: string, q: Query<typeof ROUTES.getCheckpoint>): Promise<VersionListing> {
    const summary = await this.summary(name);
    const { limit, offset, order, sort } = q;
    const ids = await this.versions.pageIds(name, {
      sort,
      order,
      lineage: lineageOf(q) ?? {},
      limit,
      offset,
    });
    const versions = await this.views(ids.slice(0, limit).map((id) => ({ id, name })));
    return { checkpoint: summary, versions, next: ids.length > limit ? offset + limit : null };
  }

  /** the stored scan report of a version, or null while it has none */
  async storedReport(v: VersionEntity): Promise<Record<string, unknown> | null> {
    return this.reports.reportOf(v.id);
  }

  async report(name: string, version: string): Promise<Record<string, unknown>> {
    const v = await this.requireVersion(name, version);
    const r = await this.storedReport(v);
    if (!r) {
      throw new NotFoundException(
        v.scanStatus === 'failed'
          ? `the scan of ${name}:${version} failed (${v.scanError ?? 'unknown error'}); POST …/rescan to try again`
          : `the scan of ${name}:${version} is ${v.scanStatus}; the report appears when it is done`,
      );
    }
    return r;
  }

  /** versions that are not "safe" are only handed out with an explicit acknowledgement of the risk */
  checkAcknowledged(v: VersionRow, acknowledgeRisk: boolean): void {
    if (acknowledgeRisk || (v.scanStatus === 'done' && v.verdict === 'safe')) return;
    const why =
      v.scanStatus === 'done'
        ? `its verdict is ${v.verdict}: ${v.summary ?? ''}`
        : v.scanStatus === 'failed'
          ? 'its scan failed'
          : `its scan is ${v.scanStatus}`;
    throw new ForbiddenException(
      `${v.name}:${v.version} is not known to be safe (${why.trim()}); add ?acknowledgeRisk=true to download it anyway`,
    );
  }

  /**
   * Which file a download of a version serves: the original (versions that are not "safe" need an explicit
   * acknowledgement) or its safetensors twin, handed out only once it is written and its own scan found it safe,
   * and only for a version that is itself safe. `open` streams it.
   */
  async download(
    name: string,
    version: string,
    acknowledgeRisk: boolean,
    format: 'original' | 'safetensors' = 'original',
  ): Promise<{ v: VersionRow; file: DownloadFile }> {
    const v = await this.requireVersion(name, version);
    let file: DownloadFile;
    if (format === 'safetensors') {
      const t = v.twin;
      if (v.scanStatus !== 'done' || v.verdict !== 'safe' || !twinServable(t)) {
        const why = !t
          ? v.scanStatus === 'done' && v.verdict === 'safe'
            ? `a ${v.kind ?? 'file'} in ${v.format ?? 'this'} format gets no safetensors twin (only torch zip state dicts and training checkpoints do)`
            : `only safe versions get one (its scan is ${v.verdict ?? v.scanStatus})`
          : t.status === 'done'
            ? `the twin's own scan did not find it safe (${t.verdict ?? 'no verdict'})`
            : t.status === 'skipped' || t.status === 'failed'
              ? `it was not written: ${t.error ?? t.status}`
              : `its conversion is ${t.status}; try again shortly`;
        throw new NotFoundException(`${name}:${version} has no safetensors twin to download: ${why}`);
      }
      file = {
        objectKey: t.objectKey,
        size: t.size ?? 0,
        sha256: t.sha256 ?? '',
        filename: `${(v.filename ?? `${name}-${version}`).replace(/\.(pt|pth|bin|ckpt|tar)$/i, '')}.safetensors`,
        verdict: t.verdict ?? 'unknown',
      };
    } else {
      this.checkAcknowledged(v, acknowledgeRisk);
      file = {
        objectKey: v.objectKey,
        size: v.size,
        sha256: v.sha256,
        filename: v.filename ?? `${name}-${version}`,
        verdict: v.verdict ?? v.scanStatus,
      };
    }
    return { v, file };
  }

  /** the bytes of a file a download serves, whole or the inclusive range start..end */
  open(file: DownloadFile, range?: { start: number; end: number }): Promise<Readable> {
    return this.store.stream(file.objectKey, range);
  }

  /**
   * Takes the checkpoint's row lock inside `tx` — the lock every tag move takes — and reads the version under it:
   * whatever acts on the version next in `tx` sees it as it is, and a tag move, a rescan or a deletion of the same
   * checkpoint waits for `tx` to end. Null when the version is gone.
   */
  private async lockVersion(tx: EntityManager, name: string, version: string): Promise<VersionRow | null> {
    checkName('name', name);
    checkName('version', version);
    const checkpointId = await this.checkpointRows.in(tx).lockByName(name);
    if (checkpointId === null) return null;
    // and the version's own row: writers that do not take the checkpoint's lock (a scan finishing, a policy
    // rescan) wait for `tx` too, or are seen by it
    const v = await this.versions.in(tx).lock(checkpointId, version);
    return v ? Object.assign(v, { name }) : null;
  }

  /**
   * Deletes a version, its file and its twin. `retention` deletes for a retention rule: `recheck` decides again,
   * under the checkpoint's lock in the deleting transaction, whether the rule still deletes the version (a tag put
   * or a rescan since the rule was planned saves it) and gives the reason, which goes into the audit entry, written
   * in the same transaction, and the version.deleted event. Returns whether the version was deleted.
   */
  async remove(
    name: string,
    version: string,
    token: TokenEntity | null,
    retention?: { recheck: (tx: EntityManager, checkpointId: string) => Promise<string | null> },
  ): Promise<boolean> {
    const gone = await this.db.transaction(async (tx) => {
      const v = await this.lockVersion(tx, name, version);
      if (!v) throw new NotFoundException(`checkpoint ${name} has no version ${version}`);
      const reason = retention ? await retention.recheck(tx, v.checkpointId) : null;
      if (retention && reason === null) return null;
      await this.tags.onVersionDeleted(tx, v, token);
      await this.versions.in(tx).delete(v.id);
      await this.events.record(tx, 'version.deleted', name, {
        version,
        sha256: v.sha256,
        ...(reason !== null ? { reason: `retention: ${reason}` } : {}),
      });
      if (reason !== null) await this.retentionLog.in(tx).record(name, version, v.sha256, reason);
      // its objects are deleted below; if that cannot be done now, the sweeper does it from this list
      const keys = [v.objectKey, v.twin?.objectKey ?? twinObjectKey(v.id)];
      await this.deletions.in(tx).list(keys);
      return keys;
    });
    if (gone === null) return false;
    await this.events.nudge();
    await this.deleteObjects(gone);
    return true;
  }

  /**
   * Deletes objects listed in object_deletions (at once, each within the store's budget) and strikes off those
   * that are gone. What the store cannot delete now stays listed for the sweeper: never lost track of.
   */
  async deleteObjects(keys: string[]): Promise<number> {
    const done = await Promise.all(
      keys.map((key) =>
        this.store.delete(key).then(
          () => key,
          (e: unknown) => {
            this.quiet.warn(
              'delete',
              `could not delete ${key} yet (the sweeper will): ${(e as Error).message}`,
            );
            return null;
          },
        ),
      ),
    );
    const deleted = done.filter((k): k is string => k !== null);
    if (deleted.length > 0) await this.deletions.strike(deleted).catch(() => undefined);
    return deleted.length;
  }

  /**
   * Queues a new scan (a new generation: results of older runs are ignored). The version goes back to pending
   * under the checkpoint's lock, so a retention pass deciding about it at the same moment sees one state or the
   * other, never deletes a version whose rescan it did not see.
   */
  async rescan(name: string, version: string): Promise<VersionView> {
    const { id, generation } = await this.db.transaction(async (tx) => {
      const v = await this.lockVersion(tx, name, version);
      if (!v) throw new NotFoundException(`checkpoint ${name} has no version ${version}`);
      return { id: v.id, generation: await this.versions.in(tx).rescan(v.id) };
    });
    await this.scans.enqueue(id, generation);
    return this.view(await this.requireVersion(name, version));
  }
}
