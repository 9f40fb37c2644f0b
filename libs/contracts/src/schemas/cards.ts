import { z } from 'zod';

/** Model cards, per checkpoint and per version. */
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
