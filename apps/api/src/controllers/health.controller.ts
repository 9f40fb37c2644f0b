import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthService, Public } from '@brine/registry';

@Controller('health')
@Public()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when Postgres, Redis and the object store answer, 503 otherwise (with which one failed) */
  @Get()
  async check(@Res({ passthrough: true }) res: Response) {
    const r = await this.health.check();
    res.status(r.status === 'ok' ? 200 : 503);
    return r;
  }
}
