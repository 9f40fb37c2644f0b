import {
  applyDecorators,
  BadRequestException,
  createParamDecorator,
  Delete,
  Get,
  HttpCode,
  Injectable,
  Patch,
  Post,
  Put,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { z } from 'zod';
import type { Body, Headers, Params, Query, Route } from '@brine/contracts';
import { AcceptSignedLink, Public, RequireScope } from './auth.guard';

/**
 * Binds a handler to its entry in the route table (@brine/contracts): the HTTP method and path, the scope, the
 * status code, and the validation of its params, query, headers and body — all from that one declaration, which
 * the OpenAPI document is generated from too.
 */
const ROUTE_KEY = 'brine:route';

const METHODS = { get: Get, put: Put, post: Post, patch: Patch, delete: Delete } as const;

export function Endpoint(route: Route): MethodDecorator {
  const path = route.path.replace(/\{(\w+)\}/g, ':$1');
  const success = Object.keys(route.responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300);
  return applyDecorators(
    METHODS[route.method](path),
    SetMetadata(ROUTE_KEY, route),
    route.scope === 'public' ? Public() : RequireScope(route.scope),
    ...(route.signedLink ? [AcceptSignedLink()] : []),
    // one success status: it is the route's; several (200 or 201, 200 or 206): the handler sets it
    ...(success.length === 1 ? [HttpCode(success[0])] : []),
  );
}

/** what a handler of `R` receives: its inputs, validated and parsed */
export interface Input<R extends Route> {
  params: Params<R>;
  query: Query<R>;
  headers: Headers<R>;
  body: Body<R>;
}

interface WithInput {
  brineInput?: Input<Route>;
}

/** the handler's validated inputs (see Endpoint) */
export const In = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  return (ctx.switchToHttp().getRequest() as WithInput).brineInput;
});

function parse(schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return {};
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // the schemas' own messages say what to send; zod's defaults get the field's name in front
  const custom = issue.code === 'custom' || !/^(Invalid|Too|Expected|Unrecognized)/.test(issue.message);
  throw new BadRequestException(
    custom || issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
  );
}

/** validates each request against its route's declaration before the handler runs (after authentication) */
@Injectable()
export class ContractInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const route = this.reflector.get<Route | undefined>(ROUTE_KEY, ctx.getHandler());
    if (route) {
      const req = ctx.switchToHttp().getRequest<{
        params: unknown;
        query: unknown;
        headers: unknown;
        body: unknown;
      }>() as WithInput & { params: unknown; query: unknown; headers: unknown; body: unknown };
      const body =
        route.body === undefined || route.body === 'binary'
          ? undefined
          : parse(
              route.body,
              route.bodyOptional && (req.body === undefined || req.body === null) ? {} : req.body,
            );
      req.brineInput = {
        params: parse(route.params, req.params),
        query: parse(route.query, req.query),
        headers: parse(route.headers, req.headers),
        body,
      } as Input<Route>;
    }
    return next.handle();
  }
}
