import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  CheckpointsService,
  checkBestRule,
  checkLimit,
  RequireScope,
  TagsService,
  type AuthedRequest,
} from '@brine/registry';
import { sendFile } from './download';

/**
 * Tags and the best rule. Registered before CheckpointsController so /checkpoints/:name/tags/… is never read as
 * /checkpoints/:name/:version/…; every read of a version also works through a tag.
 */
@Controller('checkpoints/:name')
export class TagsController {
  constructor(
    private readonly tags: TagsService,
    private readonly checkpoints: CheckpointsService,
  ) {}

  @Get('tags')
  list(@Param('name') name: string) {
    return this.tags.list(name);
  }

  @Get('tag-history')
  history(@Param('name') name: string, @Query('limit') limit?: string) {
    return this.tags.history(name, checkLimit(limit, 200, 1000));
  }

  @Get('best-rule')
  async bestRule(@Param('name') name: string) {
    return { rule: await this.tags.bestRule(name) };
  }

  @Put('best-rule')
  @RequireScope('write')
  setBestRule(@Param('name') name: string, @Body() body: unknown, @Req() req: AuthedRequest) {
    return this.tags.setBestRule(name, checkBestRule(body), req.token ?? null);
  }

  @Delete('best-rule')
  @RequireScope('write')
  @HttpCode(204)
  async clearBestRule(@Param('name') name: string): Promise<void> {
    await this.tags.clearBestRule(name);
  }

  @Get('tags/:tag')
  async resolve(@Param('name') name: string, @Param('tag') tag: string) {
    const version = await this.tags.resolve(name, tag);
    return this.checkpoints.view(await this.checkpoints.requireVersion(name, version));
  }

  @Put('tags/:tag')
  @RequireScope('write')
  set(
    @Param('name') name: string,
    @Param('tag') tag: string,
    @Body() body: unknown,
    @Req() req: AuthedRequest,
  ) {
    const b = body as { version?: unknown; reason?: unknown; acknowledgeRisk?: unknown } | null;
    if (typeof b !== 'object' || b === null || typeof b.version !== 'string') {
      throw new BadRequestException(
        'send {"version": "<version>", "reason": "…", "acknowledgeRisk": false} as application/json',
      );
    }
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500))
      throw new BadRequestException('reason must be text of at most 500 characters');
    if (b.acknowledgeRisk !== undefined && typeof b.acknowledgeRisk !== 'boolean')
      throw new BadRequestException('acknowledgeRisk must be true or false');
    return this.tags.set(
      name,
      tag,
      b.version,
      req.token ?? null,
      (b.reason as string | undefined) ?? null,
      b.acknowledgeRisk === true,
    );
  }

  @Delete('tags/:tag')
  @RequireScope('write')
  @HttpCode(204)
  async remove(
    @Param('name') name: string,
    @Param('tag') tag: string,
    @Req() req: AuthedRequest,
  ): Promise<void> {
    await this.tags.remove(name, tag, req.token ?? null);
  }

  @Get('tags/:tag/report')
  async report(@Param('name') name: string, @Param('tag') tag: string) {
    return this.checkpoints.report(name, await this.tags.resolve(name, tag));
  }

  @Get('tags/:tag/file')
  async file(
    @Param('name') name: string,
    @Param('tag') tag: string,
    @Req() req: AuthedRequest,
    @Res() res: Response,
  ): Promise<void> {
    await sendFile(this.checkpoints, name, await this.tags.resolve(name, tag), req, res);
  }
}
