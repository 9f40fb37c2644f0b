import { Controller } from '@nestjs/common';
import { ROUTES } from '@brine/contracts';
import { RetentionService } from '@brine/registry';
import { Endpoint, In, type Input } from '../endpoint';

/** Retention rules. Registered before CheckpointsController so …/retention is never read as a version. */
@Controller()
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Endpoint(ROUTES.getRetention)
  plan(@In() i: Input<typeof ROUTES.getRetention>) {
    return this.retention.plan(i.params.name);
  }

  @Endpoint(ROUTES.setRetention)
  set(@In() i: Input<typeof ROUTES.setRetention>) {
    return this.retention.set(i.params.name, i.body);
  }

  @Endpoint(ROUTES.previewRetention)
  preview(@In() i: Input<typeof ROUTES.previewRetention>) {
    return this.retention.preview(i.params.name, i.body);
  }

  @Endpoint(ROUTES.clearRetention)
  async clear(@In() i: Input<typeof ROUTES.clearRetention>): Promise<void> {
    await this.retention.clear(i.params.name);
  }

  @Endpoint(ROUTES.retentionLog)
  log(@In() i: Input<typeof ROUTES.retentionLog>) {
    return this.retention.history(i.params.name, i.query.limit);
  }
}
