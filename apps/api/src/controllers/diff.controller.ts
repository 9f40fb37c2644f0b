import { Controller } from '@nestjs/common';
import { ROUTES } from '@brine/contracts';
import { DiffService } from '@brine/registry';
import { Endpoint, In, type Input } from '../endpoint';

/** Version diffs. Registered before CheckpointsController so /checkpoints/:name/diff is never read as a version. */
@Controller()
export class DiffController {
  constructor(private readonly diffs: DiffService) {}

  @Endpoint(ROUTES.diff)
  diff(@In() i: Input<typeof ROUTES.diff>) {
    return this.diffs.diff(i.params.name, i.query.from, i.query.to);
  }
}
