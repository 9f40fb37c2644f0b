import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Stack } from './stack';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A real webhook receiver on loopback. `respond` decides each answer (status, headers, or to hold the request
 * open); every request is recorded with its raw body for signature checks.
 */
export async function startReceiver(
  respond: (
    r: Received,
    n: number,
  ) => { status: number; headers?: Record<string, string>; hold?: boolean } = () => ({ status: 204 }),
): Promise<{
  url: string;
  received: Received[];
  held: ServerResponse[];
  setRespond(fn: typeof respond): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  let handler = respond;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(r);
      const answer = handler(r, received.length);
      if (answer.hold) {
        held.push(res);
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    held,
    setRespond(fn) {
      handler = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const h of held) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Created {
  id: string;
  secret: string;
}

/** subscribes a receiver through the API; the answer carries the signing secret */
export async function subscribe(s: Stack, body: Record<string, unknown>): Promise<Created> {
  const r = await s.api('/webhooks', { method: 'POST', json: body });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()) as Created;
}

/** checks a delivery's signature with the standard-webhooks verifier and returns the event */
export function verify(secret: string, r: Received): { type: string; data: Record<string, unknown> } {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as { type: string; data: Record<string, unknown> };
}
