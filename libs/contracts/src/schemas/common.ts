import { z } from 'zod';
import { METRIC_NAME, NAME_PATTERN, NAME_RULE, RESERVED_VERSIONS, TAG_PATTERN } from '../names';
import { limit, shown } from './fields';

/** Names, ids and checks every resource uses, the registry of named components, and the error body. */
export const api = z.registry<{ id: string; description?: string }>();

export const CheckpointName = z
  .string()
  .regex(NAME_PATTERN, { error: (i) => `name must be ${NAME_RULE}; got ${shown(String(i.input))}` })
  .describe('checkpoint name');

export const VersionName = z
  .string()
  .regex(NAME_PATTERN, { error: (i) => `version must be ${NAME_RULE}; got ${shown(String(i.input))}` })
  .refine((v) => !RESERVED_VERSIONS.has(v), {
    error: (i) => `"${String(i.input)}" is a reserved word and cannot be a version name; choose another`,
  })
  .describe('version name');

export const TagName = z
  .string()
  .regex(TAG_PATTERN, {
    error: (i) => `a tag is 1-64 lowercase letters, digits, ".", "_" or "-"; got ${shown(String(i.input))}`,
  })
  .describe('tag name');

export const MetricName = z.string().regex(METRIC_NAME);

export const Uuid = (what: string) =>
  z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
    error: `${what} id must be a UUID`,
  });

export const Verdict = z.enum(['safe', 'suspicious', 'dangerous', 'unknown']);

export type Verdict = z.infer<typeof Verdict>;

/** text PostgreSQL's jsonb cannot hold: NUL, or a UTF-16 surrogate without its pair */
const JSONB_UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What in a parsed JSON value PostgreSQL's jsonb would refuse (NUL characters, unpaired surrogates in keys or
 * strings, more than 32 levels of nesting), or null: checked before anything is written.
 */
export function jsonbProblem(v: unknown, what: string, depth = 0): string | null {
  if (depth > 32) return `${what} nests deeper than 32 levels`;
  const bad = (s: string) =>
    JSONB_UNSAFE.test(s)
      ? `${what} holds a NUL character or an unpaired UTF-16 surrogate (${shown(s)}), which PostgreSQL cannot store; remove it`
      : null;
  if (typeof v === 'string') return bad(v);
  if (Array.isArray(v)) {
    for (const x of v) {
      const p = jsonbProblem(x, what, depth + 1);
      if (p) return p;
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const p = bad(k) ?? jsonbProblem(x, what, depth + 1);
      if (p) return p;
    }
  }
  return null;
}

/**
 * Where a parsed JSON value holds a key named "__proto__" ("metrics.__proto__"), or null. JSON.parse keeps such a
 * key as data, but copying it into another object (zod's records, a spread, an assignment) sets the copy's
 * prototype instead: the entry would vanish without a word. Walked without recursion, so any nesting JSON.parse
 * accepted is fine.
 */
export function protoKeyPath(v: unknown): string | null {
  const todo: Array<[unknown, string]> = [[v, '']];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [x, at] = next;
    if (typeof x !== 'object' || x === null) continue;
    for (const [k, y] of Object.entries(x)) {
      const here = Array.isArray(x) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      if (k === '__proto__' && !Array.isArray(x)) return here;
      if (typeof y === 'object' && y !== null) todo.push([y, here]);
    }
  }
  return null;
}

/** the message that refuses a "__proto__" key found at `at` in `what` */
export function protoKeyMessage(what: string, at: string): string {
  return `${what} holds the key "__proto__"${at === '__proto__' ? '' : ` (at ${at})`}, which JavaScript objects cannot keep as data (it would be dropped silently); rename it`;
}

/** metrics are numbers only: {"val_loss": 0.231, "epoch": 12} (at most 64) */
export function metricsSchema(where: string) {
  return z
    .record(z.string(), z.unknown(), {
      error: `${where} must be a JSON object of numbers, e.g. {"val_loss": 0.231, "epoch": 12}`,
    })
    .superRefine((v, ctx) => {
      const entries = Object.entries(v);
      for (const [k] of entries) {
        const p = jsonbProblem(k, where);
        if (p) return void ctx.addIssue({ code: 'custom', message: p });
      }
      if (entries.length > 64)
        return void ctx.addIssue({ code: 'custom', message: `${where} may hold at most 64 metrics` });
      for (const [k, x] of entries) {
        if (!METRIC_NAME.test(k))
          return void ctx.addIssue({
            code: 'custom',
            message: `metric names must start with a letter or "_" and hold letters, digits, "_", ".", "-" (at most 64); got ${shown(k)}`,
          });
        if (x !== null && (typeof x !== 'number' || !Number.isFinite(x)))
          return void ctx.addIssue({
            code: 'custom',
            message: `metric ${shown(k)} must be a finite number; got ${shown(JSON.stringify(x) ?? String(x))}`,
          });
      }
    })
    .transform((v) => v as Record<string, number | null>);
}

export const NameParams = z.object({ name: CheckpointName });

export const VersionParams = z.object({ name: CheckpointName, version: VersionName });

export const TagParams = z.object({ name: CheckpointName, tag: TagName });

export const IdParams = (what: string) => z.object({ id: Uuid(what) });

export const LimitQuery = z.object({ limit: limit(50, 500) });

export const HistoryQuery = z.object({ limit: limit(200, 1000) });

export const ErrorBody = z
  .object({
    statusCode: z.number().int(),
    error: z.string(),
    message: z.string().describe('what went wrong and what to do instead'),
  })
  .meta({ id: 'Error' });
