import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  CheckpointsService,
  checkFilename,
  checkName,
  checkFrameworkVersion,
  checkMetadata,
  checkMetrics,
  checkSha256,
  MetricsService,
  parseMetricsHeader,
  RequireScope,
  TokensService,
  AcceptSignedLink,
  LINK_TTL_SECONDS,
  linkTarget,
  type AuthedRequest,
} from '@brine/registry';
import { sendFile } from './download';

@Controller('checkpoints')
export class CheckpointsController {
  constructor(
    private readonly checkpoints: CheckpointsService,
    private readonly metrics: MetricsService,
    private readonly tokens: TokensService,
  ) {}

  @Get()
  list(
    @Query('q') search?: string,
    @Query('verdict') verdict?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
  ) {
    return this.checkpoints.list({ search, verdict, limit, after });
  }

  @Get(':name')
  get(@Param('name') name: string, @Query() q: Record<string, string>) {
    return this.checkpoints.get(name, { limit: q.limit, offset: q.offset, sort: q.sort, order: q.order });
  }

  /** the raw file as the body (application/octet-stream); streamed to the object store with its SHA-256 */
  @Put(':name/:version')
  @RequireScope('write')
  async upload(
    @Param('name') name: string,
    @Param('version') version: string,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    checkName('name', name);
    checkName('version', version);
    const type = req.headers['content-type'];
    if (type && !/^application\/octet-stream\b/i.test(type)) {
      throw new UnsupportedMediaTypeException(
        `send the checkpoint as the raw body with Content-Type: application/octet-stream (got ${type})`,
      );
    }
    const lengthHeader = req.headers['content-length'];
    if (lengthHeader !== undefined && !/^\d+$/.test(lengthHeader))
      throw new BadRequestException('Content-Length must be a whole number');
    if (
      lengthHeader === '0' ||
      (lengthHeader === undefined && req.headers['transfer-encoding'] === undefined)
    )
      throw new BadRequestException('the body is empty: send the checkpoint file as the request body');
    const header = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const r = await this.checkpoints.upload({
      name,
      version,
      body: req,
      contentLength: lengthHeader === undefined ? null : Number(lengthHeader),
      sha256: checkSha256(header('x-checksum-sha256')),
      filename: checkFilename(header('x-brine-filename')),
      frameworkVersion: checkFrameworkVersion(header('x-brine-framework-version')),
      metadata: checkMetadata(header('x-brine-metadata')),
      metrics: parseMetricsHeader(header('x-brine-metrics')),
      token: req.token ?? null,
    });
    res.status(r.created ? 201 : 200);
    return r.record;
  }

  @Get(':name/:version')
  async version(@Param('name') name: string, @Param('version') version: string) {
    return this.checkpoints.view(await this.checkpoints.requireVersion(name, version));
  }

  /** {"metrics": {"val_loss": 0.2}}: sets (or with null removes) metrics, then re-evaluates the best tag */
  @Patch(':name/:version')
  @RequireScope('write')
  async patch(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown) {
    const b = body as { metrics?: unknown } | null;
    if (typeof b !== 'object' || b === null || !('metrics' in b)) {
      throw new BadRequestException('send {"metrics": {"name": number | null, …}} as application/json');
    }
    const m = b.metrics;
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      throw new BadRequestException('metrics must be a JSON object');
    const set = checkMetrics(Object.fromEntries(Object.entries(m).filter(([, x]) => x !== null)), 'metrics');
    const remove = Object.entries(m)
      .filter(([, x]) => x === null)
      .map(([k]) => k);
    return this.metrics.update(name, version, set, remove);
  }

  @Delete(':name/:version')
  @RequireScope('admin')
  @HttpCode(204)
  async remove(
    @Param('name') name: string,
    @Param('version') version: string,
    @Req() req: AuthedRequest,
  ): Promise<void> {
    await this.checkpoints.remove(name, version, req.token ?? null);
  }

  @Get(':name/:version/report')
  report(@Param('name') name: string, @Param('version') version: string) {
    return this.checkpoints.report(name, version);
  }

  @Get(':name/:version/file')
  @AcceptSignedLink()
  async file(
    @Param('name') name: string,
    @Param('version') version: string,
    @Req() req: AuthedRequest,
    @Res() res: Response,
  ): Promise<void> {
    await sendFile(this.checkpoints, name, version, req, res);
  }

  /**
   * {"acknowledgeRisk": bool}: a link to the file that works without the Authorization header for five minutes
   * (for browsers); it is signed for this token, version and acknowledgement, and dies with the token
   */
  @Post(':name/:version/download-link')
  async downloadLink(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @Req() req: AuthedRequest,
  ) {
    const ack = (body as { acknowledgeRisk?: unknown } | null)?.acknowledgeRisk ?? false;
    if (typeof ack !== 'boolean') throw new BadRequestException('acknowledgeRisk must be true or false');
    const v = await this.checkpoints.requireVersion(name, version);
    this.checkpoints.checkAcknowledged(v, ack);
    const ttl = LINK_TTL_SECONDS;
    const link = this.tokens.signLink(req.token!, linkTarget(name, version, ack), ttl);
    const query = new URLSearchParams({ ...(ack ? { acknowledgeRisk: 'true' } : {}), link });
    return {
      path: `/checkpoints/${encodeURIComponent(name)}/${encodeURIComponent(version)}/file?${query}`,
      expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
    };
  }

  @Post(':name/:version/rescan')
  @RequireScope('write')
  @HttpCode(202)
  rescan(@Param('name') name: string, @Param('version') version: string) {
    return this.checkpoints.rescan(name, version);
  }
}
