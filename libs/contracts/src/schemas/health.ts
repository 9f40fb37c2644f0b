import { z } from 'zod';

/** Health checks: /health, /health/ready, /health/live. */
export const Check = z.object({ ok: z.boolean(), ms: z.number().int(), error: z.string().optional() });

export const Health = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ postgres: Check, redis: Check, s3: Check }),
  })
  .meta({ id: 'Health' });

export type Health = z.infer<typeof Health>;

export const Alive = z.object({ status: z.literal('ok') });
