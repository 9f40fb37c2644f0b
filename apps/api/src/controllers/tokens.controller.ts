import { Body, Controller, Delete, Get, Param, Post, Req } from '@nestjs/common';
import type { TokenEntity } from '@brine/persistence';
import {
  checkScopes,
  checkTokenName,
  RequireScope,
  tokenView,
  TokensService,
  type AuthedRequest,
} from '@brine/registry';

/** API tokens (admin). The secret is in the creation response only; the registry keeps its hash. */
@Controller('tokens')
@RequireScope('admin')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  async create(@Body() body: unknown) {
    const b = (body ?? {}) as { name?: unknown; scopes?: unknown };
    const { secret, token } = await this.tokens.create(checkTokenName(b.name), checkScopes(b.scopes));
    return { ...tokenView(token), token: secret };
  }

  /** the token making the request: its name and scopes (any valid token may ask; clients check before work) */
  @Get('me')
  @RequireScope('read')
  me(@Req() req: AuthedRequest) {
    return tokenView(req.token as TokenEntity);
  }

  @Get()
  async list() {
    return (await this.tokens.list()).map(tokenView);
  }

  @Delete(':id')
  async revoke(@Param('id') id: string) {
    return tokenView(await this.tokens.revoke(id));
  }
}
