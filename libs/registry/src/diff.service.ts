import { ConflictException, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { VersionDiff } from '@brine/contracts';
import { ScanReportEntity } from '@brine/persistence';
import { diffReports, type ScanReport } from '@brine/scanner';
import { CheckpointsService } from './checkpoints.service';

/** GET /checkpoints/:name/diff: two versions' stored scan reports compared (no object is read) */
@Injectable()
export class DiffService {
  constructor(
    private readonly db: DataSource,
    private readonly checkpoints: CheckpointsService,
  ) {}

  async diff(name: string, from: string, to: string): Promise<VersionDiff> {
    const [a, b] = await Promise.all([this.report(name, from), this.report(name, to)]);
    return { name, from, to, ...diffReports(a, b) };
  }

  private async report(name: string, version: string): Promise<ScanReport> {
    const v = await this.checkpoints.requireVersion(name, version);
    const r =
      v.scanStatus === 'done'
        ? await this.db.getRepository(ScanReportEntity).findOne({ where: { versionId: v.id } })
        : null;
    if (!r)
      throw new ConflictException(
        `${name}:${version} has no scan report to compare (its scan is ${v.scanStatus}); try again when it is done`,
      );
    return r.report as unknown as ScanReport;
  }
}
