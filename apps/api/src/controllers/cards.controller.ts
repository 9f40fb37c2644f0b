import { Controller } from '@nestjs/common';
import { ROUTES } from '@brine/contracts';
import { CardsService } from '@brine/registry';
import { Endpoint, In, type Input } from '../endpoint';

/** Model cards. Registered before CheckpointsController so /checkpoints/:name/card is never read as a version. */
@Controller()
export class CardsController {
  constructor(private readonly cards: CardsService) {}

  @Endpoint(ROUTES.getCheckpointCard)
  checkpoint(@In() i: Input<typeof ROUTES.getCheckpointCard>) {
    return this.cards.checkpointCard(i.params.name);
  }

  @Endpoint(ROUTES.setCheckpointCard)
  setCheckpoint(@In() i: Input<typeof ROUTES.setCheckpointCard>) {
    return this.cards.setCheckpointCard(i.params.name, i.body.markdown);
  }

  @Endpoint(ROUTES.getVersionCard)
  version(@In() i: Input<typeof ROUTES.getVersionCard>) {
    return this.cards.versionCard(i.params.name, i.params.version);
  }

  @Endpoint(ROUTES.setVersionCard)
  setVersion(@In() i: Input<typeof ROUTES.setVersionCard>) {
    return this.cards.setVersionCard(i.params.name, i.params.version, i.body.markdown);
  }
}
