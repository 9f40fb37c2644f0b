import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';

export interface DatabaseTimeouts {
  /** ms a query may take (client side, so a server that stops answering cannot hang a request) */
  queryTimeoutMs: number;
}

export const DEFAULT_DB_TIMEOUTS: DatabaseTimeouts = { queryTimeoutMs: 30_000 };

/** a connection that takes longer than this to open (a hung server or network) fails */
function connectTimeoutMs(t: DatabaseTimeouts): number {
  return Math.max(2_000, Math.floor(t.queryTimeoutMs / 5));
}

export function dataSourceOptions(
  databaseUrl: string,
  t: DatabaseTimeouts = DEFAULT_DB_TIMEOUTS,
): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    extra: {
      max: 20,
      application_name: 'brine',
      connectionTimeoutMillis: connectTimeoutMs(t),
      query_timeout: t.queryTimeoutMs,
      statement_timeout: t.queryTimeoutMs,
      idle_in_transaction_session_timeout: t.queryTimeoutMs * 2,
      keepAlive: true,
    },
  };
}

/** CREATE DATABASE raced by another process: "already exists" (42P04) or the catalog's unique key (23505) */
function alreadyExists(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === '42P04' || code === '23505';
}

/** an arbitrary constant: the advisory lock every Brine process takes to run migrations one at a time */
const MIGRATION_LOCK = 0x6272696e65;

/** Creates the database named in the URL when it does not exist yet (the server must accept the user). */
export async function ensureDatabase(
  databaseUrl: string,
  t: DatabaseTimeouts = DEFAULT_DB_TIMEOUTS,
): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) {
    throw new Error(`DATABASE_URL must name a database made of letters, digits, '_' and '-', got "${name}"`);
  }
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: connectTimeoutMs(t),
    query_timeout: t.queryTimeoutMs,
  });
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (e) {
        // another process created it meanwhile
        if (!alreadyExists(e)) throw e;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Connects and runs pending migrations — under a PostgreSQL advisory lock, so an API and several workers that
 * start together on a fresh database run them once, one after the other, instead of racing on the catalog.
 */
export async function openDatabase(
  databaseUrl: string,
  t: DatabaseTimeouts = DEFAULT_DB_TIMEOUTS,
): Promise<DataSource> {
  await ensureDatabase(databaseUrl, t);
  const ds = new DataSource(dataSourceOptions(databaseUrl, t));
  try {
    await ds.initialize();
  } catch (e) {
    if (ds.isInitialized) await ds.destroy().catch(() => undefined);
    throw e;
  }
  const lock = new Client({
    connectionString: databaseUrl,
    application_name: 'brine-migrations',
    connectionTimeoutMillis: connectTimeoutMs(t),
  });
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await ds.runMigrations({ transaction: 'each' });
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  } catch (e) {
    await ds.destroy().catch(() => undefined);
    throw e;
  } finally {
    await lock.end().catch(() => undefined);
  }
  return ds;
}
