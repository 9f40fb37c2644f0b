import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to traffic:
 * - pass: forwards both ways
 * - refuse: stops listening (new connections get ECONNREFUSED) and resets the open ones
 * - drop: resets every open connection and every new one as soon as it arrives
 * - hang: accepts connections and keeps them open, but forwards nothing either way (a hung peer)
 * - slow: forwards, throttled to `bytesPerSecond` each way (a slow link: answers and request bodies alike)
 */
export type FaultMode = 'pass' | 'refuse' | 'drop' | 'hang' | 'slow';

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy in front of a real dependency (Postgres, Redis, S3) whose behaviour a test switches while requests
 * are in flight. It listens on a fixed loopback port for its whole life, so clients keep their address across a
 * `refuse` period.
 */
export class FaultProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private mode: FaultMode = 'pass';
  private bytesPerSecond = 64 * 1024;
  /** connections accepted, for tests that check a client really went through the proxy */
  connections = 0;

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
    public port: number,
  ) {}

  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    const p = new FaultProxy(target.host ?? '127.0.0.1', target.port, 0);
    await p.listen();
    return p;
  }

  /** `scheme://127.0.0.1:port` with the proxy's port, keeping the rest of a URL (user, path, query) */
  url(original: string): string {
    const u = new URL(original);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString().replace(/\/$/, '');
  }

  get current(): FaultMode {
    return this.mode;
  }

  async set(mode: FaultMode, opts: { bytesPerSecond?: number } = {}): Promise<void> {
    if (opts.bytesPerSecond) this.bytesPerSecond = opts.bytesPerSecond;
    const previous = this.mode;
    this.mode = mode;
    if (mode === 'refuse' || mode === 'drop') for (const pair of this.pairs) this.kill(pair);
    if (mode === 'hang') for (const pair of this.pairs) pair.upstream.pause();
    if (previous === 'hang' && mode !== 'hang')
      // a hung connection stays dead: a real peer that stopped answering does not resume mid-request
      for (const pair of this.pairs) this.kill(pair);
    if (mode === 'refuse' && this.server) {
      const s = this.server;
      this.server = null;
      await new Promise<void>((r) => s.close(() => r()));
    }
    if (mode !== 'refuse' && !this.server) await this.listen();
  }

  /** runs fn with the proxy in `mode`, then back to pass */
  async during<T>(mode: FaultMode, fn: () => Promise<T>): Promise<T> {
    await this.set(mode);
    try {
      return await fn();
    } finally {
      await this.set('pass');
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.kill(pair);
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private kill(pair: Pair): void {
    // a socket already ended (its answer delivered) is closed; resetting one whose shutdown is still pending
    // leaves Node waiting for that shutdown for ever at exit
    if (!pair.client.destroyed) {
      if (pair.client.writableEnded) pair.client.destroy();
      else pair.client.resetAndDestroy();
    }
    if (!pair.upstream.destroyed) pair.upstream.destroy();
    this.pairs.delete(pair);
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private accept(client: Socket): void {
    this.connections++;
    client.on('error', () => undefined);
    if (this.mode === 'drop') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const close = () => this.kill(pair);
    client.on('close', close);
    if (this.mode === 'hang') {
      upstream.on('close', close);
      return; // never forwards anything
    }
    const sent = this.forward(client, upstream);
    const answered = this.forward(upstream, client);
    client.on('end', () => void sent().then(() => upstream.end()));
    upstream.on('end', () => void answered().then(() => client.end()));
    // what a throttled answer still holds reaches the client before the connection goes
    upstream.on('close', () => void answered().then(close));
  }

  /**
   * Copies `from` to `to` as the mode says (nothing while hung; in `slow`, one chunk at a time at bytesPerSecond);
   * the function returned tells when everything received so far has been written.
   */
  private forward(from: Socket, to: Socket): () => Promise<void> {
    let queue = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'hang') return;
      if (this.mode !== 'slow') {
        to.write(chunk);
        return;
      }
      from.pause();
      const wait = Math.ceil((chunk.length / this.bytesPerSecond) * 1000);
      queue = queue.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              if (!to.destroyed) to.write(chunk);
              if (this.mode !== 'hang') from.resume();
              resolve();
            }, wait),
          ),
      );
    });
    return () => queue;
  }
}
