import { z } from 'zod';
import { ROUTES, type Route } from './routes';
import { RESOURCES } from './routes/common';
import { api } from './schemas';

type Json = Record<string, unknown>;

const COMPONENT = (id: string) => `#/components/schemas/${id}`;

/** zod refers to a named part as #/$defs/<id>; every named part is a component of the document */
function componentRefs<T>(v: T): T {
  if (Array.isArray(v)) return v.map(componentRefs) as T;
  if (typeof v !== 'object' || v === null) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    if (k === '$schema' || k === '$defs' || k === '$id' || k === 'id') continue;
    out[k] =
      k === '$ref' && typeof x === 'string'
        ? x.replace('#/$defs/', '#/components/schemas/')
        : componentRefs(x);
  }
  return out as T;
}

/** a request or response schema as JSON Schema, its named parts as $refs to the components */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const id = api.get(schema)?.id;
  if (id) return { $ref: COMPONENT(id) };
  return componentRefs(z.toJSONSchema(schema, { metadata: api, io, unrepresentable: 'any' }) as Json);
}

/** the properties of an object schema, as OpenAPI parameters */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): Json[] {
  if (!schema) return [];
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s as Json & { description?: string };
    return {
      name,
      in: where,
      required: where === 'path' || (js.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function operation(id: string, r: Route): Json {
  const responses: Json = {};
  for (const [status, res] of Object.entries(r.responses)) {
    const content =
      res.body === undefined
        ? undefined
        : res.body === 'binary'
          ? { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
          : res.body === 'text'
            ? { 'text/plain': { schema: { type: 'string' } } }
            : { 'application/json': { schema: jsonSchema(res.body, 'output') } };
    responses[status] = { description: res.description, ...(content ? { content } : {}) };
  }
  const body =
    r.body === undefined
      ? undefined
      : r.body === 'binary'
        ? {
            required: true,
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          }
        : {
            required: !r.bodyOptional,
            content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
          };
  const params = [
    ...parameters(r.params, 'path'),
    ...parameters(r.query, 'query'),
    ...parameters(r.headers, 'header').filter(
      (p) => p.name !== 'content-type' && p.name !== 'content-length',
    ),
  ];
  return {
    operationId: id,
    tags: [r.tag],
    summary: r.summary,
    ...(r.scope === 'public' ? { security: [] } : { 'x-brine-scope': r.scope }),
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

/** Brine's OpenAPI 3.1 document, generated from the route table and its schemas */
export function openApiDocument(serverUrl: string): Json {
  const paths: Record<string, Json> = {};
  for (const [id, r] of Object.entries(ROUTES) as Array<[string, Route]>)
    (paths[r.path] ??= {})[r.method] = operation(id, r);
  const components = z.toJSONSchema(api, { io: 'output', uri: COMPONENT, unrepresentable: 'any' }) as {
    schemas: Record<string, Json>;
  };
  const schemas = componentRefs(components.schemas);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Brine',
      version: '1.0.0',
      description:
        'A registry for PyTorch checkpoints. Every upload is scanned statically; the verdict says whether torch.load(..., weights_only=True) would accept it and whether anything in it could run code.',
    },
    servers: [{ url: serverUrl }],
    tags: Object.entries(RESOURCES).map(([name, description]) => ({ name, description })),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a Brine token (brine_…)' } },
      schemas,
    },
  };
}
