import { z } from 'zod';
import type { WeightsOnlyReport } from '@brine/scanner/report';
import { METRIC_NAME, NAME_PATTERN, NAME_RULE, RESERVED_VERSIONS, TAG_PATTERN } from './names';

/**
 * Every shape the HTTP API takes and returns, declared once with zod: the API validates requests with these
 * schemas, the OpenAPI document is generated from them (and the Python client from that), and the dashboard and
 * the CLI use the types inferred from them. Schemas with an `id` become named OpenAPI components.
 */
export const api = z.registry<{ id: string; description?: string }>();

const shown = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);

// ---- names ----

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

export const GlobalName = z
  .string()
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/, {
    error: (i) =>
      `a safe global must be a dotted name like "argparse.Namespace"; got ${shown(String(i.input))}`,
  })
  .describe('a dotted name as add_safe_globals keys it, e.g. argparse.Namespace');

export const Uuid = (what: string) =>
  z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
    error: `${what} id must be a UUID`,
  });

export const Scope = z.enum(['read', 'write', 'admin']);
export type Scope = z.infer<typeof Scope>;

export const Verdict = z.enum(['safe', 'suspicious', 'dangerous', 'unknown']);
export type Verdict = z.infer<typeof Verdict>;

export const EVENT_TYPES = [
  'scan.unsafe',
  'scan.completed',
  'version.created',
  'version.deleted',
  'tag.moved',
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

// ---- values that PostgreSQL's jsonb must be able to hold ----

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

const MAX_HEADER_JSON = 16 * 1024;

/** a header holding JSON: at most 16 KiB, parsed, then checked by `inner` */
function jsonHeader<T extends z.ZodType>(header: string, example: string, inner: T) {
  return z
    .string()
    .max(MAX_HEADER_JSON, { error: `${header} must be at most ${MAX_HEADER_JSON} bytes of JSON` })
    .transform((s, ctx) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${header} must be ${example}` });
        return z.NEVER;
      }
      const at = protoKeyPath(parsed);
      if (at !== null) {
        ctx.addIssue({ code: 'custom', message: protoKeyMessage(header, at) });
        return z.NEVER;
      }
      return parsed;
    })
    .pipe(inner);
}

// ---- requests ----

/** an upload's headers (Content-Type and Content-Length are checked by the route itself: 415 and 400) */
export const UploadHeaders = z.object({
  'x-checksum-sha256': z
    .string()
    .transform((v) => v.trim().toLowerCase())
    .pipe(z.string().regex(/^[0-9a-f]{64}$/, { error: 'x-checksum-sha256 must be 64 hexadecimal digits' }))
    .optional()
    .describe('the SHA-256 of the body (hex); a mismatch stores nothing'),
  'x-brine-filename': z
    .string()
    .transform((s, ctx) => {
      try {
        return decodeURIComponent(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'x-brine-filename must be percent-encoded UTF-8' });
        return z.NEVER;
      }
    })
    .pipe(
      z.string().refine((v) => !(v.length > 255 || /[/\\\0-\x1f\x7f]/.test(v) || v === '.' || v === '..'), {
        error: (i) =>
          `x-brine-filename must be a file name without folders or control characters (at most 255); got ${shown(String(i.input))}`,
      }),
    )
    .optional()
    .describe('the original file name, percent-encoded'),
  'x-brine-framework-version': z
    .string()
    .regex(/^[A-Za-z0-9._+ -]{1,64}$/, {
      error: (i) =>
        `x-brine-framework-version must be up to 64 letters, digits, ".", "+", "-" or spaces (like "torch 2.6.0"); got ${shown(String(i.input))}`,
    })
    .optional(),
  'x-brine-parent': z
    .string()
    .regex(/^([A-Za-z0-9][A-Za-z0-9._-]{0,127}:)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
      error: (i) =>
        `x-brine-parent must be a version of this checkpoint ("epoch-3") or NAME:VERSION of another; got ${shown(String(i.input))}`,
    })
    .optional()
    .describe('lineage: the version this one was trained from (VERSION, or NAME:VERSION); it must exist'),
  'x-brine-git-commit': z
    .string()
    .regex(/^[0-9a-fA-F]{7,64}$/, {
      error: (i) => `x-brine-git-commit must be 7 to 64 hexadecimal digits; got ${shown(String(i.input))}`,
    })
    .transform((v) => v.toLowerCase())
    .optional()
    .describe('lineage: the git commit of the training code'),
  'x-brine-run-url': z
    .string()
    .max(2048, { error: 'x-brine-run-url must be at most 2048 characters' })
    .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?([/?#][\x21-\x7e]*)?$/, {
      error: (i) =>
        `x-brine-run-url must be an http(s) URL without credentials or spaces; got ${shown(String(i.input))}`,
    })
    .optional()
    .describe('lineage: the training run (a W&B, MLflow or CI page)'),
  'x-brine-dataset': z
    .string()
    .regex(/^[\x20-\x7e]{1,256}$/, {
      error: (i) =>
        `x-brine-dataset must be 1 to 256 printable ASCII characters; got ${shown(String(i.input))}`,
    })
    .optional()
    .describe('lineage: the dataset it was trained on ("imagenet-1k@2024-05")'),
  'x-brine-metadata': jsonHeader(
    'x-brine-metadata',
    'a JSON object, e.g. {"dataset":"imagenet"}',
    z
      .record(z.string(), z.unknown(), {
        error: 'x-brine-metadata must be a JSON object, e.g. {"dataset":"imagenet"}',
      })
      .superRefine((v, ctx) => {
        const p = jsonbProblem(v, 'x-brine-metadata');
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
  )
    .optional()
    .describe('free-form JSON object kept with the version (at most 16 KiB)'),
  'x-brine-metrics': jsonHeader(
    'x-brine-metrics',
    'a JSON object of numbers, e.g. {"val_loss": 0.231, "epoch": 12}',
    metricsSchema('x-brine-metrics').superRefine((m, ctx) => {
      const unset = Object.entries(m).find(([, x]) => x === null);
      if (unset)
        ctx.addIssue({
          code: 'custom',
          message: `metric ${shown(unset[0])} must be a finite number; got null`,
        });
    }),
  )
    .transform((m) => m as Record<string, number>)
    .optional()
    .describe('metrics as a JSON object of numbers'),
});
export type UploadHeaders = z.output<typeof UploadHeaders>;

export const NameParams = z.object({ name: CheckpointName });
export const VersionParams = z.object({ name: CheckpointName, version: VersionName });
export const TagParams = z.object({ name: CheckpointName, tag: TagName });
export const IdParams = (what: string) => z.object({ id: Uuid(what) });

const limit = (fallback: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `limit must be a whole number from 1 to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, { error: `limit must be from 1 to ${max}` })
        .max(max, { error: `limit must be from 1 to ${max}` }),
    )
    .optional()
    .transform((v) => v ?? fallback);

const offset = z
  .string()
  .regex(/^\d+$/, { error: 'offset must be a whole number' })
  .transform(Number)
  .optional()
  .transform((v) => v ?? 0);

const bool = (what: string) =>
  z
    .enum(['true', 'false'], { error: `${what} must be true or false` })
    .optional()
    .transform((v) => v === 'true');

export const ListCheckpointsQuery = z.object({
  q: z.string().max(128).optional().describe('name contains'),
  verdict: z.enum(['safe', 'suspicious', 'dangerous', 'unknown', 'pending']).optional(),
  limit: limit(50, 500),
  after: CheckpointName.optional().describe('the last name of the previous page'),
});

export const VersionsQuery = z.object({
  limit: limit(50, 500),
  offset,
  parent: z.string().max(257).optional().describe('only versions with this lineage parent'),
  gitCommit: z.string().max(64).optional().describe('only versions trained from this git commit'),
  dataset: z.string().max(256).optional().describe('only versions trained on this dataset'),
  runUrl: z.string().max(2048).optional().describe('only versions of this training run'),
  sort: z
    .string()
    .regex(/^(created|version|size|metrics\.[A-Za-z_][A-Za-z0-9_.-]{0,63})$/, {
      error: 'sort must be created, version, size or metrics.<name> (e.g. metrics.val_loss)',
    })
    .optional()
    .transform((v) => v ?? 'created'),
  order: z
    .enum(['asc', 'desc'], { error: 'order must be asc or desc' })
    .optional()
    .transform((v) => v ?? 'desc'),
});

export const FileQuery = z.object({
  format: z
    .enum(['original', 'safetensors'])
    .default('original')
    .describe('safetensors: the safetensors twin (404 until it is written and scanned safe)'),
  acknowledgeRisk: bool('acknowledgeRisk').describe(
    'required (true) to download a version whose verdict is not safe',
  ),
  link: z.string().max(256).optional().describe('a signed link (from …/download-link) instead of the header'),
});

export const LimitQuery = z.object({ limit: limit(50, 500) });
export const HistoryQuery = z.object({ limit: limit(200, 1000) });

export const MetricsPatch = z.object(
  {
    metrics: metricsSchema('metrics').describe('numbers to set; null removes a metric'),
  },
  { error: 'send {"metrics": {"name": number | null, …}} as application/json' },
);

export const DownloadLinkRequest = z.object({
  acknowledgeRisk: z.boolean({ error: 'acknowledgeRisk must be true or false' }).optional(),
});

export const TagPut = z.object(
  {
    version: VersionName,
    reason: z.string().max(500, { error: 'reason must be text of at most 500 characters' }).optional(),
    acknowledgeRisk: z
      .boolean({ error: 'acknowledgeRisk must be true or false' })
      .optional()
      .describe('needed to point a tag at a version that is not safe'),
  },
  { error: 'send {"version": "<version>", "reason": "…", "acknowledgeRisk": false} as application/json' },
);

export const RetentionRule = z
  .object(
    {
      keepNewest: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .nullable()
        .default(null)
        .describe('keep the newest N versions; older ones go (null: no limit)'),
      keepTagged: z.boolean().default(true).describe('never delete a version a tag points at'),
      deleteUnsafeAfterDays: z
        .number()
        .int()
        .min(1)
        .max(36_500)
        .nullable()
        .default(null)
        .describe(
          'delete versions whose verdict is not safe (or whose scan failed) once they are this many days old',
        ),
    },
    {
      error:
        'a retention rule is {"keepNewest": N | null, "keepTagged": true | false, "deleteUnsafeAfterDays": N | null}',
    },
  )
  .meta({ id: 'RetentionRule' });
export type RetentionRule = z.output<typeof RetentionRule>;

export const RetentionPlan = z
  .object({
    rule: RetentionRule.nullable(),
    delete: z.array(z.object({ version: z.string(), reason: z.string() })),
    keep: z.number().int().describe('versions that stay'),
  })
  .meta({ id: 'RetentionPlan' });
export type RetentionPlan = z.infer<typeof RetentionPlan>;

export const RetentionLogEntry = z
  .object({
    version: z.string(),
    sha256: z.string(),
    reason: z.string(),
    deletedAt: z.string().describe('ISO 8601 date-time'),
  })
  .meta({ id: 'RetentionLogEntry' });

export const CardPut = z
  .object(
    {
      markdown: z
        .string({ error: 'markdown must be text' })
        .max(64 * 1024, { error: 'a card is at most 64 KiB of markdown' }),
    },
    { error: 'send {"markdown": "# My model\\n…"}' },
  )
  .meta({ id: 'CardPut' });

export const CardView = z
  .object({
    markdown: z.string().nullable().describe('null: no card yet'),
    html: z
      .string()
      .nullable()
      .describe('the markdown rendered and sanitized (no scripts, styles, event handlers or remote images)'),
    updatedAt: z.string().nullable().describe('ISO 8601 date-time'),
  })
  .meta({ id: 'Card' });
export type CardView = z.infer<typeof CardView>;

export const BestRule = z
  .object(
    {
      metric: MetricName,
      mode: z.enum(['min', 'max'], { error: 'mode must be "min" or "max"' }),
    },
    {
      error:
        'the best rule needs {"metric": "<metric name>", "mode": "min" | "max"}, e.g. {"metric": "val_loss", "mode": "min"}',
    },
  )
  .meta({ id: 'BestRule' });
export type BestRule = z.infer<typeof BestRule>;

export const TokenCreate = z.object({
  name: z
    .string({ error: 'name must be 1-64 letters, digits, ".", "_" or "-"' })
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'name must be 1-64 letters, digits, ".", "_" or "-"' }),
  scopes: z
    .array(Scope, { error: 'scopes must be a non-empty list drawn from read, write, admin' })
    .min(1, { error: 'scopes must be a non-empty list drawn from read, write, admin' })
    .transform((s) => [...new Set(s)]),
});

