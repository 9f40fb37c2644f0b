import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthService, TelemetryService } from '@brine/registry';

/**
 * A worker process's own small HTTP server, for probes and scrapes (the worker serves no API): /health/live (the
 * process answers), /health/ready (Postgres, Redis and the object store answer) and /metrics (Prometheus).
 */
export async function startHealthServer(
  health: HealthService,
  telemetry: TelemetryService,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const fail = (e: unknown) =>
      send(500, 'application/json', JSON.stringify({ error: (e as Error).message }));
    if (req.method !== 'GET') return send(405, 'application/json', '{"error":"GET only"}');
    if (path === '/health/live') return send(200, 'application/json', '{"status":"ok"}');
    if (path === '/health/ready' || path === '/health')
      return void health
        .check()
        .then((r) => send(r.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(r)))
        .catch(fail);
    if (path === '/metrics')
      return void telemetry
        .scrape()
        .then((m) => send(200, m.contentType, m.body))
        .catch(fail);
    send(404, 'application/json', '{"error":"not found: /health/live, /health/ready or /metrics"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
