import { Controller, Req } from '@nestjs/common';
import { ROUTES } from '@brine/contracts';
import type { TokenEntity } from '@brine/persistence';
import { tokenView, TokensService } from '@brine/registry';
import type { AuthedRequest } from '../auth.guard';
import { Endpoint, In, type Input } from '../endpoint';

/** API tokens (admin). The secret is in the creation response only; the registry keeps its hash. */
@Controller()
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  /** the token making the request: its name and scopes (any valid token may ask; clients check before work) */
  @Endpoint(ROUTES.me)
  me(@Req() req: AuthedRequest) {
    return tokenView(req.token as TokenEntity);
  }

  @Endpoint(ROUTES.createToken)
  async create(@In() i: Input<typeof ROUTES.createToken>) {
    const { secret, token } = await this.tokens.create(i.body.name, i.body.scopes);
    return { ...tokenView(token), token: secret };
  }

  @Endpoint(ROUTES.listTokens)
  async list() {
    return (await this.tokens.list()).map(tokenView);
  }

  @Endpoint(ROUTES.revokeToken)
  async revoke(@In() i: Input<typeof ROUTES.revokeToken>) {
    return tokenView(await this.tokens.revoke(i.params.id));
  }
}
