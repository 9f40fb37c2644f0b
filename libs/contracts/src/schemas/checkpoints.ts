import { z } from 'zod';
import { date, limit, lineageFilters } from './fields';
import { CheckpointName } from './common';

/** Checkpoints: listing, searching and their summaries. */
export const ListCheckpointsQuery = z.object({
  q: z.string().max(128).optional().describe('name contains'),
  verdict: z.enum(['safe', 'suspicious', 'dangerous', 'unknown', 'pending']).optional(),
  limit: limit(50, 500),
  after: CheckpointName.optional().describe('the last name of the previous page'),
  ...lineageFilters,
});

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
