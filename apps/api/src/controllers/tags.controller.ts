import { Controller, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ROUTES } from '@brine/contracts';
import { CheckpointsService, TagsService } from '@brine/registry';
import type { AuthedRequest } from '../auth.guard';
import { Endpoint, In, type Input } from '../endpoint';
import { sendFile } from './download';

/**
 * Tags and the best rule. Registered before CheckpointsController so /checkpoints/:name/tags/… is never read as
 * /checkpoints/:name/:version/…; every read of a version also works through a tag.
 */
@Controller()
export class TagsController {
  constructor(
    private readonly tags: TagsService,
    private readonly checkpoints: CheckpointsService,
  ) {}

  @Endpoint(ROUTES.listTags)
  list(@In() i: Input<typeof ROUTES.listTags>) {
    return this.tags.list(i.params.name);
  }

  @Endpoint(ROUTES.tagHistory)
  history(@In() i: Input<typeof ROUTES.tagHistory>) {
    return this.tags.history(i.params.name, i.query.limit);
  }

  @Endpoint(ROUTES.getBestRule)
  async bestRule(@In() i: Input<typeof ROUTES.getBestRule>) {
    return { rule: await this.tags.bestRule(i.params.name) };
  }

  @Endpoint(ROUTES.setBestRule)
  setBestRule(@In() i: Input<typeof ROUTES.setBestRule>, @Req() req: AuthedRequest) {
    return this.tags.setBestRule(i.params.name, i.body, req.token ?? null);
  }

  @Endpoint(ROUTES.clearBestRule)
  async clearBestRule(@In() i: Input<typeof ROUTES.clearBestRule>): Promise<void> {
    await this.tags.clearBestRule(i.params.name);
  }

  @Endpoint(ROUTES.getTag)
  async resolve(@In() i: Input<typeof ROUTES.getTag>) {
    const version = await this.tags.resolve(i.params.name, i.params.tag);
    return this.checkpoints.view(await this.checkpoints.requireVersion(i.params.name, version));
  }

  @Endpoint(ROUTES.setTag)
  set(@In() i: Input<typeof ROUTES.setTag>, @Req() req: AuthedRequest) {
    return this.tags.set(
      i.params.name,
      i.params.tag,
      i.body.version,
      req.token ?? null,
      i.body.reason ?? null,
      i.body.acknowledgeRisk === true,
    );
  }

  @Endpoint(ROUTES.deleteTag)
  async remove(@In() i: Input<typeof ROUTES.deleteTag>, @Req() req: AuthedRequest): Promise<void> {
    await this.tags.remove(i.params.name, i.params.tag, req.token ?? null);
  }

  @Endpoint(ROUTES.tagReport)
  async report(@In() i: Input<typeof ROUTES.tagReport>) {
    return this.checkpoints.report(i.params.name, await this.tags.resolve(i.params.name, i.params.tag));
  }

  @Endpoint(ROUTES.tagFile)
  async file(
    @In() i: Input<typeof ROUTES.tagFile>,
    @Req() req: AuthedRequest,
    @Res() res: Response,
  ): Promise<void> {
    const version = await this.tags.resolve(i.params.name, i.params.tag);
    await sendFile(this.checkpoints, i.params.name, version, i.query, req, res);
  }
}
