import {
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Scope, TokenEntity } from '@brine/persistence';
import { grants, TokensService } from '@brine/registry';

const SCOPE_KEY = 'brine:scope';

/** the scope a route needs (default: read) */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_KEY, scope);
/** a route anyone may call (health, docs) */
export const Public = () => SetMetadata(SCOPE_KEY, 'public');

const LINK_KEY = 'brine:signed-link';
/** a route that also accepts `?link=` from POST …/download-link in place of the Authorization header */
export const AcceptSignedLink = () => SetMetadata(LINK_KEY, true);

/** what a download link covers: one version's file, with or without the risk acknowledgement */
export function linkTarget(name: string, version: string, acknowledgeRisk: boolean): string {
  return `file\n${name}\n${version}\n${acknowledgeRisk}`;
}

export interface AuthedRequest extends Request {
  token?: TokenEntity;
}

/** `Authorization: Bearer <token>` on every route but the public ones; 401 without a valid token, 403 without the scope */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const needed =
      this.reflector.getAllAndOverride<Scope | 'public' | undefined>(SCOPE_KEY, [
        ctx.getHandler(),
        ctx.getClass(),
      ]) ?? 'read';
    if (needed === 'public') return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers.authorization;
    const link = req.query?.link;
    if (!header && typeof link === 'string' && this.reflector.get<boolean>(LINK_KEY, ctx.getHandler())) {
      const target = linkTarget(
        String(req.params.name),
        String(req.params.version),
        String(req.query.acknowledgeRisk ?? '') === 'true',
      );
      const token = await this.tokens.verifyLink(link, target);
      if (!token)
        throw new UnauthorizedException('the download link is invalid or has expired; ask for a new one');
      req.token = token;
      return grants(token.scopes, needed);
    }
    if (!header)
      throw new UnauthorizedException('missing Authorization header: send "Authorization: Bearer <token>"');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new UnauthorizedException('the Authorization header must be "Bearer <token>"');
    const token = await this.tokens.authenticate(m[1]);
    if (!token) throw new UnauthorizedException('the token is unknown or revoked');
    if (!grants(token.scopes, needed)) {
      throw new ForbiddenException(
        `this route needs the "${needed}" scope; the token has ${token.scopes.join(', ')}`,
      );
    }
    req.token = token;
    return true;
  }
}
