import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
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
  ) {}

  async update(
    name: string,
    version: string,
    set: Record<string, number>,
    remove: string[],
  ): Promise<VersionView> {
    const v = await this.checkpoints.requireVersion(name, version);
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE versions SET metrics = (metrics - $3::text[]) || $2::jsonb WHERE id = $1`, [
        v.id,
        JSON.stringify(set),
        remove,
      ]);
      await this.tags.reevaluate(tx, v.id, `metrics of ${version} changed`);
    });
    await this.events.nudge();
    return this.checkpoints.view(await this.checkpoints.requireVersion(name, version));
  }
}
