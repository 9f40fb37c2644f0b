import { z } from 'zod';

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