export const SafeGlobalPut = z.object({
  note: z.string().max(500, { error: 'note must be text of at most 500 characters' }).nullable().optional(),
});

export const WebhookFilter = z
  .strictObject(
    {
      checkpoint: z
        .string()
        .regex(/^[A-Za-z0-9._*?-]{1,128}$/, {
          error:
            'filter.checkpoint must be a glob of checkpoint-name characters with * and ?, e.g. "resnet-*"',
        })
        .optional()
        .describe('glob on checkpoint names, e.g. resnet-*'),
      minSeverity: z
        .enum(['suspicious', 'unknown', 'dangerous'], {
          error: 'filter.minSeverity must be suspicious, unknown or dangerous',
        })
        .optional(),
    },
    {
      error: (i) =>
        i.code === 'unrecognized_keys'
          ? `unknown filter field "${i.keys[0]}"`
          : 'filter must be an object: {"checkpoint": "glob", "minSeverity": "suspicious"}',
    },
  )
  .meta({ id: 'WebhookFilter' });
export type WebhookFilter = z.infer<typeof WebhookFilter>;

const events = z
  .array(EventType, { error: `events must be a non-empty list drawn from ${EVENT_TYPES.join(', ')}` })
  .min(1, { error: `events must be a non-empty list drawn from ${EVENT_TYPES.join(', ')}` })
  .transform((e) => [...new Set(e)]);
