import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { VersionsRepository } from '@brine/persistence';
import { CheckpointsService } from './checkpoints.service';
import { EventsService } from './events.service';
import type { VersionView } from './records';
import { TagsService } from './tags.service';

/** PATCH metrics of a version; the best tag is re-evaluated in the same transaction */
@Injectable()
export class MetricsService {
  constructor(
    private readonly db: DataSource,
    private readonly checkpoints: CheckpointsService,
    private readonly tags: TagsService,
    private readonly events: EventsService,
    private readonly versions: VersionsRepository,
  ) {}

  async update(
    name: string,
    version: string,
    set: Record<string, number>,
    remove: string[],
  ): Promise<VersionView> {
    const v = await this.checkpoints.requireVersion(name, version);
    await this.db.transaction(async (tx) => {
      await this.versions.in(tx).patchMetrics(v.id, set, remove);
      await this.tags.reevaluate(tx, v.id, `metrics of ${version} changed`);
    });
    await this.events.nudge();
    return this.checkpoints.view(await this.checkpoints.requireVersion(name, version));
  }
}
