import { Controller, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ROUTES } from '@brine/contracts';
import { HealthService, TelemetryService } from '@brine/registry';
import { Endpoint } from '../endpoint';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly telemetry: TelemetryService,
  ) {}

  /** the process answers (for a liveness probe: restart it when this fails) */
  @Endpoint(ROUTES.live)
  live() {
    return { status: 'ok' };
  }

  /** 200 when Postgres, Redis and the object store answer, 503 otherwise (with which one failed) */
  @Endpoint(ROUTES.ready)
  async ready(@Res({ passthrough: true }) res: Response) {
    const r = await this.health.check();
    res.status(r.status === 'ok' ? 200 : 503);
    return r;
  }

  @Endpoint(ROUTES.health)
  async check(@Res({ passthrough: true }) res: Response) {
    return this.ready(res);
  }

  @Endpoint(ROUTES.metrics)
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() res: Response): Promise<void> {
    const m = await this.telemetry.scrape();
    res.setHeader('Content-Type', m.contentType);
    res.send(m.body);
  }
}