const description = z
  .string()
  .max(500, { error: 'description must be text of at most 500 characters' })
  .nullable()
  .optional();
const url = z.string({ error: 'url is required: the http(s) address that receives events' });

/** bytes a base64 text decodes to */
function base64Bytes(b64: string): number {
  const pad = /=*$/.exec(b64)?.[0].length ?? 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

export const WebhookCreate = z
  .object({
    url,
    events,
    filter: WebhookFilter.nullable().optional(),
    secret: z
      .string()
      .refine((v) => /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(v) && base64Bytes(v.slice(6)) >= 24, {
        error:
          'secret must be "whsec_" followed by at least 24 base64-encoded random bytes (omit it to get one)',
      })
      .optional()
      .describe('whsec_… (generated when omitted)'),
    description,
  })
  .meta({ id: 'WebhookInput' });
export type WebhookCreate = z.output<typeof WebhookCreate>;

export const WebhookPatch = z
  .strictObject(
    {
      url: url.optional(),
      events: events.optional(),
      filter: WebhookFilter.nullable().optional(),
      enabled: z.boolean({ error: 'enabled must be true or false' }).optional(),
      description,
    },
    {
      error: (i) =>
        i.code === 'unrecognized_keys'
          ? `cannot change "${i.keys[0]}" (use rotate-secret for the secret)`
          : 'send the fields to change as a JSON object',
    },
  )
  .meta({ id: 'WebhookPatch' });
export type WebhookPatch = z.output<typeof WebhookPatch>;

export const RotateSecret = z.object({
  graceSeconds: z
    .number({ error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .int({ error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .min(0, { error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .max(604_800, { error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .optional()
    .transform((v) => v ?? 86_400),
});

export const DeliveryParams = z.object({ id: Uuid('webhook'), deliveryId: Uuid('delivery') });

// ---- responses ----

const date = z.string().describe('ISO 8601 date-time');

export const ErrorBody = z
  .object({
    statusCode: z.number().int(),
    error: z.string(),
    message: z.string().describe('what went wrong and what to do instead'),
  })
  .meta({ id: 'Error' });

export const Check = z.object({ ok: z.boolean(), ms: z.number().int(), error: z.string().optional() });
export const Health = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ postgres: Check, redis: Check, s3: Check }),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const Verdicts = z
  .object({
    safe: z.number().int(),
    suspicious: z.number().int(),
    dangerous: z.number().int(),
    unknown: z.number().int(),
    pending: z.number().int(),
  })
  .meta({ id: 'Verdicts' });

export const CheckpointSummary = z
  .object({
    name: z.string(),
    createdAt: date,
    versions: z.number().int(),
    lastUpload: date.nullable(),
    latest: z.string().nullable(),
    best: z.string().nullable(),
    verdicts: Verdicts,
  })
  .meta({ id: 'CheckpointSummary' });
export type CheckpointSummary = z.infer<typeof CheckpointSummary>;

export const CheckpointList = z
  .object({
    items: z.array(CheckpointSummary),
    next: z.string().nullable().describe('pass as ?after= for the next page'),
  })
  .meta({ id: 'CheckpointList' });
export type CheckpointList = z.infer<typeof CheckpointList>;

export const ScanStatus = z.enum(['pending', 'scanning', 'done', 'failed']);

export const TorchVersion = z.enum(['1.13', '2.6', '2.14']);

const VersionResult = z.object({
  loads: z.boolean(),
  reason: z
    .string()
    .nullable()
    .describe("the exception torch.load would raise, worded like PyTorch's message"),
  fix: z
    .string()
    .optional()
    .describe('for an unsupported global that is not hostile: what to pass to add_safe_globals'),
  uncertain: z.boolean().optional(),
  note: z.string().optional(),
});

/** what torch.load(weights_only=True) would do, per torch version (the scanner's WeightsOnlyReport) */
export const WeightsOnly = z
  .object({
    target: TorchVersion,
    safe: z.boolean(),
    byVersion: z.object({ '1.13': VersionResult, '2.6': VersionResult, '2.14': VersionResult }),
    extraAllowed: z.array(z.string()),
  })
  .meta({ id: 'WeightsOnly' });

// the schema and the scanner's own type must stay the same shape: the compiler checks both directions
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const weightsOnlyMatches: Same<z.infer<typeof WeightsOnly>, WeightsOnlyReport> = true;
void weightsOnlyMatches;

export const ScanView = z
  .object({
    status: ScanStatus,
    verdict: Verdict.nullable(),
    kind: z.string().nullable(),
    format: z.string().nullable(),
    summary: z.string().nullable(),
    weightsOnly: WeightsOnly.nullable(),
    tensors: z.object({ count: z.number().int(), parameters: z.number() }).nullable(),
    attempts: z.number().int(),
    error: z.string().nullable(),
    startedAt: date.nullable(),
    finishedAt: date.nullable(),
  })
  .meta({ id: 'Scan' });
export type ScanView = z.infer<typeof ScanView>;

export const TwinView = z
  .object({
    status: z
      .enum(['pending', 'converting', 'done', 'skipped', 'failed'])
      .describe('skipped: the file holds nothing safetensors can store (error says why)'),
    sha256: z.string().nullable(),
    size: z.number().int().nullable(),
    tensors: z.number().int().nullable().describe('tensors stored (aliases not counted)'),
    aliases: z
      .record(z.string(), z.string())
      .describe('tied weights stored once: alias → the name that holds the bytes (also in __metadata__)'),
    leftOut: z
      .array(z.object({ key: z.string(), reason: z.string() }))
      .describe('state dict entries the twin does not hold (sparse, quantized, not a tensor …)'),
    verdict: Verdict.nullable().describe("the twin's own scan"),
    error: z.string().nullable(),
    file: z.string().nullable().describe('where to download it (…/file?format=safetensors), once it is safe'),
  })
  .meta({ id: 'SafetensorsTwin' });
export type TwinView = z.infer<typeof TwinView>;

export const VersionView = z
  .object({
    name: z.string(),
    version: z.string(),
    sha256: z.string(),
    size: z.number().int(),
    filename: z.string().nullable(),
    frameworkVersion: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.number()),
    tags: z.array(z.string()),
    uploadedBy: z.string().nullable().describe('the name of the token that uploaded it'),
    createdAt: date,
    scan: ScanView,
    links: z.object({ self: z.string(), report: z.string(), file: z.string() }),
    twin: TwinView.nullable().describe('the safetensors twin of a safe state dict or training checkpoint'),
    lineage: z
      .object({
        parent: z.string().nullable(),
        gitCommit: z.string().nullable(),
        runUrl: z.string().nullable(),
        dataset: z.string().nullable(),
      })
      .describe(
        'where the version came from, as given at upload (x-brine-parent, -git-commit, -run-url, -dataset)',
      ),
  })
  .meta({ id: 'Version' });
export type VersionView = z.infer<typeof VersionView>;

export const VersionListing = z
  .object({
    checkpoint: CheckpointSummary,
    versions: z.array(VersionView),
    next: z.number().int().nullable().describe('pass as ?offset= for the next page'),
  })
  .meta({ id: 'VersionListing' });
export type VersionListing = z.infer<typeof VersionListing>;

export const DiffQuery = z.object({
  from: VersionName.describe('the older version'),
  to: VersionName.describe('the newer version'),
});

const TensorBrief = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.number().int()),
  numel: z.number().int(),
});
const ImportBrief = z.object({ module: z.string(), name: z.string(), class: z.string() });
const FindingBrief = z.object({ rule: z.string(), severity: z.string(), message: z.string() });

export const VersionDiff = z
  .object({
    name: z.string(),
    from: z.string(),
    to: z.string(),
    complete: z
      .boolean()
      .describe('false when a tensor list was capped or a tensor has no checksum to compare'),
    incompleteBecause: z.array(z.string()),
    counts: z.object({
      added: z.number().int(),
      removed: z.number().int(),
      reshaped: z.number().int(),
      bytesChanged: z.number().int(),
      unchanged: z.number().int(),
      unknown: z.number().int(),
    }),
    tensors: z
      .object({
        added: z.array(TensorBrief),
        removed: z.array(TensorBrief),
        reshaped: z.array(z.object({ name: z.string(), from: TensorBrief, to: TensorBrief })),
        bytesChanged: z.array(z.string()).describe('same dtype and shape, another storage CRC-32 or size'),
        unknown: z.array(z.string()).describe('no storage checksum (not a zip)'),
      })
      .describe('each list holds at most 500 entries; counts are whole'),
    parameters: z.object({ from: z.number().int(), to: z.number().int(), delta: z.number().int() }),
    verdict: z.object({ from: Verdict, to: Verdict, changed: z.boolean() }),
    weightsOnly: z
      .array(z.object({ torch: z.string(), from: z.boolean(), to: z.boolean() }))
      .describe('torch versions whose weights_only outcome differs'),
    imports: z.object({ added: z.array(ImportBrief), removed: z.array(ImportBrief) }),
    findings: z.object({ added: z.array(FindingBrief), removed: z.array(FindingBrief) }),
    summary: z
      .array(z.string())
      .describe('what changed, most important first ("started importing posix.system")'),
  })
  .meta({ id: 'VersionDiff' });
export type VersionDiff = z.infer<typeof VersionDiff>;

export const ScanReport = z
  .record(z.string(), z.unknown())
  .describe(
    'the scan report: path, size, sha256, format, kind, verdict, summary, weightsOnly {target, safe, byVersion}, findings, imports, tensors, entries, details, stats (what `brine scan --json` prints)',
  )
  .meta({ id: 'ScanReport' });

export const DownloadLink = z.object({ path: z.string(), expiresAt: date }).meta({ id: 'DownloadLink' });

export const TagView = z
  .object({ tag: z.string(), version: z.string(), updatedAt: date })
  .meta({ id: 'Tag' });
export type TagView = z.infer<typeof TagView>;

export const TagMove = z
  .object({
    tag: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    actor: z.enum(['rule', 'latest', 'manual', 'system']),
    token: z.string().nullable().describe('the name of the token that moved it'),
    reason: z.string(),
    at: date,
  })
  .meta({ id: 'TagMove' });
export type TagMove = z.infer<typeof TagMove>;

export const BestRuleHolder = z.object({ rule: BestRule.nullable() }).meta({ id: 'BestRuleHolder' });

export const BestRuleResult = z
  .object({ rule: BestRule, best: z.string().nullable() })
  .meta({ id: 'BestRuleResult' });

export const TokenView = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(Scope),
    createdAt: date,
    lastUsedAt: date.nullable(),
    revokedAt: date.nullable(),
  })
  .meta({ id: 'Token' });
export type TokenView = z.infer<typeof TokenView>;

export const NewToken = TokenView.extend({ token: z.string().describe('the secret, shown once') }).meta({
  id: 'NewToken',
});

export const SafeGlobalView = z
  .object({ name: z.string(), note: z.string().nullable(), addedBy: z.string().nullable(), createdAt: date })
  .meta({ id: 'SafeGlobal' });
export type SafeGlobalView = z.infer<typeof SafeGlobalView>;

export const SafeGlobalChange = SafeGlobalView.extend({
  rescanning: z.number().int().describe('versions queued for a new scan'),
}).meta({ id: 'SafeGlobalChange' });

export const Rescanning = z.object({ rescanning: z.number().int() }).meta({ id: 'Rescanning' });

export const WebhookView = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(EventType),
    filter: WebhookFilter.nullable(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    secretRotating: z.boolean(),
    createdAt: date,
  })
  .meta({ id: 'Webhook' });
