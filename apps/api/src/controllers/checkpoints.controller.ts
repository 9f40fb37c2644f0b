import { BadRequestException, Controller, Req, Res, UnsupportedMediaTypeException } from '@nestjs/common';
import type { Response } from 'express';
import { ROUTES } from '@brine/contracts';
import { CheckpointsService, LINK_TTL_SECONDS, MetricsService, TokensService } from '@brine/registry';
import { linkTarget, type AuthedRequest } from '../auth.guard';
import { Endpoint, In, type Input } from '../endpoint';
import { sendFile } from './download';

/** Checkpoints and their versions. Each handler's route, scope and inputs are declared in @brine/contracts. */
@Controller()
export class CheckpointsController {
  constructor(
    private readonly checkpoints: CheckpointsService,
    private readonly metrics: MetricsService,
    private readonly tokens: TokensService,
  ) {}

  @Endpoint(ROUTES.listCheckpoints)
  list(@In() i: Input<typeof ROUTES.listCheckpoints>) {
    return this.checkpoints.list(i.query);
  }

  @Endpoint(ROUTES.getCheckpoint)
  get(@In() i: Input<typeof ROUTES.getCheckpoint>) {
    return this.checkpoints.get(i.params.name, i.query);
  }

  /** the raw file as the body (application/octet-stream); streamed to the object store with its SHA-256 */
  @Endpoint(ROUTES.upload)
  async upload(
    @In() i: Input<typeof ROUTES.upload>,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
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
    const h = i.headers;
    const r = await this.checkpoints.upload({
      name: i.params.name,
      version: i.params.version,
      body: req,
      contentLength: lengthHeader === undefined ? null : Number(lengthHeader),
      sha256: h['x-checksum-sha256'] ?? null,
      filename: h['x-brine-filename'] ?? null,
      frameworkVersion: h['x-brine-framework-version'] ?? null,
      metadata: h['x-brine-metadata'] ?? {},
      metrics: h['x-brine-metrics'] ?? {},
      lineage: {
        // stored as VERSION (of this checkpoint) or NAME:VERSION, however it was written
        ...(h['x-brine-parent']
          ? {
              parent: h['x-brine-parent'].name
                ? `${h['x-brine-parent'].name}:${h['x-brine-parent'].version}`
                : h['x-brine-parent'].version,
            }
          : {}),
        ...(h['x-brine-git-commit'] ? { gitCommit: h['x-brine-git-commit'] } : {}),
        ...(h['x-brine-run-url'] ? { runUrl: h['x-brine-run-url'] } : {}),
        ...(h['x-brine-dataset'] ? { dataset: h['x-brine-dataset'] } : {}),
      },
      token: req.token ?? null,
    });
    res.status(r.created ? 201 : 200);
    return r.record;
  }

  @Endpoint(ROUTES.getVersion)
  async version(@In() i: Input<typeof ROUTES.getVersion>) {
    return this.checkpoints.view(await this.checkpoints.requireVersion(i.params.name, i.params.version));
  }

  /** {"metrics": {"val_loss": 0.2}}: sets (or with null removes) metrics, then re-evaluates the best tag */
  @Endpoint(ROUTES.patchVersion)
  async patch(@In() i: Input<typeof ROUTES.patchVersion>) {
    const m = i.body.metrics;
    const set = Object.fromEntries(Object.entries(m).filter(([, x]) => x !== null)) as Record<string, number>;
    const remove = Object.entries(m)
      .filter(([, x]) => x === null)
      .map(([k]) => k);
    return this.metrics.update(i.params.name, i.params.version, set, remove);
  }

  @Endpoint(ROUTES.deleteVersion)
  async remove(@In() i: Input<typeof ROUTES.deleteVersion>, @Req() req: AuthedRequest): Promise<void> {
    await this.checkpoints.remove(i.params.name, i.params.version, req.token ?? null);
  }

  @Endpoint(ROUTES.report)
  report(@In() i: Input<typeof ROUTES.report>) {
    return this.checkpoints.report(i.params.name, i.params.version);
  }

  @Endpoint(ROUTES.file)
  async file(
    @In() i: Input<typeof ROUTES.file>,
    @Req() req: AuthedRequest,
    @Res() res: Response,
  ): Promise<void> {
    await sendFile(this.checkpoints, i.params.name, i.params.version, i.query, req, res);
  }

  /**
   * {"acknowledgeRisk": bool}: a link to the file that works without the Authorization header for five minutes
   * (for browsers); it is signed for this token, version and acknowledgement, and dies with the token
   */
  @Endpoint(ROUTES.downloadLink)
  async downloadLink(@In() i: Input<typeof ROUTES.downloadLink>, @Req() req: AuthedRequest) {
    const { name, version } = i.params;
    const ack = i.body.acknowledgeRisk ?? false;
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

  @Endpoint(ROUTES.rescan)
  rescan(@In() i: Input<typeof ROUTES.rescan>) {
    return this.checkpoints.rescan(i.params.name, i.params.version);
  }
}
