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
import { z } from 'zod';
import {
  declaredKeys,
  strictSchema,
  type Body,
  type Headers,
  type Params,
  type Query,
  type Route,
} from '@brine/contracts';
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

/** what takes no JSON body, or no query: an empty object, strictly */
const NOTHING = z.object({});

/**
 * A key the schema does not declare, named with what is declared there: `{"keep": 3}` on a retention rule is refused
 * rather than read as an empty rule. Checked first, so the key is named even when other fields are wrong too.
 */
function unknownKey(schema: z.ZodType, issues: z.core.$ZodIssue[], what: string): string | null {
  const issue = issues.find((i) => i.code === 'unrecognized_keys');
  if (!issue || issue.code !== 'unrecognized_keys') return null;
  const key = issue.keys[0];
  const at = issue.path.map(String).join('.');
  const known = declaredKeys(schema, issue.path) ?? [];
  const where = at ? `${what} field ${at}` : what;
  const takes = known.length
    ? `${where} takes ${known.map((k) => JSON.stringify(k)).join(', ')}`
    : `${where} takes none`;
  // a schema's own message that names the key (WebhookPatch: "cannot change "secret" (use rotate-secret …)") stays
  if (!issue.message.startsWith('Unrecognized') && issue.message.includes(JSON.stringify(key)))
    return issue.message;
  return `unknown ${what === 'the query' ? 'query parameter' : 'key'} ${JSON.stringify(key)}${at ? ` in ${at}` : ''}: ${takes}${
    issue.keys.length > 1
      ? ` (also unknown: ${issue.keys
          .slice(1)
          .map((k) => JSON.stringify(k))
          .join(', ')})`
      : ''
  }`;
}

function parse(schema: z.ZodType | undefined, value: unknown, what?: string): unknown {
  if (!schema) return {};
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const unknown = what ? unknownKey(schema, r.error.issues, what) : null;
  if (unknown) throw new BadRequestException(unknown);
  const issue = r.error.issues[0];
  // the schemas' own messages say what to send; zod's defaults get the field's name in front
  const custom = issue.code === 'custom' || !/^(Invalid|Too|Expected|Unrecognized)/.test(issue.message);
  throw new BadRequestException(
    custom || issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
  );
}

/** a JSON body the route does not take: nothing at all, or an empty object, is fine */
function bodyOf(route: Route, body: unknown): unknown {
  if (route.body === 'binary') return undefined;
  if (route.body === undefined) {
    // express.json leaves no body as undefined; a JSON object sent anyway must not hold keys that do nothing
    if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body))
      parse(NOTHING_STRICT, body, 'the body');
    return undefined;
  }
  return parse(
    strictSchema(route.body),
    route.bodyOptional && (body === undefined || body === null) ? {} : body,
    'the body',
  );
}

const NOTHING_STRICT = strictSchema(NOTHING);

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
      const params = parse(route.params, req.params);
      // every query parameter is declared: one the route does not know is a 400 naming it, never ignored
      const query = parse(strictSchema(route.query ?? NOTHING), req.query, 'the query');
      const headers = parse(route.headers, req.headers);
      req.brineInput = { params, query, headers, body: bodyOf(route, req.body) } as Input<Route>;
    }
    return next.handle();
  }
}
