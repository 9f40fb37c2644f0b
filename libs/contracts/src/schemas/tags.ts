import { z } from 'zod';
import { date } from './fields';
import { MetricName, VersionName } from './common';

/** Tags, their history and the best rule. */
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

export const TagView = z
  .object({
    tag: z.string(),
    version: z.string(),
    updatedAt: date,
    pinned: z
      .boolean()
      .describe(
        'best moved by hand: the best rule leaves it there until the rule is set again (PUT …/best-rule) or the tag is deleted',
      ),
  })
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
    deletedByRetention: z
      .object({ from: z.boolean(), to: z.boolean() })
      .describe(
        'whether a retention rule has deleted the from / to version since the move (see …/retention/log)',
      ),
  })
  .meta({ id: 'TagMove' });

export type TagMove = z.infer<typeof TagMove>;

export const BestRuleHolder = z.object({ rule: BestRule.nullable() }).meta({ id: 'BestRuleHolder' });

export const BestRuleResult = z
  .object({ rule: BestRule, best: z.string().nullable() })
  .meta({ id: 'BestRuleResult' });
