import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { VersionDiff } from '@brine/contracts';
import { diffReports, type ScanReport } from '@brine/scanner';
import { NAME_PATTERN, RESERVED_VERSIONS, TAG_PATTERN } from '@brine/contracts';
import { CheckpointsService } from './checkpoints.service';
import { TagsService } from './tags.service';

/** GET /checkpoints/:name/diff: two versions' stored scan reports compared (no object is read) */
@Injectable()
export class DiffService {
  constructor(
    private readonly checkpoints: CheckpointsService,
    private readonly tags: TagsService,
  ) {}

  /** `from` and `to` are versions or tags (a version of that name wins over a tag of that name) */
  async diff(name: string, from: string, to: string): Promise<VersionDiff> {
    await this.checkpoints.checkpointId(name);
    const [f, t] = await Promise.all([this.versionOf(name, from), this.versionOf(name, to)]);
    const [a, b] = await Promise.all([this.report(name, f.version), this.report(name, t.version)]);
    return { name, from: f.version, to: t.version, tags: { from: f.tag, to: t.tag }, ...diffReports(a, b) };
  }

  /** the version `ref` names: the version of that name, else the one the tag of that name points at */
  private async versionOf(name: string, ref: string): Promise<{ version: string; tag: string | null }> {
    if (
      NAME_PATTERN.test(ref) &&
      !RESERVED_VERSIONS.has(ref) &&
      (await this.checkpoints.findVersion(name, ref))
    )
      return { version: ref, tag: null };
    if (TAG_PATTERN.test(ref)) {
      const version = await this.tags.resolve(name, ref).catch((e: unknown) => {
        if (e instanceof NotFoundException) return null;
        throw e;
      });
      if (version !== null) return { version, tag: ref };
    }
    throw new NotFoundException(`checkpoint ${name} has no version or tag ${ref}`);
  }

  private async report(name: string, version: string): Promise<ScanReport> {
    const v = await this.checkpoints.requireVersion(name, version);
    const r = v.scanStatus === 'done' ? await this.checkpoints.storedReport(v) : null;
    if (!r)
      throw new ConflictException(
        `${name}:${version} has no scan report to compare (its scan is ${v.scanStatus}); try again when it is done`,
      );
    return r as unknown as ScanReport;
  }
}
