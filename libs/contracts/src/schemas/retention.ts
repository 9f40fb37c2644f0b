import { z } from 'zod';

/** Retention rules, their dry run and the audit log. */
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