export type WebhookView = z.infer<typeof WebhookView>;

export const NewWebhook = WebhookView.extend({ secret: z.string().describe('whsec_…, shown once') }).meta({
  id: 'NewWebhook',
});

export const AttemptView = z
  .object({
    at: date,
    statusCode: z.number().int().nullable(),
    latencyMs: z.number(),
    error: z.string().nullable(),
    response: z.string().nullable(),
    retryAt: date.nullable(),
  })
  .meta({ id: 'Attempt' });
export type AttemptView = z.infer<typeof AttemptView>;

export const DeliveryView = z
  .object({
    id: z.string(),
    webhookId: z.string().describe('the webhook-id header: stable across retries and redeliveries'),
    event: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed', 'abandoned']),
    attemptCount: z.number().int(),
    nextAttemptAt: date.nullable(),
    createdAt: date,
    attempts: z.array(AttemptView),
  })
  .meta({ id: 'Delivery' });
export type DeliveryView = z.infer<typeof DeliveryView>;

export const Alive = z.object({ status: z.literal('ok') });

for (const s of [
  ErrorBody,
  Health,
  Verdicts,
  CheckpointSummary,
  CheckpointList,
  WeightsOnly,
  ScanView,
  TwinView,
  VersionView,
  VersionListing,
  ScanReport,
  VersionDiff,
  RetentionRule,
  RetentionPlan,
  RetentionLogEntry,
  CardPut,
  CardView,
  DownloadLink,
  TagView,
  TagMove,
  BestRule,
  BestRuleHolder,
  BestRuleResult,
  TokenView,
  NewToken,
  SafeGlobalView,
  SafeGlobalChange,
  Rescanning,
  WebhookFilter,
  WebhookCreate,
  WebhookPatch,
  WebhookView,
  NewWebhook,
  AttemptView,
  DeliveryView,
])
  api.add(s, { id: (s.meta() as { id: string }).id });
