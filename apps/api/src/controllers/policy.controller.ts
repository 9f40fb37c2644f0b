import { Controller, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ROUTES } from '@brine/contracts';
import { PolicyService } from '@brine/registry';
import type { AuthedRequest } from '../auth.guard';
import { Endpoint, In, type Input } from '../endpoint';

/** Safe globals, as torch.serialization.add_safe_globals adds them; a change re-scans the affected versions. */
@Controller()
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @Endpoint(ROUTES.listSafeGlobals)
  list() {
    return this.policy.list();
  }

  @Endpoint(ROUTES.addSafeGlobal)
  async add(
    @In() i: Input<typeof ROUTES.addSafeGlobal>,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    const r = await this.policy.add(i.params.name, i.body.note ?? null, req.token ?? null);
    res.status(r.created ? 201 : 200);
    return { ...r.global, rescanning: r.rescanning };
  }

  @Endpoint(ROUTES.removeSafeGlobal)
  remove(@In() i: Input<typeof ROUTES.removeSafeGlobal>) {
    return this.policy.remove(i.params.name);
  }
}
