import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { checkScopes, checkTokenName, RequireScope, tokenView, TokensService } from '@brine/registry';

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

  @Get()
  async list() {
    return (await this.tokens.list()).map(tokenView);
  }

  @Delete(':id')
  async revoke(@Param('id') id: string) {
    return tokenView(await this.tokens.revoke(id));
  }
}
