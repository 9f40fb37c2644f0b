import { BadRequestException, Body, Controller, Delete, Get, Param, Put, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { PolicyService, RequireScope, type AuthedRequest } from '@brine/registry';

/** Safe globals, as torch.serialization.add_safe_globals adds them; a change re-scans the affected versions. */
@Controller('policy/safe-globals')
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @Get()
  list() {
    return this.policy.list();
  }

  @Put(':name')
  @RequireScope('admin')
  async add(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    const note = (body as { note?: unknown } | undefined)?.note;
    if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > 500)) {
      throw new BadRequestException('note must be text of at most 500 characters');
    }
    const r = await this.policy.add(name, (note as string | undefined) ?? null, req.token ?? null);
    res.status(r.created ? 201 : 200);
    return { ...r.global, rescanning: r.rescanning };
  }

  @Delete(':name')
  @RequireScope('admin')
  remove(@Param('name') name: string) {
    return this.policy.remove(name);
  }
}
