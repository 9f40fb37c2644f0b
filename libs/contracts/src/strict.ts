import { z } from 'zod';

/**
 * The strict form of a request schema: the same schema, with every object in it (however deeply nested, through
 * optional, nullable, default, pipe, array, record values …) refusing keys it does not declare. Derived here, once,
 * and applied where the contract's schemas are applied (apps/api's ContractInterceptor) to JSON bodies and query
 * strings: a misspelt field (`{"keep": 3}` for `keepNewest`) is a 400 naming it, never a default silently taken.
 * Records (metrics, metadata) keep their free keys; their values are walked like any other schema.
 */
const cache = new WeakMap<z.ZodType, z.ZodType>();

type Def = Record<string, unknown> & { type: string };

/** the child schemas of a def, by field, that the strict form must make strict too */
const CHILDREN: Record<string, string[]> = {
  optional: ['innerType'],
  nullable: ['innerType'],
  default: ['innerType'],
  prefault: ['innerType'],
  catch: ['innerType'],
  readonly: ['innerType'],
  nonoptional: ['innerType'],
  pipe: ['in', 'out'],
  array: ['element'],
  record: ['valueType'],
  intersection: ['left', 'right'],
};

export function strictSchema<T extends z.ZodType>(schema: T): T {
  const hit = cache.get(schema);
  if (hit) return hit as T;
  const def = schema._zod.def as unknown as Def;
  let out: z.ZodType = schema;
  if (def.type === 'object') {
    const shape = def.shape as Record<string, z.ZodType>;
    const strictShape = Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, strictSchema(s)]));
    // a catchall that is not never (passthrough or loose) says so on purpose: keep it
    const catchall = def.catchall as z.ZodType | undefined;
    out = schema.clone({ ...def, shape: strictShape, catchall: catchall ?? z.never() } as never);
  } else if (def.type === 'union') {
    out = schema.clone({ ...def, options: (def.options as z.ZodType[]).map(strictSchema) } as never);
  } else if (CHILDREN[def.type]) {
    const changed: Record<string, unknown> = {};
    for (const f of CHILDREN[def.type]) if (def[f] instanceof z.ZodType) changed[f] = strictSchema(def[f]);
    out = schema.clone({ ...def, ...changed } as never);
  }
  cache.set(schema, out);
  return out as T;
}

/** the keys of the object schema at the heart of `schema` (through wrappers and pipes), or null */
export function declaredKeys(schema: z.ZodType, path: ReadonlyArray<PropertyKey> = []): string[] | null {
  const def = schema._zod.def as unknown as Def;
  if (def.type === 'object') {
    const shape = def.shape as Record<string, z.ZodType>;
    if (path.length === 0) return Object.keys(shape);
    const next = shape[String(path[0])];
    return next ? declaredKeys(next, path.slice(1)) : null;
  }
  if (def.type === 'array' && path.length > 0) return declaredKeys(def.element as z.ZodType, path.slice(1));
  if (def.type === 'record' && path.length > 0)
    return declaredKeys(def.valueType as z.ZodType, path.slice(1));
  const inner = def.innerType ?? def.in;
  return inner instanceof z.ZodType ? declaredKeys(inner, path) : null;
}
