import { z } from 'zod';
import { date } from './fields';

/** API tokens and their scopes. */
export const Scope = z.enum(['read', 'write', 'admin']);

export type Scope = z.infer<typeof Scope>;

export const TokenCreate = z.object({
  name: z
    .string({ error: 'name must be 1-64 letters, digits, ".", "_" or "-"' })
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'name must be 1-64 letters, digits, ".", "_" or "-"' }),
  scopes: z
    .array(Scope, { error: 'scopes must be a non-empty list drawn from read, write, admin' })
    .min(1, { error: 'scopes must be a non-empty list drawn from read, write, admin' })
    .transform((s) => [...new Set(s)]),
});

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
