import { z } from 'zod';
import { GIT_COMMIT_PATTERN, PARENT_RULE, parentRef } from '../names';

/** Field shapes the resources share but the package does not export: query limits, offsets, booleans, dates. */
export const shown = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);

export const limit = (fallback: number, max: number) =>
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

export const offset = z
  .string()
  .regex(/^\d+$/, { error: 'offset must be a whole number' })
  .transform(Number)
  .optional()
  .transform((v) => v ?? 0);

export const bool = (what: string) =>
  z
    .enum(['true', 'false'], { error: `${what} must be true or false` })
    .optional()
    .transform((v) => v === 'true');

export const date = z.string().describe('ISO 8601 date-time');

/** a lineage parent, written VERSION, NAME:VERSION or NAME/VERSION: parsed into its checkpoint and version */
export function parentField(what: string) {
  return z.string().transform((v, ctx) => {
    const ref = parentRef(v);
    if (!ref) {
      ctx.addIssue({ code: 'custom', message: `${what} must be ${PARENT_RULE}; got ${shown(v)}` });
      return z.NEVER;
    }
    return ref;
  });
}

/** a git commit: 7 to 64 hexadecimal digits, lowercased */
export function gitCommitField(what: string) {
  return z
    .string()
    .regex(GIT_COMMIT_PATTERN, {
      error: (i) =>
        `${what} must be 7 to 64 hexadecimal digits (a short SHA needs at least 7); got ${shown(String(i.input))}`,
    })
    .transform((v) => v.toLowerCase());
}

/** the lineage filters of the version listing and of the checkpoint search */
export const lineageFilters = {
  parent: parentField('parent')
    .optional()
    .describe(`only versions with this lineage parent, written ${PARENT_RULE}`),
  gitCommit: gitCommitField('gitCommit')
    .optional()
    .describe(
      'only versions trained from this git commit: 7 to 64 hexadecimal digits; a short SHA matches the full one (and a full one a short SHA given at upload)',
    ),
  dataset: z.string().max(256).optional().describe('only versions trained on this dataset'),
  runUrl: z.string().max(2048).optional().describe('only versions of this training run'),
};
