import { z } from 'zod';
import { date, shown } from './fields';

/** The scan policy: globals an admin declared safe. */
export const GlobalName = z
  .string()
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/, {
    error: (i) =>
      `a safe global must be a dotted name like "argparse.Namespace"; got ${shown(String(i.input))}`,
  })
  .describe('a dotted name as add_safe_globals keys it, e.g. argparse.Namespace');

export const SafeGlobalPut = z.object({
  note: z.string().max(500, { error: 'note must be text of at most 500 characters' }).nullable().optional(),
});

export const SafeGlobalView = z
  .object({ name: z.string(), note: z.string().nullable(), addedBy: z.string().nullable(), createdAt: date })
  .meta({ id: 'SafeGlobal' });

export type SafeGlobalView = z.infer<typeof SafeGlobalView>;

export const SafeGlobalChange = SafeGlobalView.extend({
  rescanning: z.number().int().describe('versions queued for a new scan'),
}).meta({ id: 'SafeGlobalChange' });
