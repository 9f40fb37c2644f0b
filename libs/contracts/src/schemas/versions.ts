import { z } from 'zod';
import type { WeightsOnlyReport } from '@brine/scanner/report';
import { bool, date, gitCommitField, limit, lineageFilters, offset, parentField, shown } from './fields';
import { Verdict, jsonbProblem, metricsSchema, protoKeyMessage, protoKeyPath } from './common';
import { CheckpointSummary } from './checkpoints';

/** Versions: uploads (their headers), listings, files and download links, scans, twins and reports. */
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
  'x-brine-parent': parentField('x-brine-parent')
    .optional()
    .describe(
      'lineage: the version this one was trained from (VERSION, NAME:VERSION or NAME/VERSION); it must exist',
    ),
  'x-brine-git-commit': gitCommitField('x-brine-git-commit')
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

export const LINEAGE_FILTERS = ['parent', 'gitCommit', 'dataset', 'runUrl'] as const;

export const VersionsQuery = z.object({
  limit: limit(50, 500),
  offset,
  ...lineageFilters,
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

export const MetricsPatch = z.object(
  {
    metrics: metricsSchema('metrics').describe('numbers to set; null removes a metric'),
  },
  { error: 'send {"metrics": {"name": number | null, …}} as application/json' },
);

export const DownloadLinkRequest = z.object({
  acknowledgeRisk: z.boolean({ error: 'acknowledgeRisk must be true or false' }).optional(),
});

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
    links: z.object({
      self: z.string(),
      report: z.string(),
      file: z.string(),
      children: z
        .string()
        .describe(
          "the search for this version's children, in every checkpoint (/checkpoints?parent=NAME:VERSION)",
        ),
    }),
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

export const CheckpointList = z
  .object({
    items: z.array(CheckpointSummary),
    next: z.string().nullable().describe('pass as ?after= for the next page'),
    matches: z
      .array(VersionView)
      .nullable()
      .describe(
        'with a lineage filter (parent, gitCommit, dataset, runUrl): the versions it matched in the checkpoints of this page, newest first (at most 500); null without one',
      ),
  })
  .meta({ id: 'CheckpointList' });

export type CheckpointList = z.infer<typeof CheckpointList>;

export const VersionListing = z
  .object({
    checkpoint: CheckpointSummary,
    versions: z.array(VersionView),
    next: z.number().int().nullable().describe('pass as ?offset= for the next page'),
  })
  .meta({ id: 'VersionListing' });

export type VersionListing = z.infer<typeof VersionListing>;

export const ScanReport = z
  .record(z.string(), z.unknown())
  .describe(
    'the scan report: path, size, sha256, format, kind, verdict, summary, weightsOnly {target, safe, byVersion}, findings, imports, tensors, entries, details, stats (what `brine scan --json` prints)',
  )
  .meta({ id: 'ScanReport' });

export const DownloadLink = z.object({ path: z.string(), expiresAt: date }).meta({ id: 'DownloadLink' });

export const Rescanning = z.object({ rescanning: z.number().int() }).meta({ id: 'Rescanning' });
