/**
 * The OpenAPI document of Brine's HTTP API. Written by hand, and kept in step with the routes by a test that
 * compares it with what Nest registers (test/api/openapi.test.ts).
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description: string): Json => ({
  description,
  content: { 'application/json': { schema } },
});
const err = (description: string): Json => json(ref('Error'), description);

const name: Json = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'checkpoint name',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
};
const version: Json = {
  name: 'version',
  in: 'path',
  required: true,
  description: 'version name',
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
};
const tag: Json = {
  name: 'tag',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z0-9._-]{1,64}$' },
};
const id = (what: string): Json => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `${what} id`,
  schema: { type: 'string', format: 'uuid' },
});

const authErrors: Json = {
  '401': err('missing, unknown or revoked token'),
  '403': err('the token lacks the scope this route needs'),
};
const notFound: Json = { '404': err('no such checkpoint, version or tag') };

const acknowledgeRisk: Json = {
  name: 'acknowledgeRisk',
  in: 'query',
  description: 'required (true) to download a version whose verdict is not safe',
  schema: { type: 'boolean' },
};
const rangeHeader: Json = {
  name: 'Range',
  in: 'header',
  description: 'one byte range, e.g. bytes=0-1048575',
  schema: { type: 'string' },
};
const fileResponses: Json = {
  '200': {
    description: 'the file',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
  '206': { description: 'the requested range' },
  '403': err(
    'the version is not safe and acknowledgeRisk=true was not given (or the token lacks the read scope)',
  ),
  '416': err('the range lies outside the file'),
  '401': err('missing, unknown or revoked token'),
  ...notFound,
};

export function openApiDocument(serverUrl: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Brine',
      version: '1.0.0',
      description:
        'A registry for PyTorch checkpoints. Every upload is scanned statically; the verdict says whether torch.load(..., weights_only=True) would accept it and whether anything in it could run code.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths: {
      '/health': {
        get: {
          summary: 'The same as /health/ready (kept for existing probes)',
          security: [],
          responses: {
            '200': json(ref('Health'), 'all dependencies answer'),
            '503': json(ref('Health'), 'a dependency does not answer'),
          },
        },
      },
      '/health/ready': {
        get: {
          summary: 'Readiness: Postgres, Redis and the object store answer',
          security: [],
          responses: {
            '200': json(ref('Health'), 'all dependencies answer'),
            '503': json(ref('Health'), 'a dependency does not answer'),
          },
        },
      },
      '/health/live': {
        get: {
          summary: 'Liveness: the process answers',
          security: [],
          responses: { '200': json({ type: 'object', properties: { status: { const: 'ok' } } }, 'alive') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (uploads, scans, verdicts, queues, webhook deliveries, dependencies)',
          security: [],
          responses: {
            '200': {
              description: 'the Prometheus text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/checkpoints': {
        get: {
          summary: 'List checkpoints with their version counts and verdicts',
          parameters: [
            { name: 'q', in: 'query', description: 'name contains', schema: { type: 'string' } },
            {
              name: 'verdict',
              in: 'query',
              schema: { enum: ['safe', 'suspicious', 'dangerous', 'unknown', 'pending'] },
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            },
            {
              name: 'after',
              in: 'query',
              description: 'the `next` of the previous page',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  items: { type: 'array', items: ref('CheckpointSummary') },
                  next: { type: ['string', 'null'] },
                },
              },
              'a page of checkpoints',
            ),
            '400': err('bad query parameter'),
            ...authErrors,
          },
        },
      },
      '/checkpoints/{name}': {
        get: {
          summary: 'A checkpoint and a page of its versions',
          parameters: [
            name,
            {
              name: 'sort',
              in: 'query',
              description: 'created, version, size or metrics.<metric>',
              schema: { type: 'string', default: 'created' },
            },
            { name: 'order', in: 'query', schema: { enum: ['asc', 'desc'], default: 'desc' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          ],
          responses: {
            '200': json(
              {
                type: 'object',
                properties: {
                  checkpoint: ref('CheckpointSummary'),
                  versions: { type: 'array', items: ref('Version') },
                  next: { type: ['integer', 'null'] },
                },
              },
              'the checkpoint',
            ),
            '400': err('bad name or query parameter'),
            ...authErrors,
            ...notFound,
          },
        },
      },
      '/checkpoints/{name}/{version}': {
        put: {
          summary:
            'Upload a version (scope write). The body is the raw file, streamed to the object store with its SHA-256.',
          parameters: [
            name,
            version,
            {
              name: 'x-checksum-sha256',
              in: 'header',
              description: 'hex SHA-256 of the body; a mismatch stores nothing (400)',
              schema: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
            },
            {
              name: 'x-brine-filename',
              in: 'header',
              description: 'original file name (torch 2.14 loads *.safetensors paths with safetensors)',
              schema: { type: 'string' },
            },
            { name: 'x-brine-framework-version', in: 'header', schema: { type: 'string' } },
            {
              name: 'x-brine-metadata',
              in: 'header',
              description: 'a JSON object',
              schema: { type: 'string' },
            },
            {
              name: 'x-brine-metrics',
              in: 'header',
              description: 'a JSON object of numbers, e.g. {"val_loss":0.231}',
              schema: { type: 'string' },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          responses: {
            '201': json(ref('Version'), 'stored; the scan is pending'),
            '200': json(ref('Version'), 'this version already exists with the same bytes'),
            '400': err('bad name, version, header or checksum mismatch; nothing stored'),
            '409': err('this version exists with different bytes (versions are immutable)'),
            '413': err('the body is larger than BRINE_MAX_UPLOAD_BYTES; nothing stored'),
            '415': err('the body must be application/octet-stream'),
            ...authErrors,
          },
        },
        get: {
          summary: 'A version with its scan summary',
          parameters: [name, version],
          responses: {
            '200': json(ref('Version'), 'the version'),
            '400': err('bad name or version'),
            ...authErrors,
            ...notFound,
          },
        },
        patch: {
          summary: 'Set or remove metrics (scope write); the best tag is re-evaluated',
          parameters: [name, version],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['metrics'],
                  properties: {
                    metrics: { type: 'object', additionalProperties: { type: ['number', 'null'] } },
                  },
                },
              },
            },
          },
          responses: {
            '200': json(ref('Version'), 'the updated version'),
            '400': err('metrics must be numbers'),
            ...authErrors,
            ...notFound,
          },
        },
        delete: {
          summary: 'Delete a version and its file (scope admin)',
          parameters: [name, version],
          responses: { '204': { description: 'deleted' }, ...authErrors, ...notFound },
        },
      },
      '/checkpoints/{name}/{version}/report': {
        get: {
          summary: 'The full scan report (the JSON of `brine scan --json` for one file)',
          parameters: [name, version],
          responses: {
            '200': json(ref('ScanReport'), 'the report'),
            ...authErrors,
            '404': err('no such version, or its scan has not finished'),
          },
        },
      },
      '/checkpoints/{name}/{version}/file': {
        get: {
          summary: 'Download the file',
          description:
            'Needs the Authorization header, or instead a `link` from POST …/download-link (for browsers).',
          parameters: [
            name,
            version,
            acknowledgeRisk,
            rangeHeader,
            {
              name: 'link',
              in: 'query',
              description:
                'a signed link from POST …/download-link, used in place of the Authorization header',
              schema: { type: 'string' },
            },
          ],
          responses: fileResponses,
        },
      },
      '/checkpoints/{name}/{version}/download-link': {
        post: {
          summary: 'A download link that works without the Authorization header for five minutes',
          description:
            'For browsers, which cannot put a header on a plain link. The link is signed for this token, version and acknowledgement, expires after 300 s and stops working when the token is revoked. Versions that are not safe need acknowledgeRisk: true.',
          parameters: [name, version],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { acknowledgeRisk: { type: 'boolean', default: false } },
                },
              },
            },
          },
          responses: {
            '201': json(
              {
                type: 'object',
                required: ['path', 'expiresAt'],
                properties: {
                  path: {
                    type: 'string',
                    description: 'the file route with ?link=…, relative to the registry',
                  },
                  expiresAt: { type: 'string', format: 'date-time' },
                },
              },
              'the link',
            ),
            ...authErrors,
            ...notFound,
          },
        },
      },
      '/checkpoints/{name}/{version}/rescan': {
        post: {
          summary: 'Scan the version again (scope write)',
          parameters: [name, version],
          responses: { '202': json(ref('Version'), 'queued'), ...authErrors, ...notFound },
        },
      },
      '/checkpoints/{name}/tags': {
        get: {
          summary: 'Tags of a checkpoint',
          parameters: [name],
          responses: {
            '200': json({ type: 'array', items: ref('Tag') }, 'the tags'),
            ...authErrors,
            ...notFound,
          },
        },
      },
      '/checkpoints/{name}/tag-history': {
        get: {
          summary: 'Every tag move, newest first',
          parameters: [
            name,
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            },
          ],
          responses: {
            '200': json({ type: 'array', items: ref('TagMove') }, 'the history'),
            ...authErrors,
            ...notFound,
          },
        },
      },
      '/checkpoints/{name}/tags/{tag}': {
        get: {
          summary: 'The version a tag points at',
          parameters: [name, tag],
          responses: { '200': json(ref('Version'), 'the version'), ...authErrors, ...notFound },
        },
        put: {
          summary: 'Point a tag at a version (scope write; `best` needs admin; `latest` moves by itself)',
          parameters: [name, tag],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['version'],
                  properties: { version: { type: 'string' }, reason: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            '200': json(ref('Tag'), 'moved'),
            '400': err('bad tag name or a tag the registry manages'),
            ...authErrors,
            ...notFound,
          },
        },
        delete: {
          summary: 'Delete a tag (scope write; `best` needs admin)',
          parameters: [name, tag],
          responses: {
            '204': { description: 'deleted' },
            '400': err('a tag the registry manages'),
            ...authErrors,
            ...notFound,
          },
        },
      },
      '/checkpoints/{name}/tags/{tag}/report': {
        get: {
          summary: 'The scan report of the tagged version',
          parameters: [name, tag],
          responses: { '200': json(ref('ScanReport'), 'the report'), ...authErrors, ...notFound },
        },
      },
      '/checkpoints/{name}/tags/{tag}/file': {
        get: {
          summary: 'Download the tagged version',
          parameters: [name, tag, acknowledgeRisk, rangeHeader],
          responses: fileResponses,
        },
      },
      '/checkpoints/{name}/best-rule': {
        get: {
          summary: 'The rule that moves `best`',
          parameters: [name],
          responses: {
            '200': json(
              { type: 'object', properties: { rule: { oneOf: [ref('BestRule'), { type: 'null' }] } } },
              'the rule',
            ),
            ...authErrors,
            ...notFound,
          },
        },
        put: {
          summary: 'Set the rule (scope write); existing versions are re-evaluated at once',
          parameters: [name],
          requestBody: { required: true, content: { 'application/json': { schema: ref('BestRule') } } },
          responses: {
            '200': json(
              { type: 'object', properties: { rule: ref('BestRule'), best: { type: ['string', 'null'] } } },
              'the rule and the version best now points at',
            ),
            '400': err('bad rule'),
            ...authErrors,
            ...notFound,
          },
        },
        delete: {
          summary: 'Remove the rule (scope write); `best` stays where it is',
          parameters: [name],
          responses: { '204': { description: 'removed' }, ...authErrors, ...notFound },
        },
      },
      '/tokens/me': {
        get: {
          summary: "The calling token's name and scopes",
          responses: { '200': json(ref('Token'), 'the token') },
        },
      },
      '/tokens': {
        post: {
          summary: 'Create a token (scope admin); the secret is shown once',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['name', 'scopes'],
                  properties: {
                    name: { type: 'string' },
                    scopes: { type: 'array', items: { enum: ['read', 'write', 'admin'] } },
                  },
                },
              },
            },
          },
          responses: {
            '201': json(ref('NewToken'), 'created'),
            '400': err('bad name or scopes'),
            ...authErrors,
          },
        },
        get: {
          summary: 'List tokens (scope admin)',
          responses: { '200': json({ type: 'array', items: ref('Token') }, 'the tokens'), ...authErrors },
        },
      },
      '/tokens/{id}': {
        delete: {
          summary: 'Revoke a token (scope admin)',
          parameters: [id('token')],
          responses: { '200': json(ref('Token'), 'revoked'), ...authErrors, ...notFound },
        },
      },
      '/policy/safe-globals': {
        get: {
          summary: 'Globals the operator allows, as add_safe_globals does',
          responses: { '200': json({ type: 'array', items: ref('SafeGlobal') }, 'the list'), ...authErrors },
        },
      },
      '/policy/safe-globals/{name}': {
        put: {
          summary: 'Allow a global (scope admin); versions importing it are re-scanned',
          parameters: [
            {
              name: 'name',
              in: 'path',
              required: true,
              description: 'dotted name, e.g. argparse.Namespace',
              schema: { type: 'string' },
            },
          ],
          requestBody: {
            content: {
              'application/json': { schema: { type: 'object', properties: { note: { type: 'string' } } } },
            },
          },
          responses: {
            '201': json(ref('SafeGlobal'), 'added'),
            '200': json(ref('SafeGlobal'), 'already there (note updated)'),
            '400': err('not a dotted name'),
            ...authErrors,
          },
        },
        delete: {
          summary: 'Stop allowing a global (scope admin); versions importing it are re-scanned',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': json({ type: 'object', properties: { rescanning: { type: 'integer' } } }, 'removed'),
            ...authErrors,
            ...notFound,
          },
        },
      },
      ...WEBHOOK_PATHS,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a Brine token (brine_…)' } },
      schemas: SCHEMAS,
    },
  };
}

const webhookId = id('webhook');
const deliveryId: Json = {
  name: 'deliveryId',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};

const WEBHOOK_PATHS: Json = {
  '/webhooks': {
    post: {
      summary: 'Subscribe a URL to events (scope admin); the response shows the signing secret once',
      requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookInput') } } },
      responses: {
        '201': json(ref('NewWebhook'), 'created'),
        '400': err('bad URL, events or filter; or a private address while the SSRF guard is on'),
        ...authErrors,
      },
    },
    get: {
      summary: 'List subscriptions (scope admin)',
      responses: {
        '200': json({ type: 'array', items: ref('Webhook') }, 'the subscriptions'),
        ...authErrors,
      },
    },
  },
  '/webhooks/{id}': {
    get: {
      summary: 'A subscription (scope admin)',
      parameters: [webhookId],
      responses: { '200': json(ref('Webhook'), 'the subscription'), ...authErrors, ...notFound },
    },
    patch: {
      summary: 'Update a subscription (scope admin); re-enabling clears the failure count',
      parameters: [webhookId],
      requestBody: { required: true, content: { 'application/json': { schema: ref('WebhookPatch') } } },
      responses: {
        '200': json(ref('Webhook'), 'updated'),
        '400': err('bad field'),
        ...authErrors,
        ...notFound,
      },
    },
    delete: {
      summary: 'Delete a subscription (scope admin)',
      parameters: [webhookId],
      responses: { '204': { description: 'deleted' }, ...authErrors, ...notFound },
    },
  },
  '/webhooks/{id}/rotate-secret': {
    post: {
      summary: 'Rotate the signing secret (scope admin); the old one keeps signing during the grace period',
      parameters: [webhookId],
      requestBody: {
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 604800 } },
            },
          },
        },
      },
      responses: { '200': json(ref('NewWebhook'), 'the new secret, once'), ...authErrors, ...notFound },
    },
  },
  '/webhooks/{id}/test': {
    post: {
      summary: 'Send a test event now (scope admin)',
      parameters: [webhookId],
      responses: { '202': json(ref('Delivery'), 'queued'), ...authErrors, ...notFound },
    },
  },
  '/webhooks/{id}/deliveries': {
    get: {
      summary: 'Deliveries and their attempts, newest first (scope admin)',
      parameters: [
        webhookId,
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
      ],
      responses: {
        '200': json({ type: 'array', items: ref('Delivery') }, 'the delivery log'),
        ...authErrors,
        ...notFound,
      },
    },
  },
  '/webhooks/{id}/deliveries/{deliveryId}/redeliver': {
    post: {
      summary: 'Send a delivery again with the same webhook-id (scope admin)',
      parameters: [webhookId, deliveryId],
      responses: { '202': json(ref('Delivery'), 'queued'), ...authErrors, ...notFound },
    },
  },
};

const SCHEMAS: Json = {
  Error: {
    type: 'object',
    required: ['statusCode', 'error', 'message'],
    properties: {
      statusCode: { type: 'integer' },
      error: { type: 'string' },
      message: { type: 'string', description: 'what went wrong and what to do instead' },
    },
  },
  Health: {
    type: 'object',
    properties: {
      status: { enum: ['ok', 'unavailable'] },
      checks: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { ok: { type: 'boolean' }, ms: { type: 'integer' }, error: { type: 'string' } },
        },
      },
    },
  },
  Verdicts: {
    type: 'object',
    properties: {
      safe: { type: 'integer' },
      suspicious: { type: 'integer' },
      dangerous: { type: 'integer' },
      unknown: { type: 'integer' },
      pending: { type: 'integer' },
    },
  },
  CheckpointSummary: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      createdAt: { type: 'string', format: 'date-time' },
      versions: { type: 'integer' },
      lastUpload: { type: ['string', 'null'], format: 'date-time' },
      latest: { type: ['string', 'null'] },
      best: { type: ['string', 'null'] },
      verdicts: { $ref: '#/components/schemas/Verdicts' },
    },
  },
  Version: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      version: { type: 'string' },
      sha256: { type: 'string' },
      size: { type: 'integer' },
      filename: { type: ['string', 'null'] },
      frameworkVersion: { type: ['string', 'null'] },
      metadata: { type: 'object' },
      metrics: { type: 'object', additionalProperties: { type: 'number' } },
      tags: { type: 'array', items: { type: 'string' } },
      uploadedBy: { type: ['string', 'null'], description: 'the name of the token that uploaded it' },
      createdAt: { type: 'string', format: 'date-time' },
      scan: {
        type: 'object',
        properties: {
          status: { enum: ['pending', 'scanning', 'done', 'failed'] },
          verdict: { enum: ['safe', 'suspicious', 'dangerous', 'unknown', null] },
          kind: { type: ['string', 'null'] },
          format: { type: ['string', 'null'] },
          summary: { type: ['string', 'null'] },
          weightsOnly: { type: ['object', 'null'] },
          tensors: {
            type: ['object', 'null'],
            properties: { count: { type: 'integer' }, parameters: { type: 'integer' } },
          },
          attempts: { type: 'integer' },
          error: { type: ['string', 'null'] },
          startedAt: { type: ['string', 'null'], format: 'date-time' },
          finishedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      links: {
        type: 'object',
        properties: { self: { type: 'string' }, report: { type: 'string' }, file: { type: 'string' } },
      },
    },
  },
  ScanReport: {
    type: 'object',
    description:
      'path, size, sha256, format, kind, verdict, summary, weightsOnly {target, safe, byVersion}, findings, imports, tensors, entries, details, stats',
    properties: {
      verdict: { enum: ['safe', 'suspicious', 'dangerous', 'unknown'] },
      weightsOnly: { type: 'object' },
      findings: { type: 'array', items: { type: 'object' } },
      imports: { type: 'array', items: { type: 'object' } },
      tensors: { type: 'object' },
    },
  },
  Tag: {
    type: 'object',
    properties: {
      tag: { type: 'string' },
      version: { type: 'string' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  TagMove: {
    type: 'object',
    properties: {
      tag: { type: 'string' },
      from: { type: ['string', 'null'] },
      to: { type: ['string', 'null'] },
      actor: { enum: ['rule', 'latest', 'manual', 'system'] },
      token: { type: ['string', 'null'] },
      reason: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
    },
  },
  BestRule: {
    type: 'object',
    required: ['metric', 'mode'],
    properties: { metric: { type: 'string' }, mode: { enum: ['min', 'max'] } },
  },
  Token: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      prefix: { type: 'string' },
      scopes: { type: 'array', items: { enum: ['read', 'write', 'admin'] } },
      createdAt: { type: 'string', format: 'date-time' },
      lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  NewToken: {
    allOf: [
      { $ref: '#/components/schemas/Token' },
      { type: 'object', properties: { token: { type: 'string', description: 'the secret, shown once' } } },
    ],
  },
  SafeGlobal: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      note: { type: ['string', 'null'] },
      addedBy: { type: ['string', 'null'] },
      createdAt: { type: 'string' },
    },
  },
  WebhookInput: {
    type: 'object',
    required: ['url', 'events'],
    properties: {
      url: { type: 'string', format: 'uri' },
      events: {
        type: 'array',
        items: { enum: ['scan.unsafe', 'scan.completed', 'version.created', 'version.deleted', 'tag.moved'] },
      },
      filter: {
        type: 'object',
        properties: {
          checkpoint: { type: 'string', description: 'glob on checkpoint names, e.g. resnet-*' },
          minSeverity: { enum: ['suspicious', 'unknown', 'dangerous'] },
        },
      },
      secret: { type: 'string', description: 'whsec_… (generated when omitted)' },
      description: { type: 'string' },
    },
  },
  WebhookPatch: {
    type: 'object',
    properties: {
      url: { type: 'string' },
      events: { type: 'array', items: { type: 'string' } },
      filter: { type: ['object', 'null'] },
      enabled: { type: 'boolean' },
      description: { type: 'string' },
    },
  },
  Webhook: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      url: { type: 'string' },
      events: { type: 'array', items: { type: 'string' } },
      filter: { type: ['object', 'null'] },
      description: { type: ['string', 'null'] },
      enabled: { type: 'boolean' },
      disabledReason: { type: ['string', 'null'] },
      consecutiveFailures: { type: 'integer' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
  NewWebhook: {
    allOf: [
      { $ref: '#/components/schemas/Webhook' },
      { type: 'object', properties: { secret: { type: 'string', description: 'whsec_…, shown once' } } },
    ],
  },
  Delivery: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      webhookId: {
        type: 'string',
        description: 'the webhook-id header: stable across retries and redeliveries',
      },
      event: { type: 'string' },
      status: { enum: ['pending', 'succeeded', 'failed', 'abandoned'] },
      attempts: { type: 'array', items: { type: 'object' } },
      nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
};
