import { z } from 'zod';
import { date } from './fields';
import { Uuid } from './common';

/** Webhooks, their deliveries and the events they receive. */
export const EVENT_TYPES = [
  'scan.unsafe',
  'scan.completed',
  'version.created',
  'version.deleted',
  'tag.moved',
] as const;

export const EventType = z.enum(EVENT_TYPES);

export type EventType = z.infer<typeof EventType>;

export const WebhookFilter = z
  .strictObject(
    {
      checkpoint: z
        .string()
        .regex(/^[A-Za-z0-9._*?-]{1,128}$/, {
          error:
            'filter.checkpoint must be a glob of checkpoint-name characters with * and ?, e.g. "resnet-*"',
        })
        .optional()
        .describe('glob on checkpoint names, e.g. resnet-*'),
      minSeverity: z
        .enum(['suspicious', 'unknown', 'dangerous'], {
          error: 'filter.minSeverity must be suspicious, unknown or dangerous',
        })
        .optional(),
    },
    {
      error: (i) =>
        i.code === 'unrecognized_keys'
          ? `unknown filter field "${i.keys[0]}"`
          : 'filter must be an object: {"checkpoint": "glob", "minSeverity": "suspicious"}',
    },
  )
  .meta({ id: 'WebhookFilter' });

export type WebhookFilter = z.infer<typeof WebhookFilter>;

const events = z
  .array(EventType, { error: `events must be a non-empty list drawn from ${EVENT_TYPES.join(', ')}` })
  .min(1, { error: `events must be a non-empty list drawn from ${EVENT_TYPES.join(', ')}` })
  .transform((e) => [...new Set(e)]);

const description = z
  .string()
  .max(500, { error: 'description must be text of at most 500 characters' })
  .nullable()
  .optional();

const url = z.string({ error: 'url is required: the http(s) address that receives events' });

/** bytes a base64 text decodes to */
function base64Bytes(b64: string): number {
  const pad = /=*$/.exec(b64)?.[0].length ?? 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

export const WebhookCreate = z
  .object({
    url,
    events,
    filter: WebhookFilter.nullable().optional(),
    secret: z
      .string()
      .refine((v) => /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(v) && base64Bytes(v.slice(6)) >= 24, {
        error:
          'secret must be "whsec_" followed by at least 24 base64-encoded random bytes (omit it to get one)',
      })
      .optional()
      .describe('whsec_… (generated when omitted)'),
    description,
  })
  .meta({ id: 'WebhookInput' });

export type WebhookCreate = z.output<typeof WebhookCreate>;

export const WebhookPatch = z
  .strictObject(
    {
      url: url.optional(),
      events: events.optional(),
      filter: WebhookFilter.nullable().optional(),
      enabled: z.boolean({ error: 'enabled must be true or false' }).optional(),
      description,
    },
    {
      error: (i) =>
        i.code === 'unrecognized_keys'
          ? `cannot change "${i.keys[0]}" (use rotate-secret for the secret)`
          : 'send the fields to change as a JSON object',
    },
  )
  .meta({ id: 'WebhookPatch' });

export type WebhookPatch = z.output<typeof WebhookPatch>;

export const RotateSecret = z.object({
  graceSeconds: z
    .number({ error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .int({ error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .min(0, { error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .max(604_800, { error: 'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)' })
    .optional()
    .transform((v) => v ?? 86_400),
});

export const DeliveryParams = z.object({ id: Uuid('webhook'), deliveryId: Uuid('delivery') });

export const WebhookView = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(EventType),
    filter: WebhookFilter.nullable(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    secretRotating: z.boolean(),
    createdAt: date,
  })
  .meta({ id: 'Webhook' });

export type WebhookView = z.infer<typeof WebhookView>;

export const NewWebhook = WebhookView.extend({ secret: z.string().describe('whsec_…, shown once') }).meta({
  id: 'NewWebhook',
});

export const AttemptView = z
  .object({
    at: date,
    statusCode: z.number().int().nullable(),
    latencyMs: z.number(),
    error: z.string().nullable(),
    response: z.string().nullable(),
    retryAt: date.nullable(),
  })
  .meta({ id: 'Attempt' });

export type AttemptView = z.infer<typeof AttemptView>;

export const DeliveryView = z
  .object({
    id: z.string(),
    webhookId: z.string().describe('the webhook-id header: stable across retries and redeliveries'),
    event: z.string(),
    checkpoint: z.string().nullable().describe('the checkpoint the event is about (null for a test event)'),
    version: z
      .string()
      .nullable()
      .describe('the version the event is about (null for a test event, or a tag removed)'),
    status: z.enum(['pending', 'succeeded', 'failed', 'abandoned']),
    attemptCount: z.number().int(),
    nextAttemptAt: date.nullable(),
    createdAt: date,
    attempts: z.array(AttemptView),
  })
  .meta({ id: 'Delivery' });

export type DeliveryView = z.infer<typeof DeliveryView>;
