import { ConflictException, Injectable } from '@nestjs/common';
import type { VersionDiff } from '@brine/contracts';
import { diffReports, type ScanReport } from '@brine/scanner';
import { CheckpointsService } from './checkpoints.service';

/** GET /checkpoints/:name/diff: two versions' stored scan reports compared (no object is read) */
@Injectable()
export class DiffService {
  constructor(private readonly checkpoints: CheckpointsService) {}

  async diff(name: string, from: string, to: string): Promise<VersionDiff> {
    const [a, b] = await Promise.all([this.report(name, from), this.report(name, to)]);
    return { name, from, to, ...diffReports(a, b) };
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
