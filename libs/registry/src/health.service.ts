import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ObjectStore } from '@brine/storage';
import { REDIS_PRODUCER } from '@brine/runtime';

export interface Check {
  ok: boolean;
  ms: number;
  error?: string;
}

async function timed(fn: () => Promise<unknown>, timeoutMs = 3000): Promise<Check> {
  const t = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
      ),
    ]);
    return { ok: true, ms: Date.now() - t };
  } catch (e) {
    return { ok: false, ms: Date.now() - t, error: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class HealthService {
  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    @Inject(REDIS_PRODUCER) private readonly redis: Redis,
  ) {}

  async check(): Promise<{
    status: 'ok' | 'unavailable';
    checks: Record<'postgres' | 'redis' | 's3', Check>;
  }> {
    const [postgres, redis, s3] = await Promise.all([
      timed(() => this.db.query('SELECT 1')),
      timed(() => this.redis.ping()),
      timed(() => this.store.ping()),
    ]);
    const checks = { postgres, redis, s3 };
    return { status: postgres.ok && redis.ok && s3.ok ? 'ok' : 'unavailable', checks };
  }
}
